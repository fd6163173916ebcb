"""Central storage: the same behaviour on SQLite and PostgreSQL (see conftest's `storage`)."""

from __future__ import annotations

import json
import random
import threading

import pytest

from central.storage.base import (
    EventQuery,
    IncomingEvent,
    SeqConflict,
    StationExists,
    Storage,
    UnknownStation,
)

H1, H2, H3 = "1" * 64, "2" * 64, "3" * 64


def ev(seq: int, **over: object) -> IncomingEvent:
    base: dict[str, object] = {
        "seq": seq,
        "id": f"e{seq:08d}",
        "type": "door_opened" if seq % 2 else "loan_started",
        "ts": 1_767_225_600.0 + seq,
        "ts_corrected": None,
        "mono": 100.0 + seq,
        "boot_id": "boot-a",
        "clock_synced": True,
        "actor": "member:7",
        "locker": "A01",
        "payload": json.dumps({"n": seq, "note": "借用"}, ensure_ascii=False),
    }
    base.update(over)
    return IncomingEvent(**base)  # type: ignore[arg-type]


def run(first: int, last: int) -> list[IncomingEvent]:
    return [ev(s) for s in range(first, last + 1)]


@pytest.fixture
def st(storage: Storage) -> Storage:
    storage.add_station("S001", "Station one", H1, 10.0)
    return storage


def test_register_and_tokens(storage: Storage) -> None:
    storage.add_station("S001", "Station one", H1, 10.0)
    with pytest.raises(StationExists, match="already registered"):
        storage.add_station("S001", "again", H2, 11.0)
    token = storage.token(H1)
    assert token is not None and (token.kind, token.subject, token.revoked) == (
        "station",
        "S001",
        False,
    )
    storage.rotate_station_token("S001", H2, 12.0)
    old, new = storage.token(H1), storage.token(H2)
    assert old is not None and old.revoked
    assert new is not None and not new.revoked and new.subject == "S001"
    assert storage.revoke_station("S001", 13.0) == 1
    revoked = storage.token(H2)
    assert revoked is not None and revoked.revoked
    record = storage.station("S001")
    assert record is not None and record.active_tokens == 0 and record.name == "Station one"
    storage.add_office_token("ops", H3, 14.0)
    office = storage.token(H3)
    assert office is not None and (office.kind, office.subject) == ("office", "ops")
    assert storage.revoke_office_token("ops", 15.0) == 1
    assert storage.token("f" * 64) is None
    with pytest.raises(UnknownStation):
        storage.rotate_station_token("S404", "4" * 64, 16.0)


def test_ingest_is_idempotent(st: Storage) -> None:
    first = st.ingest("S001", 0, run(1, 50), None, 20.0)
    assert (first.acked_seq, first.stored, first.duplicates) == (50, 50, 0)
    again = st.ingest("S001", 0, run(1, 50), None, 21.0)
    assert (again.acked_seq, again.stored, again.duplicates) == (50, 0, 50)
    overlap = st.ingest("S001", 25, run(26, 80), None, 22.0)
    assert (overlap.acked_seq, overlap.stored, overlap.duplicates) == (80, 30, 25)
    assert st.count_events("S001") == 80


def test_contiguous_seq_waits_for_the_gap(st: Storage) -> None:
    ahead = st.ingest("S001", 100, run(101, 200), None, 20.0)
    assert ahead.acked_seq == 0 and ahead.stored == 100
    further = st.ingest("S001", 200, run(201, 250), None, 20.5)
    assert further.acked_seq == 0
    filled = st.ingest("S001", 0, run(1, 100), None, 21.0)
    assert filled.acked_seq == 250
    record = st.station("S001")
    assert record is not None and record.acked_seq == 250


def test_gaps_in_the_station_log_are_followed_by_its_after(st: Storage) -> None:
    # The station's log skips 3 and 4 (never committed): its batch says so with after/order.
    events = [ev(1), ev(2), ev(5), ev(6)]
    result = st.ingest("S001", 0, events, None, 20.0)
    assert result.acked_seq == 6
    nxt = st.ingest("S001", 6, [ev(9)], None, 21.0)
    assert nxt.acked_seq == 9


def test_conflicting_event_is_refused_and_nothing_stored(st: Storage) -> None:
    st.ingest("S001", 0, run(1, 10), None, 20.0)
    clash = [*run(8, 9), ev(10, id="different"), *run(11, 12)]
    with pytest.raises(SeqConflict, match="sequence 10"):
        st.ingest("S001", 7, clash, None, 21.0)
    assert st.count_events("S001") == 10
    record = st.station("S001")
    assert record is not None and record.acked_seq == 10


def test_unknown_station(storage: Storage) -> None:
    with pytest.raises(UnknownStation):
        storage.ingest("S404", 0, run(1, 2), None, 1.0)


def test_time_sources(st: Storage) -> None:
    events = [
        ev(1),
        ev(2, clock_synced=False, ts=5.0, ts_corrected=1_767_225_000.5),
        ev(3, clock_synced=False, ts=6.0),
    ]
    st.ingest("S001", 0, events, None, 20.0)
    rows = {r["seq"]: r for r in st.events(EventQuery(station="S001"))}
    assert rows[1]["time_source"] == "measured" and rows[1]["time"] == rows[1]["ts"]
    assert rows[2]["time_source"] == "corrected"
    assert rows[2]["time"] == 1_767_225_000.5 and rows[2]["ts"] == 5.0
    assert rows[3]["time_source"] == "unsynced" and rows[3]["ts_corrected"] is None
    assert rows[2]["payload"] == {"n": 2, "note": "借用"}
    assert rows[2]["clock_synced"] is False


def test_query_filters_and_pages(st: Storage) -> None:
    st.add_station("S002", "two", H2, 10.0)
    st.ingest("S001", 0, run(1, 30), None, 20.0)
    st.ingest("S002", 0, run(1, 10), None, 20.0)
    seen: list[tuple[str, int]] = []
    after = 0
    while True:
        page = st.events(EventQuery(after=after, limit=7))
        seen += [(r["station"], r["seq"]) for r in page]
        if len(page) < 7:
            break
        after = page[-1]["gid"]
    assert len(seen) == 40 and len(set(seen)) == 40
    only = st.events(EventQuery(station="S002", type="door_opened", limit=100))
    assert [r["seq"] for r in only] == [1, 3, 5, 7, 9]
    since = 1_767_225_600.0 + 10
    window = st.events(EventQuery(station="S001", since=since, until=since + 5, limit=100))
    assert [r["seq"] for r in window] == [10, 11, 12, 13, 14]


def test_heartbeat_and_telemetry(st: Storage) -> None:
    result = st.ingest("S001", 0, [], json.dumps({"doors": {"A01": "closed"}}), 30.0)
    assert result.acked_seq == 0
    record = st.station("S001")
    assert record is not None
    assert record.last_seen == 30.0 and record.telemetry == {"doors": {"A01": "closed"}}
    st.ingest("S001", 0, run(1, 2), None, 31.0)
    record = st.station("S001")
    assert record is not None and record.telemetry_at == 30.0 and record.last_seen == 31.0


def test_bundles_fleet_and_targeted(st: Storage) -> None:
    st.add_station("S002", "two", H2, 10.0)
    assert st.bundle_for("S001", 0) is None
    v1 = st.publish_bundle('{"a":1}', "a" * 64, [], 40.0)
    v2 = st.publish_bundle('{"b":2}', "b" * 64, ["S002"], 41.0)
    assert v2 > v1
    got1 = st.bundle_for("S001", 0)
    assert got1 is not None and got1.version == v1 and got1.body == '{"a":1}'
    got2 = st.bundle_for("S002", 0)
    assert got2 is not None and got2.version == v2 and got2.stations == ("S002",)
    assert st.bundle_for("S001", v1) is None
    assert st.bundle_for("S002", v2) is None
    assert [b.version for b in st.bundles()] == [v2, v1]
    with pytest.raises(UnknownStation):
        st.publish_bundle("{}", "c" * 64, ["S404"], 42.0)


def test_concurrent_overlapping_deliveries(st: Storage) -> None:
    """Retries, replays and fresh batches of one station racing: exactly the log, no gaps."""
    total, size = 3000, 250
    batches = [(a, run(a + 1, min(a + size, total))) for a in range(0, total, size)]
    deliveries = batches * 3
    random.Random(7).shuffle(deliveries)
    errors: list[BaseException] = []

    def worker(items: list[tuple[int, list[IncomingEvent]]]) -> None:
        try:
            for after, events in items:
                st.ingest("S001", after, events, None, 50.0)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(deliveries[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert st.count_events("S001") == total
    record = st.station("S001")
    assert record is not None and record.acked_seq == total
    seqs = [r["seq"] for r in st.events(EventQuery(station="S001", limit=total))]
    assert sorted(seqs) == list(range(1, total + 1))
