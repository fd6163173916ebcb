#!/usr/bin/python3
"""Turn taps on the touchscreen into left clicks of a virtual absolute mouse.

Why this exists: on Debian bookworm, cage (0.1.4) forwards touch only as Wayland touch events and
foot (1.13) ignores those, so the Textual UI inside foot would never see a tap. A mouse click
does reach it (foot turns it into a terminal mouse report). This bridge grabs the touchscreen's
evdev node, so the compositor no longer sees it, and replays the first finger as an absolute
pointer (like a virtual machine's "tablet" mouse) through /dev/uinput: finger down = move there
and press the left button, finger up = release. Further fingers are ignored.

It runs with the system python3, outside the station's virtual environment, as
station-touch.service, and talks to the kernel through python-evdev (Debian's python3-evdev,
installed by install.sh): reading, grabbing and the virtual device are evdev's InputDevice and
UInput. Everything that decides what to send is a pure function or the TouchToPointer state
machine, so it is tested without a device.
"""

from __future__ import annotations

import argparse
import errno
import signal
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from evdev import AbsInfo, InputDevice, UInput, ecodes
from evdev.uinput import UInputError

EV_SYN = ecodes.EV_SYN
EV_KEY = ecodes.EV_KEY
EV_ABS = ecodes.EV_ABS
SYN_REPORT = ecodes.SYN_REPORT
SYN_DROPPED = ecodes.SYN_DROPPED
BTN_LEFT = ecodes.BTN_LEFT
BTN_TOUCH = ecodes.BTN_TOUCH
ABS_X = ecodes.ABS_X
ABS_Y = ecodes.ABS_Y
BUS_VIRTUAL = ecodes.BUS_VIRTUAL


class InputEvent(NamedTuple):
    type: int
    code: int
    value: int


class AxisRange(NamedTuple):
    minimum: int
    maximum: int


@dataclass(frozen=True)
class Geometry:
    """How touch coordinates map onto the pointer's: the panel may be mounted rotated."""

    x: AxisRange
    y: AxisRange
    rotate: int = 0
    """Clockwise degrees: 0, 90, 180 or 270."""

    def __post_init__(self) -> None:
        if self.rotate not in (0, 90, 180, 270):
            raise ValueError(f"rotate must be 0, 90, 180 or 270, not {self.rotate}")

    def output_ranges(self) -> tuple[AxisRange, AxisRange]:
        """The virtual pointer's X and Y ranges: swapped when the panel is on its side."""
        return (self.y, self.x) if self.rotate in (90, 270) else (self.x, self.y)

    def map(self, x: int, y: int) -> tuple[int, int]:
        def flip(value: int, axis: AxisRange) -> int:
            return axis.maximum + axis.minimum - value

        if self.rotate == 90:
            return flip(y, self.y), x
        if self.rotate == 180:
            return flip(x, self.x), flip(y, self.y)
        if self.rotate == 270:
            return y, flip(x, self.x)
        return x, y


@dataclass
class TouchToPointer:
    """The bridge's state machine: evdev touch frames in, pointer frames out.

    It reads the kernel's single-touch emulation (ABS_X, ABS_Y, BTN_TOUCH), which every
    multi-touch driver also reports for the first finger. A frame is acted on only at its
    SYN_REPORT, and the pointer is moved in a frame of its own before the button goes down, so
    the click lands where the finger is and not where the last one was.
    """

    geometry: Geometry
    x: int = 0
    y: int = 0
    pressed: bool = False
    _moved: bool = False
    _touch: int | None = None
    _dropping: bool = False
    _out: list[InputEvent] = field(default_factory=list)

    def feed(self, event: InputEvent) -> list[InputEvent]:
        """Take one input event; return the pointer events to write (often none)."""
        if event.type == EV_SYN and event.code == SYN_DROPPED:
            # The kernel's buffer overflowed: this frame and the rest of it are incomplete.
            self._dropping = True
            return []
        if event.type == EV_SYN and event.code == SYN_REPORT:
            return self._end_frame()
        if self._dropping:
            return []
        if event.type == EV_ABS and event.code == ABS_X and event.value != self.x:
            self.x, self._moved = event.value, True
        elif event.type == EV_ABS and event.code == ABS_Y and event.value != self.y:
            self.y, self._moved = event.value, True
        elif event.type == EV_KEY and event.code == BTN_TOUCH:
            self._touch = event.value
        return []

    def release(self) -> list[InputEvent]:
        """Events that lift the button if it is down (on shutdown or lost events)."""
        if not self.pressed:
            return []
        self.pressed = False
        return [InputEvent(EV_KEY, BTN_LEFT, 0), InputEvent(EV_SYN, SYN_REPORT, 0)]

    def _end_frame(self) -> list[InputEvent]:
        out: list[InputEvent] = []
        if self._dropping:
            # After lost events the finger's state is unknown: never leave the button held.
            self._dropping, self._moved, self._touch = False, False, None
            return self.release()
        if self._moved:
            px, py = self.geometry.map(self.x, self.y)
            out += [
                InputEvent(EV_ABS, ABS_X, px),
                InputEvent(EV_ABS, ABS_Y, py),
                InputEvent(EV_SYN, SYN_REPORT, 0),
            ]
        if self._touch == 1 and not self.pressed:
            self.pressed = True
            out += [InputEvent(EV_KEY, BTN_LEFT, 1), InputEvent(EV_SYN, SYN_REPORT, 0)]
        elif self._touch == 0:
            out += self.release()
        self._moved, self._touch = False, None
        return out


class BridgeError(Exception):
    """A device that cannot be used; the message says which and what to check."""


class _Stopped(Exception):
    """SIGTERM or SIGINT arrived: lift the button, remove the virtual device, exit."""


def touch_geometry(capabilities: Mapping[int, Sequence[Any]], path: str, rotate: int) -> Geometry:
    """Check a device reports single-touch positions and read their ranges.

    `capabilities` is what InputDevice.capabilities() returns: event type -> codes, where the
    EV_ABS entries are (code, AbsInfo) pairs.
    """
    keys = set(capabilities.get(EV_KEY, ()))
    axes = {code: info for code, info in capabilities.get(EV_ABS, ())}
    missing = [
        name
        for name, ok in (
            ("BTN_TOUCH", BTN_TOUCH in keys),
            ("ABS_X", ABS_X in axes),
            ("ABS_Y", ABS_Y in axes),
        )
        if not ok
    ]
    if missing:
        raise BridgeError(
            f"{path} is not a touchscreen this bridge can read (no {', '.join(missing)}); "
            "check which device /dev/input/station-touch points to (udevadm info)"
        )
    x, y = axes[ABS_X], axes[ABS_Y]
    return Geometry(AxisRange(x.min, x.max), AxisRange(y.min, y.max), rotate)


def pointer_capabilities(geometry: Geometry) -> dict[int, list[Any]]:
    """The virtual absolute mouse: ABS_X/ABS_Y over the (turned) ranges and a left button."""

    def axis(code: int, span: AxisRange) -> tuple[int, AbsInfo]:
        return code, AbsInfo(
            value=0, min=span.minimum, max=span.maximum, fuzz=0, flat=0, resolution=0
        )

    out_x, out_y = geometry.output_ranges()
    return {EV_KEY: [BTN_LEFT], EV_ABS: [axis(ABS_X, out_x), axis(ABS_Y, out_y)]}


def open_touchscreen(path: str) -> InputDevice:
    try:
        return InputDevice(path)
    except FileNotFoundError:
        raise BridgeError(f"cannot open touchscreen {path}: no such device") from None
    except PermissionError as exc:
        raise BridgeError(f"cannot open touchscreen {path}: {exc.strerror}") from None
    except OSError as exc:
        raise BridgeError(f"{path} is not an input event device ({exc.strerror})") from None


def create_pointer(uinput_path: str, name: str, geometry: Geometry) -> UInput:
    try:
        return UInput(
            pointer_capabilities(geometry), name=name, bustype=BUS_VIRTUAL, devnode=uinput_path
        )
    except (OSError, UInputError) as exc:
        raise BridgeError(
            f"cannot create the virtual pointer through {uinput_path}: {exc}; is the uinput "
            "module loaded (/etc/modules-load.d/station.conf) and does the service run as root?"
        ) from None


def write_events(pointer: UInput, events: Iterable[InputEvent]) -> None:
    """The frames exactly as the state machine made them (their SYN_REPORTs included)."""
    for event in events:
        pointer.write(event.type, event.code, event.value)


def run(device: str, uinput_path: str, name: str, rotate: int) -> int:
    touch = open_touchscreen(device)
    try:
        geometry = touch_geometry(touch.capabilities(absinfo=True), device, rotate)
        pointer = create_pointer(uinput_path, name, geometry)
    except BridgeError:
        touch.close()
        raise
    machine = TouchToPointer(geometry)

    def stop(_signum: int, _frame: object) -> None:
        # Raising (rather than setting a flag) interrupts the blocking read at once.
        raise _Stopped

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    touch.grab()
    print(
        f"bridging {device} ({touch.name}), x {geometry.x}, y {geometry.y}, rotate {rotate}, "
        f"to virtual pointer '{name}'",
        flush=True,
    )
    try:
        for event in touch.read_loop():
            write_events(pointer, machine.feed(InputEvent(event.type, event.code, event.value)))
    except OSError as exc:
        if exc.errno == errno.ENODEV:
            print(f"{device} was unplugged", file=sys.stderr, flush=True)
            return 1
        raise
    except _Stopped:
        return 0
    finally:
        write_events(pointer, machine.release())
        pointer.close()
        touch.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("device", help="evdev node, e.g. /dev/input/station-touch")
    parser.add_argument("--rotate", type=int, default=0, choices=(0, 90, 180, 270))
    parser.add_argument("--uinput", default="/dev/uinput")
    parser.add_argument("--name", default="station touch pointer")
    args = parser.parse_args(argv)
    try:
        return run(args.device, args.uinput, args.name, args.rotate)
    except BridgeError as exc:
        print(f"touchpointer: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
