"""A station's 100 000-event backlog reaches a real central server complete and in order."""

from __future__ import annotations

import time
from collections.abc import Callable

from station.store import Store
from tests.station.sync.synckit import STATION, Central, fill, service, station_log


async def test_backlog_of_100k_arrives_complete_and_in_order(
    central: Central, make_store: Callable[..., Store]
) -> None:
    store = make_store()
    fill(store, 100_000)
    sync = service(store, central.url, central.token)
    started = time.perf_counter()
    outcome = await sync.catch_up()
    elapsed = time.perf_counter() - started
    await sync.aclose()
    assert outcome.ok
    held = central.events()
    assert [(e["seq"], e["id"]) for e in held] == station_log(store)
    assert [e["gid"] for e in held] == sorted(e["gid"] for e in held)  # arrived in order
    assert central.acked() == 100_000
    status = sync.status()
    assert status["pending"] == 0 and status["cursor"] == 100_000 and status["lag_s"] == 0.0
    assert held[5]["payload"] == {"i": 5, "why": "借还"} and held[5]["time_source"] == "measured"
    # About 3 s alone on a 2-core machine; the bound only catches a pathological slow-down
    # (a quadratic scan) without failing on a CI machine busy with other suites.
    assert elapsed < 60, f"catch-up took {elapsed:.1f}s"
    record = central.storage.station(STATION)
    assert record is not None and record.telemetry is not None
    assert record.telemetry["sync"]["bundle_status"] == "ok"
