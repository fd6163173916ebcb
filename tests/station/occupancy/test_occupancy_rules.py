"""The pure rules: sensor fusion, relay policy, light hours, today's figures, the config section."""

from __future__ import annotations

from datetime import UTC, time, timedelta, timezone

import pytest

from station.config import ConfigError, parse_config
from station.occupancy.config import LightOutputConfig, OccupancyConfig, RelayOutputConfig
from station.occupancy.fusion import SensorReading, evaluate
from station.occupancy.relays import Override, RelayState, Switch, decide
from station.occupancy.stats import local_day, today_stats

CST = timezone(timedelta(hours=8), "CST")


def fuse(now: float, *readings: SensorReading, current: str = "vacant", last_seen=None, **kw):
    args = {
        "sensors": ("pir", "radar"),
        "started_at": 0.0,
        "hold_s": 120.0,
        "stale_s": 10.0,
    }
    args.update(kw)
    return evaluate(
        now=now,
        latest={r.sensor: r for r in readings},
        current=current,  # type: ignore[arg-type]
        last_seen=last_seen,
        **args,  # type: ignore[arg-type]
    )


def pir(at: float, motion: bool) -> SensorReading:
    return SensorReading("pir", at, motion)


def radar(at: float, present: bool) -> SensorReading:
    return SensorReading("radar", at, present)


# --- fusion ------------------------------------------------------------------------------------


def test_any_sensor_seeing_someone_means_occupied() -> None:
    v = fuse(100, pir(100, True), radar(100, False))
    assert v.state == "occupied" and v.seen == ("pir",)
    v = fuse(100, pir(100, False), radar(100, True))
    assert v.state == "occupied" and v.seen == ("radar",)
    assert "radar sees someone" in v.reason


def test_radar_still_presence_keeps_occupied_without_pir_motion() -> None:
    for minute in range(0, 21):
        now = 100 + minute * 60
        v = fuse(now, pir(now, False), radar(now, True), current="occupied", last_seen=now - 1)
        assert v.state == "occupied"


def test_hold_time_before_vacant() -> None:
    seen = 1000.0
    v = fuse(
        seen + 119,
        pir(seen + 119, False),
        radar(seen + 119, False),
        current="occupied",
        last_seen=seen,
    )
    assert v.state == "occupied" and "holding" in v.reason and v.seen == ()
    v = fuse(
        seen + 120,
        pir(seen + 120, False),
        radar(seen + 120, False),
        current="occupied",
        last_seen=seen,
    )
    assert v.state == "vacant"


def test_stale_sensor_is_offline_and_blocks_vacant() -> None:
    v = fuse(100, pir(100, False), radar(89, False))
    assert v.offline == {"radar"} and v.fresh == {"pir"}
    assert v.state == "unknown" and v.reason == "radar offline"
    v = fuse(100, pir(100, True), radar(50, False))
    assert v.state == "occupied", "the PIR's positive evidence still counts"
    assert v.offline == {"radar"}


def test_stale_sensor_during_hold_keeps_occupied_then_unknown() -> None:
    v = fuse(150, pir(150, False), radar(120, True), current="occupied", last_seen=120)
    assert v.state == "occupied" and v.offline == {"radar"}
    v = fuse(241, pir(241, False), radar(120, True), current="occupied", last_seen=120)
    assert v.state == "unknown"


def test_warming_up_is_unknown_but_not_offline() -> None:
    v = fuse(5, pir(5, False))
    assert v.state == "unknown" and v.offline == frozenset()
    assert "waiting for the first report from radar" in v.reason
    v = fuse(11, pir(11, False))
    assert v.state == "unknown" and v.offline == {"radar"}


def test_no_sensors_is_unknown() -> None:
    v = fuse(100, sensors=())
    assert v.state == "unknown" and "no occupancy sensor" in v.reason


def test_pir_only_station_goes_vacant_on_a_still_person() -> None:
    # The documented limit of a PIR: it cannot see someone sitting still.
    v = fuse(500, pir(500, False), sensors=("pir",), current="occupied", last_seen=300)
    assert v.state == "vacant"


# --- relay policy ------------------------------------------------------------------------------

FAN = RelayOutputConfig(pin=20, min_on_s=60, min_off_s=30)


def relay(on: bool, since: float, override: Override | None = None) -> RelayState:
    return RelayState("fan", on, since, since, override)


def test_relay_follows_the_state() -> None:
    assert decide(relay(False, 0), FAN, now=100, state="occupied", light_hours=True) == Switch(
        "fan", True, "system", "occupied"
    )
    assert decide(relay(True, 0), FAN, now=100, state="vacant", light_hours=True) == Switch(
        "fan", False, "system", "vacant"
    )
    assert decide(relay(True, 0), FAN, now=100, state="occupied", light_hours=True) is None


def test_minimum_on_and_off_times() -> None:
    assert decide(relay(True, 100), FAN, now=159, state="vacant", light_hours=True) is None
    assert decide(relay(True, 100), FAN, now=160, state="vacant", light_hours=True) is not None
    assert decide(relay(False, 100), FAN, now=129, state="occupied", light_hours=True) is None
    assert decide(relay(False, 100), FAN, now=130, state="occupied", light_hours=True) is not None


def test_unknown_holds_the_relay_where_it_is() -> None:
    assert decide(relay(True, 0), FAN, now=1000, state="unknown", light_hours=True) is None
    assert decide(relay(False, 0), FAN, now=1000, state="unknown", light_hours=True) is None


def test_light_only_within_its_hours() -> None:
    light = RelayState("light", False, 0, 0)
    cfg = LightOutputConfig(pin=21)
    assert decide(light, cfg, now=100, state="occupied", light_hours=False) is None
    on = RelayState("light", True, 0, 0)
    switch = decide(on, cfg, now=100, state="occupied", light_hours=False)
    assert switch == Switch("light", False, "system", "outside the light's hours")


def test_override_switches_at_once_and_ignores_min_times() -> None:
    ov = Override(True, until=500, until_wall=500, actor="staff:S001", reason="cleaning")
    r = relay(False, 99, ov)
    switch = decide(r, FAN, now=100, state="vacant", light_hours=True)
    assert switch == Switch("fan", True, "staff:S001", "manual override: cleaning")
    assert decide(relay(True, 100, ov), FAN, now=101, state="vacant", light_hours=True) is None
    expired = decide(relay(True, 100, ov), FAN, now=500, state="vacant", light_hours=True)
    assert expired == Switch("fan", False, "system", "vacant")


def test_light_hours() -> None:
    evening = LightOutputConfig(on_from=time(18), on_until=time(7))
    assert evening.allowed_at(time(18)) and evening.allowed_at(time(23, 59))
    assert evening.allowed_at(time(0, 30)) and evening.allowed_at(time(6, 59))
    assert not evening.allowed_at(time(7)) and not evening.allowed_at(time(12))
    day = LightOutputConfig(on_from=time(8), on_until=time(20))
    assert day.allowed_at(time(8)) and not day.allowed_at(time(20))
    always = LightOutputConfig(on_from=time(0), on_until=time(0))
    assert always.allowed_at(time(13))


# --- today's figures ---------------------------------------------------------------------------


def test_local_day_and_clipping_at_midnight() -> None:
    noon = 1_767_240_000.0  # 2026-01-01 12:00 CST
    date, start, end = local_day(noon, CST)
    assert date == "2026-01-01" and end - start == 86_400 and start == noon - 12 * 3600
    sessions = [
        (start - 600, start + 300),  # 23:50 yesterday to 00:05: five minutes today
        (noon - 3600, noon - 3000),  # ten minutes this morning
        (start - 7200, start - 3600),  # yesterday only
    ]
    stats = today_stats(noon, CST, sessions)
    assert stats.date == "2026-01-01"
    assert stats.sessions == 2
    assert stats.occupied_minutes == 15.0
    assert today_stats(noon, UTC, []).occupied_minutes == 0


# --- config ------------------------------------------------------------------------------------


def test_defaults_keep_old_configs_valid() -> None:
    cfg = parse_config({"station": {"id": "S1"}, "boards": [], "lockers": []})
    assert cfg.occupancy == OccupancyConfig()
    assert not cfg.occupancy.configured and cfg.occupancy.sensors == ()


def test_config_keys_and_errors() -> None:
    data = {
        "station": {"id": "S1"},
        "boards": [],
        "lockers": [],
        "occupancy": {
            "pir_pin": 4,
            "radar_port": "/dev/station-radar",
            "hold_s": 90,
            "fan": {"pin": 20, "active_high": True},
            "light": {"pin": 21, "on_from": time(19, 30), "on_until": "06:00"},
        },
    }
    occ = parse_config(data).occupancy
    assert occ.sensors == ("pir", "radar") and occ.configured
    assert occ.gpio_pins() == [4, 20, 21]
    assert occ.light.on_until == time(6) and occ.fan.active_high
    data["occupancy"]["fan"] = {"pin": 4}  # type: ignore[index]
    with pytest.raises(ConfigError, match=r"GPIO pins used twice in \[occupancy\]: \[4\]"):
        parse_config(data)
    data["occupancy"] = {"hold": 3}
    with pytest.raises(ConfigError, match=r"occupancy\.hold: unknown key"):
        parse_config(data)
    data["occupancy"] = {"stale_s": 0}
    with pytest.raises(ConfigError, match=r"occupancy\.stale_s"):
        parse_config(data)
