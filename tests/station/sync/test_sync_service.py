"""The sync service as the daemon runs it: config, the run loop, heartbeats, telemetry, pruning."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from station.config import ConfigError, parse_config
from station.store import Store
from station.sync.config import SyncConfig
from station.sync.service import SyncService
from tests.simstation import sim_config_data
from tests.station.sync.synckit import STATION, Central, StepClock, fill, service, station_log

DAY = 86_400.0


def test_sync_section_in_station_config(tmp_path: Path) -> None:
    data = sim_config_data(tmp_path)
    assert not parse_config(data).sync.enabled  # absent: off, every event kept
    data["sync"] = {"url": "https://central.example.org", "token": "t" * 40, "interval_s": 30}
    config = parse_config(data)
    assert config.sync.enabled and config.sync.interval_s == 30
    data["sync"] = {"url": "http://central.example.org", "token": "t" * 40}
    with pytest.raises(ConfigError, match="sync: url uses plain http"):
        parse_config(data)
    data["sync"] = {"url": "https://central.example.org"}
    with pytest.raises(ConfigError, match="no token"):
        parse_config(data)
    data["sync"] = {"url": "https://c.example.org", "token": "t" * 40, "batch_max_events": 0}
    with pytest.raises(ConfigError, match=r"sync\.batch_max_events"):
        parse_config(data)
    data["sync"] = {"url": "https://c.example.org", "token": "t" * 40, "colour": "red"}
    with pytest.raises(ConfigError, match=r"sync\.colour: unknown key"):
        parse_config(data)


def test_token_file(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("gxyz_secret\n", encoding="utf-8")
    config = SyncConfig(url="https://c.example.org", token_file=secret)
    assert config.read_token() == "gxyz_secret"
    with pytest.raises(ValueError, match="not both"):
        SyncConfig(url="https://c.example.org", token="x", token_file=secret)
    assert SyncConfig(url="http://127.0.0.1:9/", token="x").enabled  # loopback http is fine


async def test_disabled_sync_does_nothing(make_store: Callable[..., Store]) -> None:
    store = make_store()
    fill(store, 3)
    sync = SyncService(store, SyncConfig(), STATION, store.clock)
    assert (await sync.sync_once()).ok
    await asyncio.wait_for(sync.run(), 1)  # returns at once
    status = sync.status()
    assert status["enabled"] is False and status["pending"] == 3


async def test_run_loop_sends_new_events_and_heartbeats_with_telemetry(
    central: Central, make_store: Callable[..., Store]
) -> None:
    clock = StepClock(wall=time.time())
    store = make_store(clock)
    calls: list[int] = []

    def telemetry() -> dict[str, Any]:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("sensor gone")
        return {"doors": {"A01": "closed"}, "cpu_temp_c": 51.0}

    sync = service(store, central.url, central.token, telemetry=telemetry, interval_s=0.05)
    task = asyncio.create_task(sync.run())
    try:
        for batch in range(3):
            fill(store, 10)
            await _until(lambda b=batch: central.acked() == 10 * (b + 1))
        seen = central.storage.station(STATION)
        assert seen is not None and seen.last_seen is not None
        first_seen = seen.last_seen

        def later_heartbeat() -> bool:
            clock.advance(1.0)  # heartbeat_s (0.05) passes between looks
            return _last_seen(central) > first_seen

        await _until(later_heartbeat)  # a heartbeat, with nothing to send
        sync.nudge()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    record = central.storage.station(STATION)
    assert record is not None and record.telemetry is not None
    assert record.telemetry["doors"] == {"A01": "closed"}
    assert record.telemetry["sync"]["pending"] >= 0
    assert [(e["seq"], e["id"]) for e in central.events()] == station_log(store)
    status = sync.status()
    assert status["pending"] == 0 and status["last_error"] is None
    assert status["last_success_at"] is not None and status["central"] == "127.0.0.1"


async def test_prune_keeps_everything_central_lacks(
    central: Central, make_store: Callable[..., Store]
) -> None:
    clock = StepClock(wall=time.time() - 200 * DAY)
    store = make_store(clock)
    fill(store, 30)  # 200 days old
    clock.step(150 * DAY)
    fill(store, 20)  # 50 days old
    clock.step(50 * DAY)
    sync = service(store, central.url, central.token, retention_days=90, batch_max_events=10)
    await sync.sync_once()  # sends 1..10 only, then prunes
    assert store.query("SELECT MIN(seq) AS m FROM events")[0]["m"] == 11
    assert (await sync.catch_up()).ok
    assert await sync.prune() == 20
    assert store.query("SELECT MIN(seq) AS m, COUNT(*) AS n FROM events")[0] == {"m": 31, "n": 20}
    clock.is_synced = False
    clock.step(400 * DAY)
    assert await sync.prune() == 0  # an unsynchronised clock's "now" proves nothing
    keep = service(store, central.url, central.token, retention_days=0)
    clock.is_synced = True
    assert await keep.prune() == 0
    await sync.aclose()
    assert len(central.events()) == 50


async def _until(predicate: Callable[[], bool], within_s: float = 20.0) -> None:
    deadline = time.monotonic() + within_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


def _last_seen(central: Central) -> float:
    record = central.storage.station(STATION)
    return record.last_seen if record and record.last_seen else 0.0


async def test_async_telemetry_source(central: Central, make_store: Callable[..., Store]) -> None:
    store = make_store()

    async def telemetry() -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"occupancy": {"rest_area": "occupied"}, "sync": {"pending": -1}}

    sync = service(store, central.url, central.token, telemetry=telemetry)
    assert (await sync.sync_once()).posted  # a heartbeat: nothing to send yet
    await sync.aclose()
    record = central.storage.station(STATION)
    assert record is not None and record.telemetry == {
        "occupancy": {"rest_area": "occupied"},
        "sync": {"pending": -1},  # a snapshot's own "sync" key is left as given
    }
