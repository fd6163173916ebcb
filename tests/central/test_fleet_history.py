"""Hourly figures folded from the logs, telemetry samples, and the fleet's reading of snapshots.

Storage tests run on SQLite and PostgreSQL (the `storage` fixture); the fold and the health
rules are pure and tested directly.
"""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from central.fleet import Fleet, problems_of, sample_of, summary_of
from central.rollup import HOUR, fold
from central.settings import CentralSettings
from central.storage.base import StationRecord, Storage
from wire.event import IncomingEvent

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 7, 1, 9, 30, tzinfo=TZ).timestamp()  # 09:30 local, 01:30 UTC


def ev(seq: int, type: str, at: float, payload: dict | None = None, **over) -> IncomingEvent:
    fields = {
        "seq": seq,
        "id": f"e{seq}",
        "type": type,
        "ts": at,
        "ts_corrected": None,
        "mono": 100.0 + seq,
        "boot_id": "b",
        "clock_synced": True,
        "actor": "system",
        "locker": None,
        "payload": json.dumps(payload or {}),
    }
    fields.update(over)
    return IncomingEvent(**fields)


def session(seq: int, start: float, end: float) -> IncomingEvent:
    return ev(seq, "occupancy_session", end, {"started_at": start, "ended_at": end})


def test_fold_splits_sessions_across_hours_and_counts_events() -> None:
    hour = T0 - T0 % HOUR
    rows = [
        {"type": "loan_started", "time": T0, "ts": T0, "payload": "{}"},
        {"type": "tool_returned", "time": T0 + HOUR, "ts": T0 + HOUR, "payload": "{}"},
        {"type": "alarm_raised", "time": T0, "ts": T0, "payload": "{}"},
        {"type": "door_unlocked", "time": T0, "ts": T0, "payload": "{}"},
        # 09:45 to 10:15 local: 15 minutes in each hour, one session counted where it began
        {
            "type": "occupancy_session",
            "time": hour + 4500,
            "ts": hour + 4500,
            "payload": {"started_at": hour + 2700, "ended_at": hour + 4500},
        },
        {"type": "occupancy_session", "time": T0, "ts": T0, "payload": {"started_at": "x"}},
    ]
    hours = fold(rows)
    assert set(hours) == {hour, hour + HOUR}
    first, second = hours[hour], hours[hour + HOUR]
    assert (first.loans, first.alarms, first.door_openings, first.sessions) == (1, 1, 1, 1)
    assert first.occupied_s == 900 and second.occupied_s == 900
    assert (second.returns, second.sessions) == (1, 0)


def test_fold_moves_a_corrected_session_with_its_event() -> None:
    """Measured on a clock 10 hours slow, corrected later: the session moves by 10 hours."""
    wrong = T0 - 10 * HOUR
    row = {
        "type": "occupancy_session",
        "time": T0 + 600,
        "ts": wrong + 600,
        "payload": {"started_at": wrong, "ended_at": wrong + 600},
    }
    hours = fold([row])
    assert list(hours) == [T0 - T0 % HOUR]
    assert hours[T0 - T0 % HOUR].occupied_s == 600


def test_rollup_counts_each_event_once_and_waits_for_gaps(storage: Storage) -> None:
    storage.add_station("S1", "one", "h1", T0)
    storage.ingest("S1", 0, [ev(1, "loan_started", T0), ev(2, "door_unlocked", T0)], None, T0)
    # seq 3 is missing; 4 and 5 arrive first
    storage.ingest("S1", 3, [ev(4, "loan_started", T0 + 60), session(5, T0, T0 + 1200)], None, T0)
    assert storage.rollup("S1") == 2
    assert storage.rollup("S1") == 0  # nothing new: nothing counted twice
    hour = T0 - T0 % HOUR
    (row,) = storage.hourly(hour, hour + HOUR)
    assert (row["loans"], row["door_openings"], row["sessions"]) == (1, 1, 0)
    storage.ingest("S1", 2, [ev(3, "tool_returned", T0 + 30)], None, T0)
    assert storage.rollup("S1") == 3
    (row,) = storage.hourly(hour, hour + HOUR, "S1")
    assert (row["loans"], row["returns"], row["sessions"], row["occupied_s"]) == (2, 1, 1, 1200)
    assert storage.hourly(hour, hour + HOUR, "S2") == []


def test_rollup_in_chunks(storage: Storage) -> None:
    storage.add_station("S1", "one", "h1", T0)
    events = [ev(i, "door_unlocked", T0 + i) for i in range(1, 101)]
    storage.ingest("S1", 0, events, None, T0)
    assert [storage.rollup("S1", limit=40) for _ in range(4)] == [40, 40, 20, 0]
    hour = T0 - T0 % HOUR
    assert sum(r["door_openings"] for r in storage.hourly(hour, hour + 2 * HOUR)) == 100


def test_samples_are_spaced_and_pruned(storage: Storage) -> None:
    storage.add_station("S1", "one", "h1", T0)
    storage.add_station("S2", "two", "h2", T0)
    assert storage.add_sample("S1", T0, {"sync_lag_s": 5.0, "occupied": None}, every_s=300)
    assert not storage.add_sample("S1", T0 + 100, {"sync_lag_s": 9.0}, every_s=300)
    assert storage.add_sample("S2", T0 + 100, {"sync_lag_s": 1.0}, every_s=300)
    assert storage.add_sample("S1", T0 + 400, {"sync_lag_s": 7.0}, every_s=300)
    got = storage.samples(T0)
    assert [(s["station"], s["at"], s["sync_lag_s"]) for s in got] == [
        ("S1", T0, 5.0),
        ("S1", T0 + 400, 7.0),
        ("S2", T0 + 100, 1.0),
    ]
    assert got[0]["occupied"] is None
    assert [s["at"] for s in storage.samples(T0 + 50, "S1")] == [T0 + 400]
    assert storage.prune_samples(T0 + 200) == 2
    assert [s["at"] for s in storage.samples(0)] == [T0 + 400]


def test_history_buckets_by_local_day_and_hour(storage: Storage) -> None:
    storage.add_station("S1", "one", "h1", T0)
    late = datetime(2026, 6, 30, 23, 20, tzinfo=TZ).timestamp()  # yesterday, 15:20 UTC
    storage.ingest(
        "S1",
        0,
        [
            ev(1, "loan_started", late),
            ev(2, "loan_started", T0),
            ev(3, "alarm_raised", T0),
            session(4, T0, T0 + 1800),
        ],
        None,
        T0,
    )
    storage.add_sample("S1", T0 + 60, {"sync_lag_s": 12.0}, every_s=0)
    fleet = Fleet(storage, CentralSettings(), clock=lambda: T0 + 3600)
    fleet.ingested("S1", None)
    h = fleet.history(days=2)
    assert h["days"] == ["2026-06-30", "2026-07-01"]
    s = h["stations"]["S1"]
    assert s["loans_per_day"] == [1, 1] and s["alarms_per_day"] == [0, 1]
    assert s["sessions_per_day"] == [0, 1]
    by_hour = s["occupied_minutes_by_hour"]
    assert by_hour[9] == 15.0  # 30 minutes over 2 days, at 09:xx local
    assert sum(by_hour) == 15.0
    assert s["sync_lag"] == [[T0 + 60, 12.0]]


def record(telemetry: object, last_seen: float | None = T0) -> StationRecord:
    return StationRecord("S1", "one", T0, 0, last_seen, 1, telemetry, last_seen)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "telemetry",
    [
        None,
        {},
        {"doors": "broken", "alarms": {"by_type": ["x"]}, "health": {"cpu_temp_c": "hot"}},
        {"tools": {"overdue_items": [1, None, {"tool_id": "A"}]}, "clock_synced": "yes"},
        {"sync": {"lag_s": True}, "supplies": {"items": "none", "low": None}},
    ],
)
def test_odd_snapshots_never_break_the_fleet_view(telemetry: object) -> None:
    settings = CentralSettings()
    row = summary_of(record(telemetry), T0 + 10, settings)
    assert row["status"] == "online" and row["clock_synced"] is None
    assert sample_of(telemetry if isinstance(telemetry, dict) else {})["sync_lag_s"] is None


def test_problems_rank_critical_first() -> None:
    settings = CentralSettings(offline_after_s=60)
    t = {
        "clock_synced": False,
        "alarms": {"open": 2, "by_type": {"forced_open": 1, "low_stock": 1}},
        "health": {"cpu_temp_c": 84.0, "disk_free_bytes": 5, "disk_total_bytes": 100},
        "sync": {"lag_s": 7200.0, "last_error": "network", "bundle_status": "rejected"},
        "supplies": {"low": 1},
    }
    texts = [(p.level, p.text) for p in problems_of(record(t), T0 + 600, settings)]
    assert [lvl for lvl, _ in texts[:3]] == ["critical"] * 3
    assert ("critical", "offline: last heard 10 min ago") in texts
    assert ("critical", "door forced open (1)") in texts
    assert ("critical", "CPU 84 °C") in texts
    assert ("warning", "disk 5% free") in texts
    assert ("warning", "sync behind by 2.0 h") in texts
    assert ("warning", "clock not synchronised (NTP)") in texts
    assert ("warning", "1 other open alarm(s)") in texts
    assert summary_of(record(t), T0 + 10, settings)["health"] == "critical"
    assert summary_of(record({}), T0 + 10, settings)["health"] == "ok"
    assert summary_of(record({}, last_seen=None), T0, settings)["status"] == "never"


def test_settings_refuse_an_unknown_zone() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Base'"):
        CentralSettings(timezone="Mars/Base")


def test_folding_a_batch_just_stored_counts_what_reading_it_back_counts(storage: Storage) -> None:
    """The ingest route hands the folds the batch it stored whole (no read back); with gaps,
    overlaps and a batch behind a gap, the figures are those of folding from the log."""
    batches = [
        (0, [ev(1, "loan_started", T0), session(2, T0, T0 + 4000), ev(3, "door_unlocked", T0)]),
        (5, [ev(6, "tool_returned", T0 + 60, {"tool_id": "t1", "late": True})]),  # behind a gap
        (3, [ev(4, "alarm_raised", T0, {"alarm": "forced_open"}), ev(5, "loan_started", T0)]),
        (3, [ev(4, "alarm_raised", T0, {"alarm": "forced_open"}), ev(5, "loan_started", T0)]),
        (6, [ev(7, "door_opened", T0), ev(8, "loan_started", T0 + HOUR, {"tool_id": "t2"})]),
    ]
    storage.add_station("S1", "one", "h1", T0)
    storage.add_station("S2", "two", "h2", T0)
    fleet = Fleet(storage, CentralSettings(), clock=lambda: T0)
    for after, events in batches:
        result = storage.ingest("S1", after, events, None, T0)
        whole = (after, events) if result.stored == len(events) else None
        fleet.ingested("S1", None, whole)
        storage.ingest("S2", after, events, None, T0)
        fleet.ingested("S2", None)
    strip = lambda rows: [{k: v for k, v in r.items() if k != "station"} for r in rows]  # noqa: E731
    hourly = storage.hourly(0, T0 + 10 * HOUR, "S1")
    assert hourly and strip(hourly) == strip(storage.hourly(0, T0 + 10 * HOUR, "S2"))
    counts = storage.report_counts(0, T0 + 10 * HOUR)
    assert strip([r for r in counts if r["station"] == "S1"]) == strip(
        [r for r in counts if r["station"] == "S2"]
    )
    assert storage.report_positions() == {"S1": 8, "S2": 8}
