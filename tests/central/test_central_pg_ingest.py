"""PostgreSQL ingest's two paths: COPY straight into `events` for a batch that continues what
central holds, the staging table only for a batch that overlaps it. Real PostgreSQL; a trigger
records the statement that wrote each row (`current_query()`), so the test sees the path taken.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from central.storage.base import SeqConflict
from central.storage.postgres import PostgresStorage
from tests.central.test_central_storage import H1, ev, run

pytestmark = pytest.mark.postgres

_WATCH = """
    CREATE TABLE written_by (seq BIGINT, statement TEXT);
    CREATE FUNCTION note_writer() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO written_by VALUES (NEW.seq, current_query());
        RETURN NEW;
    END $$;
    CREATE TRIGGER note_writer AFTER INSERT ON events FOR EACH ROW EXECUTE FUNCTION note_writer();
"""


@pytest.fixture
def pg(pg_url: str) -> Iterator[tuple[PostgresStorage, psycopg.Connection]]:
    storage = PostgresStorage(pg_url)
    storage.add_station("S001", "Station one", H1, 10.0)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(_WATCH)
        try:
            yield storage, conn
        finally:
            storage.close()


def paths(conn: psycopg.Connection) -> dict[int, str]:
    """seq -> 'copy' or 'staging', for every row written since the last look."""
    rows = conn.execute("DELETE FROM written_by RETURNING seq, statement").fetchall()
    out = {}
    for seq, statement in rows:
        text = " ".join(statement.split()).upper()
        if text.startswith("COPY EVENTS"):
            out[seq] = "copy"
        elif "FROM STAGING" in text:
            out[seq] = "staging"
        else:
            out[seq] = text[:60]
    return out


def test_a_batch_continuing_the_log_is_copied_straight_in(pg) -> None:
    storage, conn = pg
    first = storage.ingest("S001", 0, run(1, 40), None, 20.0)
    nxt = storage.ingest("S001", 40, run(41, 90), None, 21.0)
    assert (first.acked_seq, first.stored, nxt.acked_seq, nxt.stored) == (40, 40, 90, 50)
    assert set(paths(conn).values()) == {"copy"}
    assert storage.count_events("S001") == 90


def test_a_batch_ahead_of_a_gap_is_new_too(pg) -> None:
    storage, conn = pg
    ahead = storage.ingest("S001", 100, run(101, 150), None, 20.0)
    assert (ahead.acked_seq, ahead.stored) == (0, 50)
    filled = storage.ingest("S001", 0, run(1, 100), None, 21.0)
    assert (filled.acked_seq, filled.stored) == (150, 100)
    assert set(paths(conn).values()) == {"copy"}


def test_a_redelivery_goes_through_staging_and_stores_only_what_is_new(pg) -> None:
    storage, conn = pg
    storage.ingest("S001", 0, run(1, 50), None, 20.0)
    paths(conn)
    again = storage.ingest("S001", 25, run(26, 80), None, 21.0)
    assert (again.acked_seq, again.stored, again.duplicates) == (80, 30, 25)
    written = paths(conn)
    assert sorted(written) == list(range(51, 81))
    assert set(written.values()) == {"staging"}


def test_a_batch_meeting_a_run_ahead_goes_through_staging(pg) -> None:
    storage, conn = pg
    storage.ingest("S001", 100, run(101, 150), None, 20.0)  # held ahead of the gap
    paths(conn)
    overlap = storage.ingest("S001", 0, run(1, 120), None, 21.0)
    assert (overlap.acked_seq, overlap.stored, overlap.duplicates) == (150, 100, 20)
    assert set(paths(conn).values()) == {"staging"}


def test_a_conflict_is_still_refused_on_the_staging_path(pg) -> None:
    storage, _ = pg
    storage.ingest("S001", 0, run(1, 10), None, 20.0)
    with pytest.raises(SeqConflict, match="sequence 10"):
        storage.ingest("S001", 7, [*run(8, 9), ev(10, id="different"), *run(11, 12)], None, 21.0)
    assert storage.count_events("S001") == 10


def test_rows_held_without_a_run_fall_back_to_staging(pg) -> None:
    """Should the runs table ever miss rows that are stored, the straight COPY meets them, is
    undone alone (a savepoint), and the batch goes through staging: the upload still works."""
    storage, conn = pg
    storage.ingest("S001", 100, run(101, 120), None, 20.0)
    conn.execute("DELETE FROM runs WHERE station = 'S001'")  # events 101..120 held, no run
    paths(conn)
    result = storage.ingest("S001", 0, run(1, 130), None, 21.0)
    assert (result.acked_seq, result.stored, result.duplicates) == (130, 110, 20)
    written = paths(conn)
    assert sorted(written) == [*range(1, 101), *range(121, 131)]
    assert set(written.values()) == {"staging"}
    assert storage.count_events("S001") == 130
