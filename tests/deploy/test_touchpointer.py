"""The touch bridge (deploy/kiosk/touchpointer.py): taps in, clicks out.

The state machine is tested with event sequences as a touchscreen driver sends them; the
device side goes through python-evdev. What a device must offer and what the virtual pointer
offers are checked on evdev's own capability records; a real file that is not an input device
is refused clearly. With /dev/uinput (a Pi, a VM with the uinput module; not a CI container)
a virtual touchscreen made with evdev is bridged end to end.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from .conftest import DEPLOY

evdev = pytest.importorskip("evdev", reason="python-evdev is not installed (pip install evdev)")


def load_bridge() -> ModuleType:
    spec = importlib.util.spec_from_file_location("touchpointer", DEPLOY / "kiosk/touchpointer.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["touchpointer"] = module
    spec.loader.exec_module(module)
    return module


tp = load_bridge()
E = tp.InputEvent
SYN = E(tp.EV_SYN, tp.SYN_REPORT, 0)
GEOMETRY = tp.Geometry(tp.AxisRange(0, 4095), tp.AxisRange(0, 4095))


def frame(*events: tuple[int, int, int]) -> list[object]:
    return [E(*e) for e in events] + [SYN]


def touch_down(x: int, y: int) -> list[object]:
    return frame((tp.EV_KEY, tp.BTN_TOUCH, 1), (tp.EV_ABS, tp.ABS_X, x), (tp.EV_ABS, tp.ABS_Y, y))


def touch_move(x: int, y: int) -> list[object]:
    return frame((tp.EV_ABS, tp.ABS_X, x), (tp.EV_ABS, tp.ABS_Y, y))


def touch_up() -> list[object]:
    return frame((tp.EV_KEY, tp.BTN_TOUCH, 0))


def feed_all(machine: object, events: list[object]) -> list[object]:
    return [out for event in events for out in machine.feed(event)]  # type: ignore[attr-defined]


def test_a_tap_moves_the_pointer_first_then_clicks() -> None:
    machine = tp.TouchToPointer(GEOMETRY)

    out = feed_all(machine, touch_down(1000, 2000) + touch_up())

    assert out == [
        E(tp.EV_ABS, tp.ABS_X, 1000),
        E(tp.EV_ABS, tp.ABS_Y, 2000),
        SYN,
        E(tp.EV_KEY, tp.BTN_LEFT, 1),
        SYN,
        E(tp.EV_KEY, tp.BTN_LEFT, 0),
        SYN,
    ]
    assert not machine.pressed


def test_nothing_is_sent_before_the_frame_ends() -> None:
    machine = tp.TouchToPointer(GEOMETRY)

    out = feed_all(machine, touch_down(10, 20)[:-1])

    assert out == []


def test_a_drag_moves_the_pressed_pointer_and_releases_where_the_finger_left() -> None:
    machine = tp.TouchToPointer(GEOMETRY)
    feed_all(machine, touch_down(100, 100))

    moved = feed_all(machine, touch_move(150, 100))
    lifted = feed_all(machine, frame((tp.EV_ABS, tp.ABS_X, 160), (tp.EV_KEY, tp.BTN_TOUCH, 0)))

    assert moved == [E(tp.EV_ABS, tp.ABS_X, 150), E(tp.EV_ABS, tp.ABS_Y, 100), SYN]
    assert lifted == [
        E(tp.EV_ABS, tp.ABS_X, 160),
        E(tp.EV_ABS, tp.ABS_Y, 100),
        SYN,
        E(tp.EV_KEY, tp.BTN_LEFT, 0),
        SYN,
    ]


def test_a_second_tap_at_the_same_place_clicks_without_moving() -> None:
    machine = tp.TouchToPointer(GEOMETRY)
    feed_all(machine, touch_down(5, 5) + touch_up())

    out = feed_all(machine, touch_down(5, 5))

    assert out == [E(tp.EV_KEY, tp.BTN_LEFT, 1), SYN]


def test_multitouch_events_of_other_fingers_are_ignored() -> None:
    machine = tp.TouchToPointer(GEOMETRY)
    second_finger = frame(
        (tp.EV_ABS, 0x2F, 1),  # ABS_MT_SLOT
        (tp.EV_ABS, 0x39, 7),  # ABS_MT_TRACKING_ID
        (tp.EV_ABS, 0x35, 3000),  # ABS_MT_POSITION_X
        (tp.EV_ABS, 0x36, 3000),  # ABS_MT_POSITION_Y
        (tp.EV_KEY, 0x14D, 1),  # BTN_TOOL_DOUBLETAP
    )
    feed_all(machine, touch_down(100, 200))

    assert feed_all(machine, second_finger) == []
    assert machine.pressed


def test_lost_events_never_leave_the_button_held() -> None:
    machine = tp.TouchToPointer(GEOMETRY)
    feed_all(machine, touch_down(100, 200))

    dropped = [
        E(tp.EV_ABS, tp.ABS_X, 300),
        E(tp.EV_SYN, tp.SYN_DROPPED, 0),
        E(tp.EV_ABS, tp.ABS_Y, 9),
        SYN,
    ]

    out = feed_all(machine, dropped)

    assert out == [E(tp.EV_KEY, tp.BTN_LEFT, 0), SYN]
    assert not machine.pressed
    assert feed_all(machine, touch_up()) == []


def test_release_on_shutdown_only_when_pressed() -> None:
    machine = tp.TouchToPointer(GEOMETRY)
    assert machine.release() == []
    feed_all(machine, touch_down(1, 1))

    assert machine.release() == [E(tp.EV_KEY, tp.BTN_LEFT, 0), SYN]
    assert machine.release() == []


@pytest.mark.parametrize(
    ("rotate", "expected", "ranges"),
    [
        (0, (100, 50), ((0, 1023), (0, 599))),
        (90, (549, 100), ((0, 599), (0, 1023))),
        (180, (923, 549), ((0, 1023), (0, 599))),
        (270, (50, 923), ((0, 599), (0, 1023))),
    ],
)
def test_rotation_maps_corners_onto_the_turned_screen(
    rotate: int, expected: tuple[int, int], ranges: tuple[tuple[int, int], ...]
) -> None:
    geometry = tp.Geometry(tp.AxisRange(0, 1023), tp.AxisRange(0, 599), rotate)

    assert geometry.map(100, 50) == expected
    assert tuple(tuple(r) for r in geometry.output_ranges()) == ranges


def test_rotation_other_than_quarter_turns_is_refused() -> None:
    with pytest.raises(ValueError, match="rotate must be 0, 90, 180 or 270"):
        tp.Geometry(tp.AxisRange(0, 1), tp.AxisRange(0, 1), 45)


@given(
    x=st.integers(0, 4095),
    y=st.integers(100, 2000),
    rotate=st.sampled_from([0, 90, 180, 270]),
)
def test_mapped_points_stay_inside_the_pointer_ranges(x: int, y: int, rotate: int) -> None:
    geometry = tp.Geometry(tp.AxisRange(0, 4095), tp.AxisRange(100, 2000), rotate)
    out_x, out_y = geometry.output_ranges()

    px, py = geometry.map(x, y)

    assert out_x.minimum <= px <= out_x.maximum
    assert out_y.minimum <= py <= out_y.maximum


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 0x2FF), st.integers(-5, 5000))))
def test_any_event_stream_yields_well_formed_pointer_frames(
    raw: list[tuple[int, int, int]],
) -> None:
    """Whatever a device sends, every output frame ends in SYN_REPORT and clicks alternate."""
    machine = tp.TouchToPointer(GEOMETRY)
    out = feed_all(machine, [E(*r) for r in raw]) + machine.release()

    assert not out or out[-1] == SYN
    buttons = [e.value for e in out if e.type == tp.EV_KEY]
    assert all(e.code == tp.BTN_LEFT for e in out if e.type == tp.EV_KEY)
    assert buttons == [1, 0] * (len(buttons) // 2)


def absinfo(low: int, high: int) -> object:
    return evdev.AbsInfo(value=0, min=low, max=high, fuzz=0, flat=0, resolution=0)


def test_a_touchscreen_gives_its_ranges() -> None:
    caps = {
        tp.EV_KEY: [tp.BTN_TOUCH, 0x145],
        tp.EV_ABS: [(tp.ABS_X, absinfo(0, 1023)), (tp.ABS_Y, absinfo(10, 599))],
    }

    geometry = tp.touch_geometry(caps, "/dev/input/event3", 90)

    assert geometry == tp.Geometry(tp.AxisRange(0, 1023), tp.AxisRange(10, 599), 90)


def test_a_device_without_single_touch_is_refused_naming_what_is_missing() -> None:
    mouse = {tp.EV_KEY: [tp.BTN_LEFT], evdev.ecodes.EV_REL: [evdev.ecodes.REL_X]}

    with pytest.raises(tp.BridgeError, match=r"no BTN_TOUCH, ABS_X, ABS_Y"):
        tp.touch_geometry(mouse, "/dev/input/event0", 0)


def test_the_virtual_pointer_is_an_absolute_mouse_over_the_turned_ranges() -> None:
    geometry = tp.Geometry(tp.AxisRange(0, 1023), tp.AxisRange(0, 599), 270)

    caps = tp.pointer_capabilities(geometry)

    assert caps[tp.EV_KEY] == [tp.BTN_LEFT]
    axes = dict(caps[tp.EV_ABS])
    assert (axes[tp.ABS_X].min, axes[tp.ABS_X].max) == (0, 599)
    assert (axes[tp.ABS_Y].min, axes[tp.ABS_Y].max) == (0, 1023)
    assert tp.BTN_TOUCH not in caps[tp.EV_KEY]  # not a touchscreen again: foot would ignore it


def test_without_uinput_the_error_says_to_load_the_module(tmp_path: Path) -> None:
    geometry = tp.Geometry(tp.AxisRange(0, 1), tp.AxisRange(0, 1))

    with pytest.raises(tp.BridgeError, match="uinput module loaded"):
        tp.create_pointer(str(tmp_path / "uinput"), "x", geometry)


def test_a_tap_on_a_virtual_touchscreen_comes_out_as_a_click(tmp_path: Path) -> None:
    if not os.access("/dev/uinput", os.W_OK):
        pytest.skip("no writable /dev/uinput here (load the uinput module, run as root)")
    caps = {
        tp.EV_KEY: [tp.BTN_TOUCH],
        tp.EV_ABS: [(tp.ABS_X, absinfo(0, 4095)), (tp.ABS_Y, absinfo(0, 4095))],
    }
    with evdev.UInput(caps, name="test touchscreen") as screen:
        time.sleep(0.5)  # udev makes the node
        bridge = subprocess.Popen(
            [sys.executable, str(DEPLOY / "kiosk/touchpointer.py"), screen.device.path],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert bridge.stdout is not None
            assert "bridging" in bridge.stdout.readline()
            pointer = next(
                evdev.InputDevice(path)
                for path in evdev.list_devices()
                if evdev.InputDevice(path).name == "station touch pointer"
            )
            for event in touch_down(1000, 2000) + touch_up():
                screen.write(event.type, event.code, event.value)
            seen = []
            for event in pointer.read_loop():
                seen.append(event)
                if sum(e.type == tp.EV_KEY for e in seen) == 2:
                    break
            keys = [(e.code, e.value) for e in seen if e.type == tp.EV_KEY]
            assert keys == [(tp.BTN_LEFT, 1), (tp.BTN_LEFT, 0)]
            assert (tp.ABS_X, 1000) in [(e.code, e.value) for e in seen if e.type == tp.EV_ABS]
        finally:
            bridge.terminate()
            bridge.wait(timeout=10)


def test_a_missing_device_is_reported_not_raised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = tp.main([str(tmp_path / "nothing")])

    assert code == 2
    assert "cannot open touchscreen" in capsys.readouterr().err


def test_a_file_that_is_not_an_input_device_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    not_evdev = tmp_path / "event0"
    not_evdev.write_bytes(b"")

    code = tp.main([str(not_evdev)])

    assert code == 2
    assert "is not an input event device" in capsys.readouterr().err
