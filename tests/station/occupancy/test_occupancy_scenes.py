"""Scenes through the simulator: the virtual LD2410 on a real pty read by the real reader and
codec, the virtual PIR on a MockFactory pin read by the real Pir driver, relays on mock pins,
the tracker built by build_occupancy() exactly as the daemon builds it. Time is a fake clock
moved by the scene; each step waits for a radar report sent after the clock moved.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from drivers.gpio.pir import Pir
from drivers.radar.ld2410 import TargetState
from drivers.radar.reader import RadarReader
from drivers.sim.pir import VirtualPir
from drivers.sim.radar import VirtualRadar
from station.alarms import AlarmService
from station.clock import FakeClock
from station.occupancy.assembly import build_occupancy
from station.occupancy.config import OccupancyConfig
from station.occupancy.sources import PirSource, RadarSource
from station.occupancy.tracker import OccupancyTracker
from station.store import Store

from .conftest import CST

PIR_PIN, FAN, LIGHT = 4, 20, 21


@dataclass
class Booth:
    tracker: OccupancyTracker
    radar: VirtualRadar
    pir: VirtualPir
    reader: RadarReader
    pir_driver: Pir
    clock: FakeClock
    store: Store
    pins: MockFactory

    def fan_on(self) -> bool:
        return self.pins.pin(FAN).state is False

    def light_on(self) -> bool:
        return self.pins.pin(LIGHT).state is False

    async def radar_shows(self, target: TargetState) -> None:
        def shows() -> bool:
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                latest = self.reader.latest
                if latest is not None and latest.target is target:
                    return True
                time.sleep(0.005)
            return False

        assert await asyncio.to_thread(shows), f"the radar never reported {target.name}"

    async def pir_reads(self, motion: bool) -> None:
        assert await asyncio.to_thread(self.pir_driver.wait_for, motion, 5)

    async def pir_blink(self) -> None:
        """One short pulse of the PIR's output, seen by its sampler and gone again."""
        self.pir.motion()
        await self.pir_reads(True)
        self.pir.quiet()
        await self.pir_reads(False)

    async def step(self, *, radar_alive: bool = True) -> None:
        """Step the tracker once the radar has reported at the clock's current time."""
        if radar_alive:
            now = self.clock.monotonic()
            fresh = await asyncio.to_thread(self.reader.wait_for_report, now - 1e-6, 5)
            assert fresh, "no radar report arrived"
        await self.tracker.step()

    async def elapse(self, seconds: float, every: float = 10, *, radar_alive: bool = True) -> None:
        left = seconds
        while left > 0:
            dt = min(every, left)
            self.clock.advance(dt)
            left -= dt
            await self.step(radar_alive=radar_alive)

    def events(self, *types: str) -> list:
        return self.store.events_after(0, limit=10_000, types=types)

    def switches(self) -> list[tuple[str, bool, str]]:
        return [
            (e.payload["relay"], e.payload["on"], e.payload["reason"])
            for e in self.events("relay_switched")
        ]

    def states(self) -> list[str]:
        return [e.payload["state"] for e in self.events("occupancy_changed")]


@pytest.fixture
async def booth(
    tmp_path: Path, store: Store, clock: FakeClock, alarms: AlarmService, pins: MockFactory
) -> AsyncIterator[Booth]:
    radar = VirtualRadar(tmp_path / "dev" / "station-radar", period_s=0.02).start()
    cfg = OccupancyConfig.model_validate(
        {
            "pir_pin": PIR_PIN,
            "radar_port": radar.path,
            "hold_s": 120,
            "stale_s": 10,
            "fan": {"pin": FAN, "min_on_s": 60, "min_off_s": 30},
            "light": {"pin": LIGHT, "min_on_s": 30, "min_off_s": 5},
        }
    )
    tracker = build_occupancy(
        cfg,
        store=store,
        clock=clock,
        alarms=alarms,
        pin_factory=pins,
        tz=CST,
        reader_options={"reconnect_min_s": 0.05, "reconnect_max_s": 0.2},
    )
    pir_source = next(s for s in tracker.sources if isinstance(s, PirSource))
    radar_source = next(s for s in tracker.sources if isinstance(s, RadarSource))
    await tracker.start()
    b = Booth(
        tracker,
        radar,
        VirtualPir(pins, PIR_PIN),
        radar_source.reader,
        pir_source.pir,
        clock,
        store,
        pins,
    )
    await b.step()
    assert tracker.state == "vacant"
    yield b
    await tracker.aclose()
    radar.stop()


async def test_walk_in_and_out(booth: Booth) -> None:
    booth.radar.person_enters()
    booth.pir.motion()
    await booth.radar_shows(TargetState.MOVING)
    await booth.pir_reads(True)
    await booth.step()
    entered = booth.clock.wall()
    assert booth.tracker.state == "occupied"
    assert booth.fan_on() and booth.light_on()
    await booth.elapse(60)  # browsing the supply shelf
    booth.radar.person_leaves()
    booth.pir.quiet()
    await booth.radar_shows(TargetState.NONE)
    await booth.pir_reads(False)
    await booth.elapse(110)
    assert booth.tracker.state == "occupied", "within the hold time"
    await booth.elapse(10)
    assert booth.tracker.state == "vacant"
    assert not booth.fan_on() and not booth.light_on()

    assert booth.states() == ["vacant", "occupied", "vacant"]
    (session,) = booth.events("occupancy_session")
    assert session.payload["started_at"] == entered
    assert session.payload["duration_s"] == 60
    assert booth.switches() == [
        ("fan", True, "occupied"),
        ("light", True, "occupied"),
        ("fan", False, "vacant"),
        ("light", False, "vacant"),
    ]


async def test_sit_still_for_twenty_minutes(booth: Booth) -> None:
    booth.radar.person_enters(distance_cm=200)
    booth.pir.motion()
    await booth.radar_shows(TargetState.MOVING)
    await booth.pir_reads(True)
    await booth.step()
    # Sits down on the bench: the PIR's output falls, the radar sees a still target.
    booth.radar.person_sits_still(distance_cm=110)
    booth.pir.quiet()
    await booth.radar_shows(TargetState.STILL)
    await booth.pir_reads(False)
    for _ in range(20):
        await booth.elapse(60, every=60)
        assert booth.tracker.state == "occupied"
        assert booth.fan_on()
    snap = booth.tracker.snapshot()
    assert snap.sensors["radar"].detail["target"] == "still"
    assert snap.sensors["radar"].detail["still_cm"] == 110
    assert snap.sensors["pir"].present is False
    assert snap.today.occupied_minutes == 20.0 and snap.today.sessions == 1
    booth.radar.person_leaves()
    await booth.radar_shows(TargetState.NONE)
    await booth.elapse(120)
    assert booth.tracker.state == "vacant"
    (session,) = booth.events("occupancy_session")
    assert session.payload["duration_s"] == 20 * 60
    assert booth.switches() == [
        ("fan", True, "occupied"),
        ("light", True, "occupied"),
        ("fan", False, "vacant"),
        ("light", False, "vacant"),
    ]


async def test_pir_flicker(booth: Booth) -> None:
    # A draught makes the PIR blink while the radar sees nobody. Each blink rises and falls
    # between two polls; the driver's latch still reports it once.
    await booth.pir_blink()
    await booth.step()
    assert booth.tracker.state == "occupied"
    # It keeps blinking now and then: every blink is a sighting, but no relay chatters.
    for _ in range(6):
        await booth.elapse(20)
        await booth.pir_blink()
        await booth.step()
        assert booth.tracker.state == "occupied"
    await booth.elapse(110)
    assert booth.tracker.state == "occupied"
    await booth.elapse(10)
    assert booth.tracker.state == "vacant"
    (session,) = booth.events("occupancy_session")
    assert session.payload["duration_s"] == 120, "one session from the first blink to the last"
    assert booth.switches() == [
        ("fan", True, "occupied"),
        ("light", True, "occupied"),
        ("fan", False, "vacant"),
        ("light", False, "vacant"),
    ]


async def test_radar_noise(booth: Booth) -> None:
    booth.radar.person_sits_still()
    await booth.radar_shows(TargetState.STILL)
    await booth.step()
    for _ in range(10):
        for _ in range(5):
            booth.radar.inject_noise(length=48)
            booth.radar.inject_cut_frame()
        await booth.elapse(30)
        assert booth.tracker.state == "occupied"
    assert booth.reader.stats.frame_errors > 0
    assert booth.reader.stats.disconnects == 0
    assert booth.states() == ["vacant", "occupied"]
    assert booth.events("alarm_raised") == []


async def test_radar_unplugged_and_replugged(booth: Booth) -> None:
    booth.radar.person_sits_still()
    await booth.radar_shows(TargetState.STILL)
    await booth.step()
    await booth.elapse(60)
    booth.radar.unplug()
    await asyncio.to_thread(_wait, lambda: not booth.reader.connected)
    await booth.elapse(20, every=5, radar_alive=False)
    assert booth.tracker.state == "occupied", "within the hold time after the last sighting"
    (alarm,) = booth.events("alarm_raised")
    assert (alarm.payload["alarm"], alarm.payload["subject"]) == ("sensor_offline", "radar")
    await booth.elapse(120, radar_alive=False)
    assert booth.tracker.state == "unknown", "never vacant while the radar is gone"
    assert booth.fan_on(), "the fan keeps running for whoever may be resting"
    assert booth.tracker.snapshot().sensors["radar"].online is False

    booth.radar.replug()
    await asyncio.to_thread(_wait, lambda: booth.reader.connected)
    await booth.radar_shows(TargetState.STILL)
    await booth.step()
    assert booth.tracker.state == "occupied"
    assert [e.payload["subject"] for e in booth.events("alarm_cleared")] == ["radar"]
    assert booth.states() == ["vacant", "occupied", "unknown", "occupied"]
    (first,) = booth.events("occupancy_session")
    assert first.payload["end_reason"] == "radar offline"
    assert booth.reader.stats.disconnects >= 1 and booth.reader.stats.opens >= 2
    assert booth.switches() == [("fan", True, "occupied"), ("light", True, "occupied")]


def _wait(check, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.01)
    raise AssertionError("condition not reached")
