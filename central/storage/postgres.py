"""Central storage on PostgreSQL (psycopg 3), for a fleet too big for one SQLite file.

A batch that continues what central holds (none of its sequence numbers stored: the usual case)
is COPYed straight into `events`. One that overlaps what is held (a redelivery, a retry
overtaken by a newer batch) is COPYed into a per-connection temporary staging table and moved
into `events` with one INSERT ... SELECT ... ON CONFLICT DO NOTHING, idempotent on
(station, seq). The station row is locked FOR UPDATE for the batch so two deliveries of the same
station (a retry overtaking a slow original) serialise instead of racing on `acked_seq`. The
Storage logic itself is sql_storage.py's, shared with SQLite.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row

from central.storage.base import EVENT_COLUMNS, StorageError
from central.storage.history_postgres import (
    ALERTS_STEP,
    HISTORY_STEP,
    REMINDERS_STEP,
    REPORTS_STEP,
)
from central.storage.sql_commands import COMMANDS_STEP
from central.storage.sql_releases import RELEASES_STEP
from central.storage.sql_storage import SQLStorage
from wire.event import IncomingEvent

EVENT_INDEXES_STEP = """
    CREATE INDEX events_station_gid ON events(station, gid);
    CREATE INDEX events_station_type_gid ON events(station, type, gid);
    CREATE INDEX events_time_brin ON events USING brin (time);
    DROP INDEX events_station_time;
    DROP INDEX events_type_time;
"""
"""The office's event pages by station and by station and type, each read from one index in
page order (gid) instead of sorting every match (bench/central_scale.py). Every b-tree costs
each COPY (bench/sync.py: ingest against COPY into a bare table), so the time windows move to a
BRIN index, a few pages that cost an insert almost nothing (events arrive roughly in time
order), and the two (station|type, time) b-trees go."""

STATION_TIME_STEP = """
    CREATE INDEX IF NOT EXISTS events_station_time ON events(station, time);
"""
"""One station's time window (the office's events page with `since`/`until` and a station)
read from one b-tree range instead of a BitmapAnd of the time BRIN with the whole
events_station_gid range of the station, which read every event the station ever sent
(EXPLAIN (ANALYZE, BUFFERS) at 10M events: 100 000 index entries for 2 017 rows; 29.7 ms, of
which 17.3 ms the station's index range). Its cost to a COPY is small: a batch is one station's
events in time order, so they land in a few leaf pages at the end of the station's range.
On a big existing database this step builds the index under a write lock (a few minutes per
10M events); build it first with CREATE INDEX CONCURRENTLY under the same name to avoid that."""

SCHEMA = [
    """
    CREATE TABLE stations (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        acked_seq BIGINT NOT NULL DEFAULT 0,
        last_seen DOUBLE PRECISION,
        telemetry JSONB,
        telemetry_at DOUBLE PRECISION
    );
    CREATE TABLE tokens (
        sha256 TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('station', 'office')),
        subject TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        revoked_at DOUBLE PRECISION
    );
    CREATE INDEX tokens_subject ON tokens(kind, subject);
    CREATE TABLE runs (
        station TEXT NOT NULL REFERENCES stations(id),
        after BIGINT NOT NULL,
        last BIGINT NOT NULL,
        PRIMARY KEY (station, after)
    );
    CREATE TABLE events (
        gid BIGSERIAL PRIMARY KEY,
        station TEXT NOT NULL,
        seq BIGINT NOT NULL,
        id TEXT NOT NULL,
        type TEXT NOT NULL,
        ts DOUBLE PRECISION NOT NULL,
        ts_corrected DOUBLE PRECISION,
        time DOUBLE PRECISION NOT NULL,
        time_source TEXT NOT NULL CHECK (time_source IN ('measured', 'corrected', 'unsynced')),
        mono DOUBLE PRECISION NOT NULL,
        boot_id TEXT NOT NULL,
        clock_synced BOOLEAN NOT NULL,
        actor TEXT NOT NULL,
        locker TEXT,
        payload JSONB NOT NULL,
        received_at DOUBLE PRECISION NOT NULL,
        UNIQUE (station, seq)
    );
    CREATE INDEX events_station_time ON events(station, time);
    CREATE INDEX events_type_time ON events(type, time);
    CREATE TABLE bundles (
        version BIGSERIAL PRIMARY KEY,
        sha256 TEXT NOT NULL,
        body TEXT NOT NULL,
        published_at DOUBLE PRECISION NOT NULL,
        fleet BOOLEAN NOT NULL
    );
    CREATE TABLE bundle_targets (
        version BIGINT NOT NULL REFERENCES bundles(version),
        station TEXT NOT NULL,
        PRIMARY KEY (station, version)
    );
    """,
    HISTORY_STEP,
    EVENT_INDEXES_STEP,
    REPORTS_STEP,
    ALERTS_STEP,
    REMINDERS_STEP,
    COMMANDS_STEP,
    RELEASES_STEP,
    STATION_TIME_STEP,
]

_STAGING = """
    CREATE TEMPORARY TABLE IF NOT EXISTS staging (
        station TEXT, seq BIGINT, id TEXT, type TEXT, ts DOUBLE PRECISION,
        ts_corrected DOUBLE PRECISION, time DOUBLE PRECISION, time_source TEXT,
        mono DOUBLE PRECISION, boot_id TEXT, clock_synced BOOLEAN, actor TEXT, locker TEXT,
        payload TEXT, received_at DOUBLE PRECISION
    ) ON COMMIT DELETE ROWS
"""
_COLUMNS = ", ".join(EVENT_COLUMNS)
_COPY_EVENTS = f"COPY events ({_COLUMNS}) FROM STDIN"
_MOVE = (
    f"INSERT INTO events ({_COLUMNS}) SELECT "
    + ", ".join("payload::jsonb" if c == "payload" else c for c in EVENT_COLUMNS)
    + " FROM staging ORDER BY seq ON CONFLICT (station, seq) DO NOTHING"
)
# Which staged sequence numbers are held with another event id (the only duplicate that hurts).
_CONFLICT = (
    "SELECT s.seq FROM staging s JOIN events e ON e.station = s.station AND e.seq = s.seq"
    " WHERE e.id <> s.id ORDER BY s.seq LIMIT 1"
)


Conn = psycopg.Connection[dict[str, Any]]


class _Pool:
    """A few connections handed out one thread at a time; a broken one is replaced."""

    def __init__(self, conninfo: str, size: int) -> None:
        self._conninfo = conninfo
        self._idle: queue.LifoQueue[Conn] = queue.LifoQueue()
        self._slots = threading.Semaphore(size)
        self._all: list[Conn] = []
        self._lock = threading.Lock()

    def _open(self) -> Conn:
        conn = psycopg.connect(self._conninfo, autocommit=True, row_factory=dict_row)
        conn.execute(_STAGING)
        with self._lock:
            self._all.append(conn)
        return conn

    @contextmanager
    def connection(self) -> Iterator[Conn]:
        with self._slots:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                conn = self._open()
            try:
                yield conn
            except psycopg.OperationalError:
                conn.close()
                raise
            finally:
                if not conn.closed:
                    self._idle.put(conn)

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()


class PostgresStorage(SQLStorage):
    placeholder = "%s"
    lock_row = " FOR UPDATE"
    json_param = "?::jsonb"

    def __init__(self, conninfo: str, pool_size: int = 4) -> None:
        self._pool = _Pool(conninfo, pool_size)
        try:
            self._migrate()
        except psycopg.Error as exc:
            raise StorageError(f"cannot use the PostgreSQL database: {exc}") from exc

    def _migrate(self) -> None:
        """All steps in one transaction under an advisory lock, so central processes starting
        together migrate once."""
        with self._tx() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(7317001)")
            current = self._schema_version(conn, "database schema", len(SCHEMA))
            for number in range(current + 1, len(SCHEMA) + 1):
                conn.execute(SCHEMA[number - 1])
                self._set_schema_version(conn, number)

    @contextmanager
    def _tx(self) -> Iterator[Conn]:
        with self._pool.connection() as conn, conn.transaction():
            yield conn

    def _reader(self) -> AbstractContextManager[Conn]:
        return self._pool.connection()

    @staticmethod
    def _decode_json(value: Any) -> Any:
        """JSONB arrives as Python objects already."""
        return value

    def _insert_events(self, conn: Conn, rows: Sequence[tuple[Any, ...]], fresh: bool) -> int:
        """COPY straight into `events` when nothing can clash; else COPY into the staging
        table, then one INSERT ... SELECT ... ON CONFLICT DO NOTHING into `events`.

        The straight COPY runs in a savepoint: should a row clash after all (the runs table
        and the events disagree), it is undone and the batch takes the staging path, which
        tells a redelivery from a conflict, instead of failing the station's upload."""
        if fresh:
            try:
                with conn.transaction(), conn.cursor() as cur, cur.copy(_COPY_EVENTS) as copy:
                    for row in rows:
                        copy.write_row(row)
                return len(rows)
            except psycopg.errors.UniqueViolation:
                pass
        with conn.cursor() as cur:
            with cur.copy(f"COPY staging ({_COLUMNS}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cur.execute(_MOVE)
            return cur.rowcount

    def _clashing_seq(
        self, conn: Conn, station: str, events: Sequence[IncomingEvent]
    ) -> int | None:
        """The batch is still in the staging table until commit: compare it there."""
        clash = conn.execute(_CONFLICT).fetchone()
        return int(clash["seq"]) if clash is not None else None

    def _insert_id(self, conn: Conn, statement: str, params: Sequence[Any], key: str) -> int:
        row = self._one(conn, f"{statement} RETURNING {key}", params)
        return int(row[key]) if row else 0

    def close(self) -> None:
        self._pool.close()
