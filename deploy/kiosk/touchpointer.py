#!/usr/bin/python3
"""Turn taps on the touchscreen into left clicks of a virtual absolute mouse.

Why this exists: on Debian bookworm, cage (0.1.4) forwards touch only as Wayland touch events and
foot (1.13) ignores those, so the Textual UI inside foot would never see a tap. A mouse click
does reach it (foot turns it into a terminal mouse report). This bridge grabs the touchscreen's
evdev node, so the compositor no longer sees it, and replays the first finger as an absolute
pointer (like a virtual machine's "tablet" mouse) through /dev/uinput: finger down = move there
and press the left button, finger up = release. Further fingers are ignored.

It uses only the standard library and runs with the system python3, outside the station's
virtual environment, as station-touch.service. Everything that decides what to send is a pure
function or the TouchToPointer state machine, so it is tested without a device.
"""

from __future__ import annotations

import argparse
import errno
import fcntl
import os
import signal
import struct
import sys
from dataclasses import dataclass, field
from typing import NamedTuple

# Event types and codes from linux/input-event-codes.h.
EV_SYN = 0x00
EV_KEY = 0x01
EV_ABS = 0x03
SYN_REPORT = 0
SYN_DROPPED = 3
BTN_LEFT = 0x110
BTN_TOUCH = 0x14A
ABS_X = 0x00
ABS_Y = 0x01
ABS_CNT = 0x40
KEY_CNT = 0x300
BUS_VIRTUAL = 0x06

# struct input_event: a struct timeval (two C longs, 4 or 8 bytes each) then type, code, value.
EVENT = struct.Struct("@llHHi")
# struct uinput_user_dev: name[80], struct input_id, ff_effects_max, absmax/min/fuzz/flat[64].
UINPUT_USER_DEV = struct.Struct(f"=80sHHHHI{ABS_CNT}i{ABS_CNT}i{ABS_CNT}i{ABS_CNT}i")
# struct input_absinfo: value, minimum, maximum, fuzz, flat, resolution.
ABSINFO = struct.Struct("=6i")


def ioc(direction: int, kind: str, number: int, size: int) -> int:
    """The _IOC() macro of asm-generic/ioctl.h (the layout used by arm, arm64 and x86)."""
    return (direction << 30) | (size << 16) | (ord(kind) << 8) | number


IOC_WRITE = 1
IOC_READ = 2
EVIOCGRAB = ioc(IOC_WRITE, "E", 0x90, 4)
UI_DEV_CREATE = ioc(0, "U", 1, 0)
UI_DEV_DESTROY = ioc(0, "U", 2, 0)
UI_SET_EVBIT = ioc(IOC_WRITE, "U", 100, 4)
UI_SET_KEYBIT = ioc(IOC_WRITE, "U", 101, 4)
UI_SET_ABSBIT = ioc(IOC_WRITE, "U", 103, 4)


def eviocgname(length: int) -> int:
    return ioc(IOC_READ, "E", 0x06, length)


def eviocgbit(event_type: int, length: int) -> int:
    return ioc(IOC_READ, "E", 0x20 + event_type, length)


def eviocgabs(axis: int) -> int:
    return ioc(IOC_READ, "E", 0x40 + axis, ABSINFO.size)


class InputEvent(NamedTuple):
    type: int
    code: int
    value: int


def decode_events(data: bytes) -> list[InputEvent]:
    """Split what read() returned from an evdev node; a trailing partial event is dropped."""
    usable = len(data) - len(data) % EVENT.size
    return [InputEvent(t, c, v) for _sec, _usec, t, c, v in EVENT.iter_unpack(data[:usable])]


def encode_events(events: list[InputEvent]) -> bytes:
    """Events for /dev/uinput; the kernel stamps the time itself, so it is left zero."""
    return b"".join(EVENT.pack(0, 0, e.type, e.code, e.value) for e in events)


def has_bit(bitmap: bytes, bit: int) -> bool:
    """Read one bit of an EVIOCGBIT answer (a little-endian array of longs, so bytewise)."""
    index = bit // 8
    return index < len(bitmap) and bool(bitmap[index] >> (bit % 8) & 1)


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


def read_geometry(fd: int, path: str, rotate: int) -> Geometry:
    """Check the touchscreen reports single-touch positions and read their ranges."""
    try:
        keys = fcntl.ioctl(fd, eviocgbit(EV_KEY, KEY_CNT // 8), bytes(KEY_CNT // 8))
        axes = fcntl.ioctl(fd, eviocgbit(EV_ABS, ABS_CNT // 8), bytes(ABS_CNT // 8))
    except OSError as exc:
        raise BridgeError(f"{path} is not an input event device ({exc.strerror})") from None
    missing = [
        name
        for name, ok in (
            ("BTN_TOUCH", has_bit(keys, BTN_TOUCH)),
            ("ABS_X", has_bit(axes, ABS_X)),
            ("ABS_Y", has_bit(axes, ABS_Y)),
        )
        if not ok
    ]
    if missing:
        raise BridgeError(
            f"{path} is not a touchscreen this bridge can read (no {', '.join(missing)}); "
            "check which device /dev/input/station-touch points to (udevadm info)"
        )
    ranges = []
    for axis in (ABS_X, ABS_Y):
        _value, low, high, *_ = ABSINFO.unpack(
            fcntl.ioctl(fd, eviocgabs(axis), bytes(ABSINFO.size))
        )
        ranges.append(AxisRange(low, high))
    return Geometry(ranges[0], ranges[1], rotate)


def create_pointer(uinput_path: str, name: str, geometry: Geometry) -> int:
    """Create the virtual absolute mouse: ABS_X/ABS_Y and a left button, no touch bits."""
    try:
        fd = os.open(uinput_path, os.O_WRONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise BridgeError(
            f"cannot open {uinput_path}: {exc.strerror}; is the uinput module loaded "
            "(/etc/modules-load.d/station.conf) and does the service run as root?"
        ) from None
    for event_type in (EV_SYN, EV_KEY, EV_ABS):
        fcntl.ioctl(fd, UI_SET_EVBIT, event_type)
    fcntl.ioctl(fd, UI_SET_KEYBIT, BTN_LEFT)
    absmax = [0] * ABS_CNT
    absmin = [0] * ABS_CNT
    out_x, out_y = geometry.output_ranges()
    for axis, axis_range in ((ABS_X, out_x), (ABS_Y, out_y)):
        fcntl.ioctl(fd, UI_SET_ABSBIT, axis)
        absmin[axis], absmax[axis] = axis_range
    setup = UINPUT_USER_DEV.pack(
        name.encode()[:79], BUS_VIRTUAL, 0, 0, 1, 0, *absmax, *absmin, *[0] * (2 * ABS_CNT)
    )
    os.write(fd, setup)
    fcntl.ioctl(fd, UI_DEV_CREATE)
    return fd


def run(device: str, uinput_path: str, name: str, rotate: int) -> int:
    try:
        touch_fd = os.open(device, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise BridgeError(f"cannot open touchscreen {device}: {exc.strerror}") from None
    geometry = read_geometry(touch_fd, device, rotate)
    label = fcntl.ioctl(touch_fd, eviocgname(256), bytes(256)).split(b"\0", 1)[0]
    pointer_fd = create_pointer(uinput_path, name, geometry)
    machine = TouchToPointer(geometry)

    def stop(_signum: int, _frame: object) -> None:
        # Raising (rather than setting a flag) interrupts the blocking read at once.
        raise _Stopped

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    fcntl.ioctl(touch_fd, EVIOCGRAB, 1)
    print(
        f"bridging {device} ({label.decode(errors='replace')}), x {geometry.x}, "
        f"y {geometry.y}, rotate {rotate}, to virtual pointer '{name}'",
        flush=True,
    )
    try:
        while True:
            try:
                data = os.read(touch_fd, EVENT.size * 64)
            except OSError as exc:
                if exc.errno == errno.ENODEV:
                    print(f"{device} was unplugged", file=sys.stderr, flush=True)
                    return 1
                raise
            out = [ev for event in decode_events(data) for ev in machine.feed(event)]
            if out:
                os.write(pointer_fd, encode_events(out))
    except _Stopped:
        return 0
    finally:
        if machine.pressed:
            os.write(pointer_fd, encode_events(machine.release()))
        fcntl.ioctl(pointer_fd, UI_DEV_DESTROY)
        os.close(pointer_fd)
        os.close(touch_fd)


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
