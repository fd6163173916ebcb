"""Central storage in one SQLite file: the default, with nothing to install or administer.

One writer connection behind a lock (SQLite takes one writer at a time anyway) and one reader
connection per thread, in WAL mode so office queries never wait for an ingest. The Storage
logic itself is sql_storage.py's, shared with PostgreSQL.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from central.storage.base import EVENT_COLUMNS, StorageError
from central.storage.history_sqlite import (
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
    CREATE INDEX events_type_gid ON events(type, gid);
"""
"""The office's event pages by station, by station and type, and by type, each read from one
index in page order (gid) instead of sorting every match (bench/central_scale.py). Time windows
keep events_station_time and events_type_time."""

SCHEMA = [
    """
    CREATE TABLE stations (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created_at REAL NOT NULL,
        acked_seq INTEGER NOT NULL DEFAULT 0,
        last_seen REAL,
        telemetry TEXT,
        telemetry_at REAL
    );
    CREATE TABLE tokens (
        sha256 TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('station', 'office')),
        subject TEXT NOT NULL,
        created_at REAL NOT NULL,
        revoked_at REAL
    );
    CREATE INDEX tokens_subject ON tokens(kind, subject);
    CREATE TABLE runs (
        station TEXT NOT NULL REFERENCES stations(id),
        after INTEGER NOT NULL,
        last INTEGER NOT NULL,
        PRIMARY KEY (station, after)
    );
    CREATE TABLE events (
        gid INTEGER PRIMARY KEY AUTOINCREMENT,
        station TEXT NOT NULL,
        seq INTEGER NOT NULL,
        id TEXT NOT NULL,
        type TEXT NOT NULL,
        ts REAL NOT NULL,
        ts_corrected REAL,
        time REAL NOT NULL,
        time_source TEXT NOT NULL CHECK (time_source IN ('measured', 'corrected', 'unsynced')),
        mono REAL NOT NULL,
        boot_id TEXT NOT NULL,
        clock_synced INTEGER NOT NULL,
        actor TEXT NOT NULL,
        locker TEXT,
        payload TEXT NOT NULL,
        received_at REAL NOT NULL,
        UNIQUE (station, seq)
    );
    CREATE INDEX events_station_time ON events(station, time);
    CREATE INDEX events_type_time ON events(type, time);
    CREATE TABLE bundles (
        version INTEGER PRIMARY KEY AUTOINCREMENT,
        sha256 TEXT NOT NULL,
        body TEXT NOT NULL,
        published_at REAL NOT NULL,
        fleet INTEGER NOT NULL
    );
    CREATE TABLE bundle_targets (
        version INTEGER NOT NULL REFERENCES bundles(version),
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
]

_INSERT = (
    f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(EVENT_COLUMNS))}) ON CONFLICT (station, seq) DO NOTHING"
)


def _statements(script: str) -> list[str]:
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    return [s for s in out if s]


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


class SQLiteStorage(SQLStorage):
    placeholder = "?"
    lock_row = ""
    json_param = "?"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        try:
            self._conn = _connect(self.path)
            self._migrate()
        except sqlite3.Error as exc:
            raise StorageError(f"{self.path}: cannot open the central database: {exc}") from exc

    def _migrate(self) -> None:
        """One transaction per step, so a failed step leaves the steps before it applied."""
        conn = self._conn
        current = self._schema_version(conn, f"{self.path}: schema", len(SCHEMA))
        for number in range(current + 1, len(SCHEMA) + 1):
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _statements(SCHEMA[number - 1]):
                    conn.execute(statement)
                self._set_schema_version(conn, number)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        """This thread's own read-only connection, opened on first use and kept."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = _connect(self.path)
            conn.execute("PRAGMA query_only=ON")
            self._local.conn = conn
            with self._lock:
                self._readers.append(conn)
        yield conn

    @staticmethod
    def _decode_json(value: Any) -> Any:
        """JSON columns are TEXT here; an empty text reads as nothing, as NULL does."""
        return json.loads(value) if value else None

    def _insert_events(
        self, conn: sqlite3.Connection, rows: Sequence[tuple[Any, ...]], fresh: bool
    ) -> int:
        """One executemany either way: ON CONFLICT DO NOTHING costs SQLite nothing extra."""
        before = conn.total_changes
        conn.executemany(_INSERT, rows)
        return conn.total_changes - before

    def _clashing_seq(
        self, conn: sqlite3.Connection, station: str, events: Sequence[IncomingEvent]
    ) -> int | None:
        """One indexed range read of the batch's sequence numbers, compared here."""
        held = dict(
            conn.execute(
                "SELECT seq, id FROM events WHERE station = ? AND seq BETWEEN ? AND ?",
                (station, events[0].seq, events[-1].seq),
            ).fetchall()
        )
        return next((e.seq for e in events if held.get(e.seq, e.id) != e.id), None)

    def _insert_id(
        self, conn: sqlite3.Connection, statement: str, params: Sequence[Any], key: str
    ) -> int:
        """lastrowid rather than RETURNING, which SQLite only has since 3.35."""
        return int(conn.execute(statement, params).lastrowid or 0)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
            for conn in self._readers:
                conn.close()
            self._readers.clear()
