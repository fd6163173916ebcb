"""Central storage in one SQLite file: the default, with nothing to install or administer.

One writer connection behind a lock (SQLite takes one writer at a time anyway) and one reader
connection per thread, in WAL mode so office queries never wait for an ingest.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from central.contiguity import Run, advance
from central.storage.base import (
    EVENT_COLUMNS,
    BundleRecord,
    EventQuery,
    IncomingEvent,
    IngestResult,
    SeqConflict,
    StationExists,
    StationRecord,
    Storage,
    StorageError,
    TokenRecord,
    UnknownStation,
    conflict_message,
    event_dict,
    row_tuple,
)
from central.storage.history_sqlite import HISTORY_STEP, SQLiteHistory

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


class SQLiteStorage(SQLiteHistory, Storage):
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
        conn = self._conn
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = conn.execute("SELECT version FROM schema_version").fetchone()
        current = row[0] if row else 0
        if current > len(SCHEMA):
            raise StorageError(
                f"{self.path}: schema v{current} is newer than this software (v{len(SCHEMA)}); "
                "upgrade the central server"
            )
        for number in range(current + 1, len(SCHEMA) + 1):
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _statements(SCHEMA[number - 1]):
                    conn.execute(statement)
                conn.execute("DELETE FROM schema_version")
                conn.execute("INSERT INTO schema_version VALUES (?)", (number,))
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _read(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = _connect(self.path)
            conn.execute("PRAGMA query_only=ON")
            self._local.conn = conn
            with self._lock:
                self._readers.append(conn)
        return conn

    # --- stations and tokens ----------------------------------------------------------------

    def add_station(self, station: str, name: str, token_sha256: str, now: float) -> None:
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM stations WHERE id = ?", (station,)).fetchone():
                raise StationExists(
                    f"station {station} is already registered; use 'rotate' for a new token"
                )
            conn.execute(
                "INSERT INTO stations (id, name, created_at) VALUES (?, ?, ?)",
                (station, name, now),
            )
            conn.execute(
                "INSERT INTO tokens (sha256, kind, subject, created_at)"
                " VALUES (?, 'station', ?, ?)",
                (token_sha256, station, now),
            )

    def rotate_station_token(self, station: str, token_sha256: str, now: float) -> None:
        with self._write() as conn:
            self._need_station(conn, station)
            conn.execute(
                "UPDATE tokens SET revoked_at = ? WHERE kind = 'station' AND subject = ?"
                " AND revoked_at IS NULL",
                (now, station),
            )
            conn.execute(
                "INSERT INTO tokens (sha256, kind, subject, created_at)"
                " VALUES (?, 'station', ?, ?)",
                (token_sha256, station, now),
            )

    def revoke_station(self, station: str, now: float) -> int:
        with self._write() as conn:
            self._need_station(conn, station)
            cur = conn.execute(
                "UPDATE tokens SET revoked_at = ? WHERE kind = 'station' AND subject = ?"
                " AND revoked_at IS NULL",
                (now, station),
            )
            return cur.rowcount

    def add_office_token(self, name: str, token_sha256: str, now: float) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO tokens (sha256, kind, subject, created_at) VALUES (?, 'office', ?, ?)",
                (token_sha256, name, now),
            )

    def revoke_office_token(self, name: str, now: float) -> int:
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE tokens SET revoked_at = ? WHERE kind = 'office' AND subject = ?"
                " AND revoked_at IS NULL",
                (now, name),
            )
            return cur.rowcount

    def token(self, token_sha256: str) -> TokenRecord | None:
        sql = "SELECT kind, subject, revoked_at FROM tokens WHERE sha256 = ?"
        row = self._read().execute(sql, (token_sha256,)).fetchone()
        if row is None:
            return None
        return TokenRecord(row["kind"], row["subject"], row["revoked_at"] is not None)

    def station(self, station: str) -> StationRecord | None:
        rows = self._stations("WHERE s.id = ?", (station,))
        return rows[0] if rows else None

    def stations(self) -> list[StationRecord]:
        return self._stations("", ())

    def _stations(self, where: str, params: tuple[Any, ...]) -> list[StationRecord]:
        rows = (
            self._read()
            .execute(
                "SELECT s.*, (SELECT COUNT(*) FROM tokens t WHERE t.kind = 'station'"
                " AND t.subject = s.id AND t.revoked_at IS NULL) AS active_tokens"
                f" FROM stations s {where} ORDER BY s.id",
                params,
            )
            .fetchall()
        )
        return [
            StationRecord(
                id=r["id"],
                name=r["name"],
                created_at=r["created_at"],
                acked_seq=r["acked_seq"],
                last_seen=r["last_seen"],
                active_tokens=r["active_tokens"],
                telemetry=json.loads(r["telemetry"]) if r["telemetry"] else None,
                telemetry_at=r["telemetry_at"],
            )
            for r in rows
        ]

    @staticmethod
    def _need_station(conn: sqlite3.Connection, station: str) -> int:
        row = conn.execute("SELECT acked_seq FROM stations WHERE id = ?", (station,)).fetchone()
        if row is None:
            raise UnknownStation(f"station {station} is not registered")
        return int(row[0])

    # --- the usage log ------------------------------------------------------------------------

    def ingest(
        self,
        station: str,
        after: int,
        events: Sequence[IncomingEvent],
        telemetry: str | None,
        now: float,
    ) -> IngestResult:
        rows = [row_tuple(station, e, now) for e in events]
        with self._write() as conn:
            acked = self._need_station(conn, station)
            before = conn.total_changes
            conn.executemany(_INSERT, rows)
            stored = conn.total_changes - before
            if stored < len(rows):
                self._check_same_ids(conn, station, events)
            runs: list[Run] = [
                (r[0], r[1])
                for r in conn.execute(
                    "SELECT after, last FROM runs WHERE station = ?", (station,)
                ).fetchall()
            ]
            if events:
                new_acked, kept = advance(acked, [*runs, (after, events[-1].seq)])
            else:
                new_acked, kept = acked, runs
            if kept != runs:
                conn.execute("DELETE FROM runs WHERE station = ?", (station,))
                conn.executemany(
                    "INSERT INTO runs (station, after, last) VALUES (?, ?, ?)",
                    [(station, a, b) for a, b in kept],
                )
            if telemetry is not None:
                conn.execute(
                    "UPDATE stations SET acked_seq = ?, last_seen = ?, telemetry = ?,"
                    " telemetry_at = ? WHERE id = ?",
                    (new_acked, now, telemetry, now, station),
                )
            else:
                conn.execute(
                    "UPDATE stations SET acked_seq = ?, last_seen = ? WHERE id = ?",
                    (new_acked, now, station),
                )
        return IngestResult(new_acked, stored, len(rows) - stored)

    @staticmethod
    def _check_same_ids(
        conn: sqlite3.Connection, station: str, events: Sequence[IncomingEvent]
    ) -> None:
        held = dict(
            conn.execute(
                "SELECT seq, id FROM events WHERE station = ? AND seq BETWEEN ? AND ?",
                (station, events[0].seq, events[-1].seq),
            ).fetchall()
        )
        for e in events:
            if held.get(e.seq, e.id) != e.id:
                raise SeqConflict(conflict_message(station, e.seq))

    def events(self, query: EventQuery) -> list[dict[str, Any]]:
        where = ["gid > ?"]
        params: list[Any] = [query.after]
        for column, op, value in (
            ("station", "=", query.station),
            ("type", "=", query.type),
            ("time", ">=", query.since),
            ("time", "<", query.until),
        ):
            if value is not None:
                where.append(f"{column} {op} ?")
                params.append(value)
        params.append(query.limit)
        rows = (
            self._read()
            .execute(
                f"SELECT * FROM events WHERE {' AND '.join(where)} ORDER BY gid LIMIT ?", params
            )
            .fetchall()
        )
        return [event_dict(dict(r)) for r in rows]

    def count_events(self, station: str | None = None) -> int:
        if station is None:
            row = self._read().execute("SELECT COUNT(*) FROM events").fetchone()
        else:
            row = (
                self._read()
                .execute("SELECT COUNT(*) FROM events WHERE station = ?", (station,))
                .fetchone()
            )
        return int(row[0])

    # --- bundles ----------------------------------------------------------------------------

    def publish_bundle(self, body: str, sha256: str, stations: Sequence[str], now: float) -> int:
        with self._write() as conn:
            for station in stations:
                self._need_station(conn, station)
            cur = conn.execute(
                "INSERT INTO bundles (sha256, body, published_at, fleet) VALUES (?, ?, ?, ?)",
                (sha256, body, now, int(not stations)),
            )
            version = int(cur.lastrowid or 0)
            conn.executemany(
                "INSERT INTO bundle_targets (version, station) VALUES (?, ?)",
                [(version, s) for s in stations],
            )
            return version

    def bundle_for(self, station: str, have: int) -> BundleRecord | None:
        row = (
            self._read()
            .execute(
                "SELECT b.* FROM bundles b WHERE b.fleet = 1 OR EXISTS (SELECT 1 FROM"
                " bundle_targets t WHERE t.version = b.version AND t.station = ?)"
                " ORDER BY b.version DESC LIMIT 1",
                (station,),
            )
            .fetchone()
        )
        if row is None or row["version"] <= have:
            return None
        return self._bundle(row)

    def bundles(self) -> list[BundleRecord]:
        rows = self._read().execute("SELECT * FROM bundles ORDER BY version DESC").fetchall()
        return [self._bundle(r) for r in rows]

    def _bundle(self, row: sqlite3.Row) -> BundleRecord:
        targets = (
            self._read()
            .execute(
                "SELECT station FROM bundle_targets WHERE version = ? ORDER BY station",
                (row["version"],),
            )
            .fetchall()
        )
        return BundleRecord(
            version=row["version"],
            sha256=row["sha256"],
            body=row["body"],
            published_at=row["published_at"],
            stations=tuple(t[0] for t in targets),
        )

    def close(self) -> None:
        with self._lock:
            self._conn.close()
            for conn in self._readers:
                conn.close()
            self._readers.clear()
