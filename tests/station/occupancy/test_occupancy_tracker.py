"""The tracker on a real store, the real AlarmService and mock relay pins, fed by hand.

The scenes through the simulator are in test_occupancy_scenes.py; here every rule is pinned
down with readings applied directly and a fake clock.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory

from drivers.gpio.relay import OutputRelay
from station.alarms import AlarmService
from station.clock import FakeClock
from station.occupancy.config import OccupancyConfig
from station.occupancy.fusion import SensorReading
from station.occupancy.schema import OCCUPANCY_SCHEMA
from station.occupancy.tracker import OccupancyTracker, OverrideError
from station.store import Event, Store, StoreError

from .conftest import CST

FAN, LIGHT = 20, 21


def config(**overrides: Any) -> OccupancyConfig:
    data: dict[str, Any] = {
        "pir_pin": 4,
        "radar_port": "/dev/null",
        "hold_s": 120,
        "stale_s": 10,
        "fan": {"pin": FAN, "min_on_s": 60, "min_off_s": 30},
        "light": {"pin": LIGHT, "min_on_s": 30, "min_off_s": 5},
    }
    data.update(overrides)
    return OccupancyConfig.model_validate(data)


def tracker_for(
    cfg: OccupancyConfig,
    store: Store,
    clock: FakeClock,
    alarms: AlarmService,
    pins: MockFactory,
) -> OccupancyTracker:
    relays = {
        "fan": OutputRelay(FAN, pin_factory=pins),
        "light": OutputRelay(LIGHT, pin_factory=pins),
    }
    return OccupancyTracker(
        cfg, store, clock, alarms, relays=relays, sensors=("pir", "radar"), tz=CST
    )


def events(store: Store, *types: str) -> list[Event]:
    return store.events_after(0, limit=10_000, types=types)


def relay_on(pins: MockFactory, pin: int) -> bool:
    return pins.pin(pin).state is False  # active-low modules


class Scene:
    """Feeds readings at the fake clock's time and steps the tracker."""

    def __init__(self, tracker: OccupancyTracker, clock: FakeClock) -> None:
        self.t = tracker
        self.clock = clock

    async def see(self, *, pir: bool | None = False, radar: bool | None = False) -> None:
        now = self.clock.monotonic()
        if pir is not None:
            self.t.apply(SensorReading("pir", now, pir, {"motion": pir}))
        if radar is not None:
            self.t.apply(SensorReading("radar", now, radar, {}))
        await self.t.step()

    async def wait(self, seconds: float, *, every: float = 10, **seen: bool | None) -> None:
        """Let `seconds` pass, the sensors reporting `seen` every `every` seconds."""
        left = seconds
        while left > 0:
            dt = min(every, left)
            self.clock.advance(dt)
            left -= dt
            await self.see(**seen)


async def test_walk_in_and_out(
    store: Store, clock: FakeClock, alarms: AlarmService, pins: MockFactory
) -> None:
    t = tracker_for(config(), store, clock, alarms, pins)
    s = Scene(t, clock)
    await s.see()
    assert t.state == "vacant"
    assert not relay_on(pins, FAN) and not relay_on(pins, LIGHT)
    clock.advance(5)
    entered = clock.wall()
    await s.see(pir=True, radar=True)
    assert t.state == "occupied" and t.since == entered
    assert relay_on(pins, FAN) and relay_on(pins, LIGHT), "20:00 is within the light's hours"
    await s.wait(90, pir=True, radar=True)
    left_at = clock.wall()
    await s.wait(110)  # nobody seen, within the hold time
    assert t.state == "occupied"
    await s.wait(10)
    assert t.state == "vacant"
    assert not relay_on(pins, FAN) and not relay_on(pins, LIGHT)

    changes = [e.payload["state"] for e in events(store, "occupancy_changed")]
    assert changes == ["vacant", "occupied", "vacant"]
    (session,) = events(store, "occupancy_session")
    assert session.payload["started_at"] == entered
    assert session.payload["ended_at"] == left_at, "a session ends when the person was last seen"
    assert session.payload["duration_s"] == 90
    assert session.payload["end_reason"] == "vacant"
    rows = store.query("SELECT * FROM occupancy_sessions")
    assert len(rows) == 1 and rows[0]["duration_s"] == 90
    switches = [
        (e.payload["relay"], e.payload["on"], e.payload["reason"], e.actor)
        for e in events(store, "relay_switched")
    ]
    assert switches == [
        ("fan", True, "occupied", "system"),
        ("light", True, "occupied", "system"),
        ("fan", False, "vacant", "system"),
        ("light", False, "vacant", "system"),
    ]
    today = t.today()
    assert (today.date, today.sessions, today.occupied_minutes) == ("2026-01-01", 1, 1.5)
    await t.aclose()


async def test_sitting_still_for_twenty_minutes_is_one_session(
    store: Store, clock: FakeClock, alarms: AlarmService, pins: MockFactory
) -> None:
    t = tracker_for(config(), store, clock, alarms, pins)
    s = Scene(t, clock)
    await s.see()
    await s.see(pir=True, radar=True)
    # Seated: the PIR sees nothing for 20 minutes, the radar's still target holds the area.
    await s.wait(20 * 60, every=30, pir=False, radar=True)
    assert t.state == "occupied"
    assert relay_on(pins, FAN)
    assert t.today().occupied_minutes == 20.0 and t.today().sessions == 1
    assert [e.payload["state"] for e in events(store, "occupancy_changed")] == [
        "vacant",
        "occupied",
    ]
    assert len(events(store, "relay_switched")) == 2
    snap = t.snapshot().to_dict()
    assert snap["state"] == "occupied"
    assert snap["sensors"]["radar"]["present"] is True
    assert snap["sensors"]["pir"]["present"] is False
    assert snap["relays"]["fan"]["on"] is True and snap["relays"]["fan"]["mode"] == "auto"
    assert snap["today"]["occupied_minutes"] == 20.0
    await t.aclose()


async def test_flicker_never_makes_a_relay_chatter(
    store: Store, clock: FakeClock, alarms: AlarmService, pins: MockFactory
) -> None:
    t = tracker_for(config(hold_s=0), store, clock, alarms, pins)
    s = Scene(t, clock)
    await s.see()
    for _ in range(30):  # two minutes of a PIR that flips every 2 s, and no hold time
        clock.advance(2)
        await s.see(pir=True)
        clock.advance(2)
        await s.see(pir=False)
    fan = [e for e in events(store, "relay_switched") if e.payload["relay"] == "fan"]
    times = [e.mono for e in fan]
    assert 2 <= len(fan) <= 4, [e.payload for e in fan]
    for earlier, later, event in zip(times, times[1:], fan[1:], strict=False):
        limit = 60 if not event.payload["on"] else 30  # min on before off, min off before on
        assert later - earlier >= limit
    await t.aclose()


async def test_light_follows_its_hours(
    store: Store, clock: FakeClock, alarms: AlarmService, pins: MockFactory
) -> None:
    clock.advance(-12 * 3600)  # 08:00 local
    t = tracker_for(config(), store, clock, alarms, pins)
    s = Scene(t, clock)
    await s.see(radar=True)
    assert relay_on(pins, FAN) and not relay_on(pins, LIGHT)
    await s.wait(10 * 3600, every=600, radar=True)  # until 18:00, someone resting
    assert relay_on(pins, LIGHT)
    light = [e.payload for e in events(store, "relay_switched") if e.payload["relay"] == "light"]
    assert light == [{"relay": "light", "on": True, "reason": "occupied", "occupancy": "occupied"}]
    await s.wait(13 * 3600, every=1800, radar=True)  # through the night to 07:00
    assert not relay_on(pins, LIGHT) and relay_on(pins, FAN)
    light = [e.payload for e in events(store, "relay_switched") if e.payload["relay"] == "light"]
    assert light[-1]["reason"] == "outside the light's hours"
    await t.aclose()


async def test_a_silent_sensor_raises_sensor_offline_and_never_reads_vacant(
    store: Store, clock: FakeClock, alarms: AlarmService, pins: MockFactory
) -> None:
    t = tracker_for(config(), store, clock, alarms, pins)
    s = Scene(t, clock)
    await s.see(pir=False, radar=True)
    await s.wait(30, pir=False, radar=True)
    # The radar stops reporting: the PIR alone cannot tell a resting person from nobody.
    await s.wait(20, pir=False, radar=None)
    assert t.state == "occupied", "still within the hold time"
    (raised,) = events(store, "alarm_raised")
    assert raised.payload["alarm"] == "sensor_offline" and raised.payload["subject"] == "radar"
    assert "occupancy.stale_s" in raised.payload["detail"]
    await s.wait(120, pir=False, radar=None)
    assert t.state == "unknown"
    assert relay_on(pins, FAN), "unknown holds the fan as it was"
    (session,) = events(store, "occupancy_session")
    assert session.payload["end_reason"] == "radar offline"
    assert t.snapshot().sensors["radar"].online is False
    open_alarms = await alarms.list()
    assert [(a["type"], a["subject"]) for a in open_alarms] == [("sensor_offline", "radar")]
    # Back again: the alarm clears and the state resolves from what the radar says.
    await s.see(pir=False, radar=False)
    assert t.state == "vacant"
    assert [e.payload["subject"] for e in events(store, "alarm_cleared")] == ["radar"]
    assert await alarms.list() == []
    await s.wait(60)
    assert not relay_on(pins, FAN)
    await t.aclose()


async def test_a_sensor_that_never_reports_is_offline_after_the_stale_time(
    store: Store, clock: FakeClock, alarms: AlarmService, pins: MockFactory
) -> None:
    t = tracker_for(config(), store, clock, alarms, pins)
    s = Scene(t, clock)
    await s.see(radar=None)
    assert t.state == "unknown" and "waiting for the first report" in t.snapshot().reason
    assert events(store, "alarm_raised") == []
    await s.wait(11, radar=None)
    assert [e.payload["subject"] for e in events(store, "alarm_raised")] == ["radar"]
    await s.wait(60, pir=True, radar=None)
    assert t.state == "occupied", "the PIR's motion is evidence even with the radar down"
    await t.aclose()


async def test_manual_override_switches_at_once_and_expires(
    store: Store, clock: FakeClock, alarms: AlarmService, pins: MockFactory
) -> None:
    t = tracker_for(config(), store, clock, alarms, pins)
    s = Scene(t, clock)
    await s.see()
    status = await t.set_override(
        "fan", True, actor="staff:S001", reason="drying the floor", duration_s=600
    )
    assert relay_on(pins, FAN)
    assert status.mode == "override" and status.override_by == "staff:S001"
    assert status.override_until == clock.wall() + 600
    (set_event,) = events(store, "relay_override_set")
    assert set_event.actor == "staff:S001" and set_event.payload["duration_s"] == 600
    switch = events(store, "relay_switched")[-1]
    assert switch.actor == "staff:S001"
    assert switch.payload["reason"] == "manual override: drying the floor"
    await s.wait(590)
    assert relay_on(pins, FAN), "vacant, but the override holds"
    await s.wait(10)
    assert not relay_on(pins, FAN)
    assert events(store, "relay_override_ended")[-1].payload["reason"] == "override time ran out"
    assert t.relay_states()["fan"].mode == "auto"
    assert events(store, "relay_switched")[-1].payload["reason"] == "vacant"
    await t.aclose()


async def test_override_off_while_occupied_then_cleared(
    store: Store, clock: FakeClock, alarms: AlarmService, pins: MockFactory
) -> None:
    t = tracker_for(config(), store, clock, alarms, pins)
    s = Scene(t, clock)
    await s.see(radar=True)
    assert relay_on(pins, LIGHT)
    await t.set_override("light", False, actor="staff:S002", reason="bulb change", duration_s=300)
    assert not relay_on(pins, LIGHT)
    await s.wait(60, radar=True)
    assert not relay_on(pins, LIGHT)
    status = await t.clear_override("light", actor="staff:S002")
    assert status.mode == "auto" and status.on is True, "automatic control takes over at once"
    assert relay_on(pins, LIGHT)
    ended = events(store, "relay_override_ended")[-1]
    assert ended.actor == "staff:S002" and ended.payload["reason"] == "cleared by staff"
    await t.aclose()


async def test_override_refusals(
    store: Store, clock: FakeClock, alarms: AlarmService, pins: MockFactory
) -> None:
    t = OccupancyTracker(
        config(light={}),
        store,
        clock,
        alarms,
        relays={"fan": OutputRelay(FAN, pin_factory=pins)},
        sensors=("pir", "radar"),
    )
    with pytest.raises(OverrideError, match=r"no relay named 'light'.*configured: fan"):
        await t.set_override("light", True, actor="staff:S1", reason="x", duration_s=60)
    with pytest.raises(OverrideError, match=r"at most 14400 s \(occupancy\.override_max_s\)"):
        await t.set_override("fan", True, actor="staff:S1", reason="x", duration_s=14_401)
    with pytest.raises(OverrideError, match="needs a reason"):
        await t.set_override("fan", True, actor="staff:S1", reason="  ", duration_s=60)
    with pytest.raises(OverrideError, match="needs the staff member"):
        await t.set_override("fan", True, actor="", reason="x", duration_s=60)
    assert events(store, "relay_override_set") == []
    with pytest.raises(ValueError, match="fuses"):
        t.apply(SensorReading("camera", 0, True))
    await t.aclose()


async def test_a_failed_write_changes_nothing_and_is_retried(
    store: Store, clock: FakeClock, alarms: AlarmService, pins: MockFactory
) -> None:
    t = tracker_for(config(hold_s=0), store, clock, alarms, pins)
    s = Scene(t, clock)
    await s.see(radar=True)
    await s.wait(60, radar=True)
    store.write_now(
        lambda tx: tx.conn.execute(
            "CREATE TRIGGER no_sessions BEFORE INSERT ON occupancy_sessions "
            "BEGIN SELECT RAISE(ABORT, 'disk trouble'); END"
        )
    )
    clock.advance(1)
    with pytest.raises(StoreError, match="disk trouble"):
        await s.see(radar=False)
    assert t.state == "occupied" and relay_on(pins, FAN), "nothing moved without its record"
    assert [e.payload["state"] for e in events(store, "occupancy_changed")][-1] == "occupied"
    store.write_now(lambda tx: tx.conn.execute("DROP TRIGGER no_sessions"))
    await s.see(radar=False)
    assert t.state == "vacant" and not relay_on(pins, FAN)
    assert len(events(store, "occupancy_session")) == 1
    await t.aclose()


async def test_restart_closes_the_open_session_and_starts_relays_off(
    tmp_path: Any, clock: FakeClock
) -> None:
    path = tmp_path / "restart.db"
    store = Store(path, clock, schemas=[OCCUPANCY_SCHEMA])
    pins = MockFactory()
    t = tracker_for(config(), store, clock, AlarmService(store), pins)
    s = Scene(t, clock)
    await s.see(radar=True)
    started = clock.wall()
    await t.set_override("light", True, actor="staff:S1", reason="inspection", duration_s=3600)
    await s.wait(150, every=10, radar=True)  # the last sighting is saved once a minute
    # Power cut: no aclose(). The pins die with the process.
    store.close()
    pins.reset()
    clock.advance(30)

    store = Store(path, clock, schemas=[OCCUPANCY_SCHEMA])
    t2 = tracker_for(config(), store, clock, AlarmService(store), pins)
    await t2.start()
    assert t2.state == "unknown"
    (session,) = events(store, "occupancy_session")
    assert session.payload["started_at"] == started
    assert session.payload["end_reason"] == "daemon restarted"
    assert 120 <= session.payload["duration_s"] <= 150
    last = events(store, "occupancy_changed")[-1]
    assert (last.payload["previous"], last.payload["state"]) == ("occupied", "unknown")
    restart_switches = [e.payload for e in events(store, "relay_switched")][-2:]
    assert {(p["relay"], p["on"]) for p in restart_switches} == {("fan", False), ("light", False)}
    assert events(store, "relay_override_ended")[-1].payload["reason"] == "daemon restarted"
    assert t2.today().sessions == 1
    assert all(r.mode == "auto" and not r.on for r in t2.relay_states().values())
    await t2.aclose()
    store.close()
    pins.reset()
    pins.close()


async def test_shutdown_switches_off_and_closes_the_session(
    store: Store, clock: FakeClock, alarms: AlarmService, pins: MockFactory
) -> None:
    t = tracker_for(config(), store, clock, alarms, pins)
    s = Scene(t, clock)
    await s.see(pir=True, radar=True)
    await s.wait(30, radar=True)
    await t.aclose()
    await t.aclose()
    off = events(store, "relay_switched")[-2:]
    assert {e.payload["reason"] for e in off} == {"station shutting down"}
    (session,) = events(store, "occupancy_session")
    assert session.payload["end_reason"] == "station stopped"
    assert store.query("SELECT state FROM occupancy_state")[0]["state"] == "unknown"
    # The pins are released: another relay can take them.
    OutputRelay(FAN, pin_factory=pins).close()


async def test_run_loop_feeds_itself(
    store: Store, clock: FakeClock, alarms: AlarmService, pins: MockFactory
) -> None:
    t = tracker_for(config(poll_ms=50), store, clock, alarms, pins)
    task = asyncio.create_task(t.run())
    try:
        t.apply(SensorReading("pir", clock.monotonic(), True))
        t.apply(SensorReading("radar", clock.monotonic(), True))
        for _ in range(100):
            if t.state == "occupied":
                break
            await asyncio.sleep(0.02)
        assert t.state == "occupied" and relay_on(pins, FAN)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    await t.aclose()


async def test_listeners_hear_a_snapshot_after_each_committed_change(
    store: Store, clock: FakeClock, alarms: AlarmService, pins: MockFactory
) -> None:
    t = tracker_for(config(), store, clock, alarms, pins)
    heard: list[tuple[str, bool]] = []
    unsubscribe = t.subscribe(lambda snap: heard.append((snap.state, snap.relays["fan"].on)))
    s = Scene(t, clock)
    await s.see()
    await s.see(radar=True)
    await s.wait(300, radar=True)  # nothing changes (the minutely save is not news)
    assert heard == [("vacant", False), ("occupied", True)]
    unsubscribe()
    await s.wait(200)
    assert len(heard) == 2
    await t.aclose()
