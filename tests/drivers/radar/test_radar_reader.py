"""RadarReader on real pyserial against the virtual radar on a pty: the whole wire path."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from drivers.radar.ld2410 import (
    CMD_ENABLE_CONFIG,
    CMD_ENABLE_ENGINEERING,
    CMD_END_CONFIG,
    CMD_READ_FIRMWARE,
    TargetState,
    enable_config,
    end_config,
    read_firmware,
)
from drivers.radar.reader import RadarReader
from drivers.sim.radar import VirtualRadar
from station.clock import FakeClock

Make = Callable[..., RadarReader]


def wait_until(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.01)
    return check()


def target_is(reader: RadarReader, target: TargetState) -> Callable[[], bool]:
    return lambda: reader.latest is not None and reader.latest.target is target


def test_reads_the_scene_as_it_changes(radar: VirtualRadar, make_reader: Make) -> None:
    reader = make_reader(radar.path)
    assert reader.wait_for_report(None, timeout=5)
    assert reader.latest is not None and reader.latest.target is TargetState.NONE
    radar.person_enters(distance_cm=210)
    assert wait_until(target_is(reader, TargetState.MOVING))
    assert reader.latest is not None and reader.latest.moving_cm == 210
    radar.person_sits_still(distance_cm=95)
    assert wait_until(target_is(reader, TargetState.STILL))
    assert reader.latest is not None
    assert (reader.latest.still_cm, reader.latest.detection_cm) == (95, 95)
    assert reader.latest.gates is None, "basic mode unless asked for engineering"
    radar.person_leaves()
    assert wait_until(target_is(reader, TargetState.NONE))
    assert reader.connected


def test_reports_are_stamped_with_the_given_clock(radar: VirtualRadar, make_reader: Make) -> None:
    clock = FakeClock()
    clock.advance(500)
    reader = make_reader(radar.path, monotonic=clock.monotonic)
    assert reader.wait_for_report(None, timeout=5)
    assert reader.last_report_at == clock.monotonic()
    clock.advance(60)
    assert reader.wait_for_report(clock.monotonic() - 1, timeout=5)
    got = reader.reading()
    assert got is not None and got[1] == clock.monotonic()


def test_survives_noise_and_cut_frames(radar: VirtualRadar, make_reader: Make) -> None:
    reader = make_reader(radar.path)
    radar.person_sits_still(distance_cm=130)
    assert wait_until(target_is(reader, TargetState.STILL))
    for _ in range(20):
        radar.inject_noise(length=40)
        radar.inject_cut_frame()
        radar.inject_noise(bytes.fromhex("F4F3F2F1 0D00 02".replace(" ", "")))
        time.sleep(0.01)
    before = reader.stats.reports
    assert wait_until(lambda: reader.stats.reports > before + 5)
    assert reader.latest is not None
    assert reader.latest.target is TargetState.STILL and reader.latest.still_cm == 130
    assert reader.stats.frame_errors > 0 and reader.stats.skipped_bytes > 0
    assert reader.stats.disconnects == 0, "garbage on the line is not a reason to reopen"


def test_engineering_mode_is_configured_on_connect(radar: VirtualRadar, make_reader: Make) -> None:
    reader = make_reader(radar.path, engineering=True)
    radar.person_sits_still(distance_cm=160)
    assert wait_until(lambda: reader.latest is not None and reader.latest.gates is not None)
    assert [c.command for c in radar.commands] == [
        CMD_ENABLE_CONFIG,
        CMD_ENABLE_ENGINEERING,
        CMD_END_CONFIG,
    ]
    assert [a.command for a in reader.acks] == [
        CMD_ENABLE_CONFIG,
        CMD_ENABLE_ENGINEERING,
        CMD_END_CONFIG,
    ]
    assert all(a.ok for a in reader.acks)
    assert wait_until(target_is(reader, TargetState.STILL))
    gates = reader.latest.gates if reader.latest else None
    assert gates is not None and len(gates.still) == 9
    assert gates.still[160 // 75] == 55


def test_send_queues_a_command(radar: VirtualRadar, make_reader: Make) -> None:
    reader = make_reader(radar.path)
    assert reader.wait_for_report(None, timeout=5)
    for frame in (enable_config(), read_firmware(), end_config()):
        reader.send(frame)
    assert wait_until(lambda: len(reader.acks) == 3)
    assert [a.command for a in reader.acks] == [
        CMD_ENABLE_CONFIG,
        CMD_READ_FIRMWARE,
        CMD_END_CONFIG,
    ]
    assert reader.acks[1].value == bytes.fromhex("0001020116082422")


def test_unplugged_and_replugged_adapter(radar: VirtualRadar, make_reader: Make) -> None:
    reader = make_reader(radar.path)
    assert reader.wait_for_report(None, timeout=5)
    first_tty = radar.tty
    radar.unplug()
    assert wait_until(lambda: not reader.connected)
    stale = reader.last_report_at
    time.sleep(0.3)
    assert reader.last_report_at == stale, "no reports while the adapter is gone"
    assert reader.stats.disconnects >= 1
    assert reader.stats.open_failures >= 1, "it kept trying to reopen"
    assert "station-radar" in reader.last_error
    radar.replug()
    radar.person_enters()
    assert wait_until(target_is(reader, TargetState.MOVING))
    assert reader.connected
    assert reader.stats.opens >= 2
    assert radar.tty and os.path.realpath(radar.path) == radar.tty
    assert first_tty, "the first pty had a name too"


def test_starts_before_the_adapter_exists(radar: VirtualRadar, make_reader: Make) -> None:
    radar.unplug()
    reader = make_reader(radar.path)
    assert wait_until(lambda: reader.stats.open_failures >= 2)
    assert reader.latest is None and reader.last_report_at is None
    radar.replug()
    assert reader.wait_for_report(None, timeout=5)


def test_a_silent_radar_gets_its_port_reopened(radar: VirtualRadar, make_reader: Make) -> None:
    reader = make_reader(radar.path, silence_reopen_s=0.2)
    assert reader.wait_for_report(None, timeout=5)
    radar.mute()
    assert wait_until(lambda: reader.stats.disconnects >= 1)
    assert "silent" in reader.last_error
    radar.mute(False)
    assert wait_until(lambda: reader.stats.opens >= 2 and reader.connected)
    mark = reader.last_report_at
    assert reader.wait_for_report(mark, timeout=5)


def test_stop_is_prompt(radar: VirtualRadar) -> None:
    reader = RadarReader(radar.path)
    reader.start()
    assert reader.wait_for_report(None, timeout=5)
    started = time.monotonic()
    reader.stop()
    assert time.monotonic() - started < 1.0
    assert not reader.connected


def test_back_off_starts_afresh_after_a_healthy_connection(
    radar: VirtualRadar, make_reader: Make
) -> None:
    reader = make_reader(radar.path, reconnect_min_s=0.05, reconnect_max_s=3.0)
    assert reader.wait_for_report(None, timeout=5)
    radar.unplug()
    time.sleep(1.6)  # long enough for the back-off to grow past a second
    radar.replug()
    assert reader.wait_for_report(reader.last_report_at, timeout=10)
    radar.unplug()
    time.sleep(0.1)
    mark = reader.last_report_at
    replugged = time.monotonic()
    radar.replug()
    assert reader.wait_for_report(mark, timeout=10)
    assert time.monotonic() - replugged < 1.2, "a short outage after a good run recovers fast"
