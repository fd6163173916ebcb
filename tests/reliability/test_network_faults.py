"""The street booth's link to central: down for a week, flapping, slow, lying, resetting.

Each case runs the real sync service against a real central server on loopback, through a
proxy that plays the fault, with a real SQLite store. The station keeps logging all along; at
the end central must hold every event of the station exactly once, in one run with no gap.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from station.alarms import AlarmService
from station.store import Store
from station.sync.service import SYNC_SCHEMA, SyncService
from tests.reliability.netkit import (
    DAY,
    HOUR,
    SimulatedLink,
    lost_at_central,
    posted_batches,
)
from tests.reliability.report import record
from tests.station.sync.synckit import (
    STATION,
    Central,
    FlakyProxy,
    StepClock,
    central_server,
    sync_config,
)


@pytest.fixture
def central(tmp_path: Path) -> Iterator[Central]:
    with central_server(tmp_path / "central.db") as server:
        yield server


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(tmp_path / "station.db", StepClock(), [SYNC_SCHEMA])
    yield store
    store.close()


@pytest.fixture
def proxies() -> Iterator[list[FlakyProxy]]:
    started: list[FlakyProxy] = []
    yield started
    for proxy in started:
        proxy.stop()


def _proxy(proxies: list[FlakyProxy], central: Central, **kw: object) -> FlakyProxy:
    proxy = FlakyProxy(central.url, **kw).start()  # type: ignore[arg-type]
    proxies.append(proxy)
    return proxy


def _check_nothing_lost(store: Store, central: Central) -> int:
    checked, lost = lost_at_central(store, central)
    record("events_checked", checked)
    record("events_lost", lost)
    assert lost == 0, f"{lost} of {checked} events never reached central"
    return checked


async def test_a_week_without_central_loses_nothing_and_tells_staff_and_central(
    central: Central, store: Store, proxies: list[FlakyProxy]
) -> None:
    clock = store.clock
    assert isinstance(clock, StepClock)
    proxy = _proxy(proxies, central, weights={"pass": 1})
    alarms = AlarmService(store)
    # The shipped timing (interval, heartbeat, back-off from 1 s, alarm after an hour) except
    # the back-off cap: 900 s instead of 300 s, as a large fleet would set it, which keeps the
    # simulated week at ~1400 rounds instead of ~4000; and batches of 500 events, as each
    # failed attempt encodes its batch before it learns central is away.
    config = sync_config(
        proxy.url,
        central.token,
        interval_s=15.0,
        heartbeat_s=60.0,
        backoff_base_s=1.0,
        backoff_cap_s=900.0,
        alarm_after_s=3600.0,
        batch_max_events=500,
    )
    sync = SyncService(store, config, STATION, clock, rng=random.Random(7), alarms=alarms)
    link = SimulatedLink(sync, clock, store, event_every_s=200.0)
    try:
        assert (await link.run_for(HOUR / 6)).ok
        outage_start = clock.wall()
        first_outage_hour = int(clock.monotonic() // HOUR)
        proxy.weights = {"refuse": 1}

        await link.run_for(2 * HOUR)
        status = sync.status()
        assert status["failing_since"] == pytest.approx(outage_start, abs=30)
        assert status["last_error"]["kind"] == "network"
        assert status["pending"] > 0
        open_alarms = await alarms.list()
        assert [(a["type"], a["subject"]) for a in open_alarms] == [("sync_failing", "central")]
        assert "central unreachable since" in open_alarms[0]["detail"]
        assert "events wait on the station" in open_alarms[0]["detail"]

        await link.run_for(7 * DAY - 2 * HOUR)
        last_outage_hour = int(clock.monotonic() // HOUR)
        waiting = sync.status()["pending"]
        assert waiting > 2500, "the station stopped logging while central was away"

        proxy.history.clear()
        proxy.weights = {"pass": 1}
        assert (await link.run_for(HOUR / 4)).ok
        assert (await sync.catch_up()).ok  # and what the last minutes logged
    finally:
        await sync.aclose()

    # Back-off: neither hammering a down central nor giving up on it, hour after hour.
    hours = [link.attempts_by_hour[h] for h in range(first_outage_hour + 1, last_outage_hour)]
    assert len(hours) >= 7 * 24 - 2
    assert min(hours) >= 1, f"an hour with only {min(hours)} attempts: sync gave up"
    assert max(hours) <= 30, f"an hour with {max(hours)} attempts: sync hammers central"
    assert link.kinds.keys() == {"network"}

    # Central is told: the first batch after the outage says how long and how much waited...
    first = posted_batches(proxy.history)[0]
    told = first["telemetry"]["sync"]
    assert told["failing_since"] == pytest.approx(outage_start, abs=30)
    assert told["last_error"] == "network" and told["pending"] >= waiting
    # ...and the alarm's life is in the log central now holds.
    held = central.events()
    raised = [e for e in held if e["type"] == "alarm_raised"]
    cleared = [e for e in held if e["type"] == "alarm_cleared"]
    assert [e["payload"]["alarm"] for e in raised] == ["sync_failing"]
    assert [e["payload"]["alarm"] for e in cleared] == ["sync_failing"]
    assert await alarms.list() == []
    assert sync.status()["failing_since"] is None

    checked = _check_nothing_lost(store, central)
    assert checked >= 3000
    per_hour = sum(hours) / len(hours)
    print(f"outage week: {checked} events, {per_hour:.1f} attempts/hour", min(hours), max(hours))


FAULTS = {
    "flapping": {
        "weights": {},
        "pattern": ("pass", "pass", "refuse", "refuse", "refuse", "pass", "refuse"),
    },
    "slow": {"weights": {"pass": 1, "slow": 2, "hang": 1}, "hang_s": 0.8},
    "garbage": {
        "weights": {"pass": 2, "garbage": 1, "wrongtype": 1, "nonsense": 2, "truncated": 1}
    },
    "resets": {"weights": {"pass": 1, "reset": 1, "refuse": 1}},
}
EXPECTED_KINDS = {
    "flapping": {"network"},
    "slow": {"timeout"},
    "garbage": {"garbage", "network"},
    "resets": {"network"},
}


ROUNDS = 30


@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_a_bad_link_never_loses_or_doubles_an_event(
    central: Central, store: Store, proxies: list[FlakyProxy], fault: str
) -> None:
    proxy = _proxy(proxies, central, **FAULTS[fault])
    sync = SyncService(
        store,
        # Only the slow case needs a short timeout; elsewhere a loaded CI machine must not turn
        # a slow pass into a timeout the case does not expect.
        sync_config(
            proxy.url, central.token, batch_max_events=40, timeout_s=0.3 if fault == "slow" else 5
        ),
        STATION,
        store.clock,
        rng=random.Random(3),
        alarms=AlarmService(store),
    )
    clock = store.clock
    assert isinstance(clock, StepClock)
    link = SimulatedLink(sync, clock, store, event_every_s=1.0)
    kinds: set[str] = set()
    try:
        await link.log_usage(200)
        for round_no in range(ROUNDS):
            outcome = await sync.sync_once()
            if outcome.problem is not None:
                kinds.add(outcome.problem.kind)
            if round_no % 3 == 0:
                await link.log_usage(15)
        proxy.weights, proxy.pattern = {"pass": 1}, ()
        assert (await sync.catch_up()).ok
    finally:
        await sync.aclose()
    assert kinds == EXPECTED_KINDS[fault], (kinds, proxy.counts)
    assert sync.status()["pending"] == 0
    # A batch central stored but whose answer never came is recognised, not stored twice.
    assert central.storage.count_events(STATION) == central.acked()
    _check_nothing_lost(store, central)
