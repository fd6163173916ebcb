"""Wrong-PIN throttling on a real store: counts, lockouts, doubling, alarms, release."""

from __future__ import annotations

import json

import pytest

from station.clock import FakeClock
from station.people.config import PeopleConfig
from station.people.lockout import Lockout
from station.store import Store

SUBJECT = "member:" + "0123456789abcdef" * 4
LABEL = "member:01234567/5678"


def fail(store: Store, lockout: Lockout):
    return store.write_now(lambda tx: lockout.fail(tx, SUBJECT, LABEL, "kiosk:screen"))


def open_alarms(store: Store) -> list[dict]:
    return store.query(
        "SELECT subject, state FROM alarms WHERE type = 'pin_lockout' AND state != 'cleared'"
    )


def test_five_failures_lock_for_five_minutes_with_an_alarm(
    store: Store, lockout: Lockout, clock: FakeClock
) -> None:
    results = [fail(store, lockout) for _ in range(5)]
    assert [r.tries_left for r in results] == [4, 3, 2, 1, 0]
    assert [r.locked_until for r in results[:4]] == [None] * 4
    assert results[4].locked_until == clock.wall() + 300
    assert store.write_now(lambda tx: lockout.locked_until(tx, SUBJECT)) == clock.wall() + 300
    assert open_alarms(store) == [{"subject": LABEL, "state": "raised"}]
    events = store.events_after(0, types=["pin_failed", "pin_lockout"])
    assert [e.type for e in events] == ["pin_failed"] * 5 + ["pin_lockout"]
    assert events[-1].payload["seconds"] == 300 and events[-1].payload["lockout"] == 1
    assert {e.actor for e in events[:5]} == {"kiosk:screen"}


def test_lockouts_double_and_stop_at_the_ceiling(store: Store, alarms, clock: FakeClock) -> None:
    lockout = Lockout(PeopleConfig(lockout_s=300, lockout_max_s=1000), alarms)
    lengths = []
    for _ in range(4):
        for _ in range(4):
            fail(store, lockout)
        until = fail(store, lockout).locked_until
        lengths.append(round(until - clock.wall()))
        clock.advance(until - clock.wall() + 1)
        store.write_now(lockout.sweep)
    assert lengths == [300, 600, 1000, 1000]


def test_sweep_clears_the_alarm_when_the_lock_runs_out(
    store: Store, lockout: Lockout, clock: FakeClock
) -> None:
    for _ in range(5):
        fail(store, lockout)
    clock.advance(299)
    assert store.write_now(lockout.sweep) == 0
    assert open_alarms(store)
    clock.advance(2)
    assert store.write_now(lockout.sweep) == 1
    assert open_alarms(store) == []
    assert store.write_now(lambda tx: lockout.locked_until(tx, SUBJECT)) is None


def test_success_forgets_failures_and_the_doubling(
    store: Store, lockout: Lockout, clock: FakeClock
) -> None:
    for _ in range(5):
        fail(store, lockout)
    clock.advance(301)
    store.write_now(lambda tx: lockout.succeed(tx, SUBJECT, LABEL))
    for _ in range(4):
        fail(store, lockout)
    assert fail(store, lockout).locked_until == pytest.approx(clock.wall() + 300)


def test_staff_release(store: Store, lockout: Lockout) -> None:
    for _ in range(5):
        fail(store, lockout)
    assert store.write_now(lambda tx: lockout.release(tx, SUBJECT, LABEL, "staff:S1", "ID seen"))
    assert open_alarms(store) == []
    assert store.write_now(lambda tx: lockout.locked_until(tx, SUBJECT)) is None
    released = store.events_after(0, types=["pin_lockout_released"])
    assert released[0].actor == "staff:S1"
    assert released[0].payload == {"subject": LABEL, "reason": "ID seen"}
    assert not store.write_now(lambda tx: lockout.release(tx, SUBJECT, LABEL, "staff:S1", "again"))


def test_lockout_events_name_the_subject_by_label_only(store: Store, lockout: Lockout) -> None:
    for _ in range(5):
        fail(store, lockout)
    for event in store.events_after(0, limit=100):
        assert SUBJECT not in json.dumps(event.payload)
