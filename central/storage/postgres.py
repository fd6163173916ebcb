"""Central storage on PostgreSQL (psycopg 3), for a fleet too big for one SQLite file.

A batch is COPYed into a per-connection temporary staging table and moved into `events` with
one INSERT ... SELECT ... ON CONFLICT DO NOTHING: one round trip's worth of rows, idempotent on
(station, seq). The station row is locked FOR UPDATE for the batch so two deliveries of the same
station (a retry overtaking a slow original) serialise instead of racing on `acked_seq`.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row

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
from central.storage.history_postgres import HISTORY_STEP, PostgresHistory

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


class _Pool:
    """A few connections handed out one thread at a time; a broken one is replaced."""

    def __init__(self, conninfo: str, size: int) -> None:
        self._conninfo = conninfo
        self._idle: queue.LifoQueue[psycopg.Connection[dict[str, Any]]] = queue.LifoQueue()
        self._slots = threading.Semaphore(size)
        self._all: list[psycopg.Connection[dict[str, Any]]] = []
        self._lock = threading.Lock()

    def _open(self) -> psycopg.Connection[dict[str, Any]]:
        conn = psycopg.connect(self._conninfo, autocommit=True, row_factory=dict_row)
        conn.execute(_STAGING)
        with self._lock:
            self._all.append(conn)
        return conn

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[dict[str, Any]]]:
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


class PostgresStorage(PostgresHistory, Storage):
    def __init__(self, conninfo: str, pool_size: int = 4) -> None:
        self._pool = _Pool(conninfo, pool_size)
        try:
            self._migrate()
        except psycopg.Error as exc:
            raise StorageError(f"cannot use the PostgreSQL database: {exc}") from exc

    def _migrate(self) -> None:
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(7317001)")
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = conn.execute("SELECT version FROM schema_version").fetchone()
            current = row["version"] if row else 0
            if current > len(SCHEMA):
                raise StorageError(
                    f"database schema v{current} is newer than this software (v{len(SCHEMA)});"
                    " upgrade the central server"
                )
            for number in range(current + 1, len(SCHEMA) + 1):
                conn.execute(SCHEMA[number - 1])
                conn.execute("DELETE FROM schema_version")
                conn.execute("INSERT INTO schema_version VALUES (%s)", (number,))

    @contextmanager
    def _tx(self) -> Iterator[psycopg.Connection[dict[str, Any]]]:
        with self._pool.connection() as conn, conn.transaction():
            yield conn

    # --- stations and tokens ----------------------------------------------------------------

    def add_station(self, station: str, name: str, token_sha256: str, now: float) -> None:
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT INTO stations (id, name, created_at) VALUES (%s, %s, %s)"
                " ON CONFLICT (id) DO NOTHING",
                (station, name, now),
            )
            if cur.rowcount == 0:
                raise StationExists(
                    f"station {station} is already registered; use 'rotate' for a new token"
                )
            conn.execute(
                "INSERT INTO tokens (sha256, kind, subject, created_at)"
                " VALUES (%s, 'station', %s, %s)",
                (token_sha256, station, now),
            )

    def rotate_station_token(self, station: str, token_sha256: str, now: float) -> None:
        with self._tx() as conn:
            self._need_station(conn, station)
            conn.execute(
                "UPDATE tokens SET revoked_at = %s WHERE kind = 'station' AND subject = %s"
                " AND revoked_at IS NULL",
                (now, station),
            )
            conn.execute(
                "INSERT INTO tokens (sha256, kind, subject, created_at)"
                " VALUES (%s, 'station', %s, %s)",
                (token_sha256, station, now),
            )

    def revoke_station(self, station: str, now: float) -> int:
        with self._tx() as conn:
            self._need_station(conn, station)
            cur = conn.execute(
                "UPDATE tokens SET revoked_at = %s WHERE kind = 'station' AND subject = %s"
                " AND revoked_at IS NULL",
                (now, station),
            )
            return cur.rowcount

    def add_office_token(self, name: str, token_sha256: str, now: float) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO tokens (sha256, kind, subject, created_at)"
                " VALUES (%s, 'office', %s, %s)",
                (token_sha256, name, now),
            )

    def revoke_office_token(self, name: str, now: float) -> int:
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE tokens SET revoked_at = %s WHERE kind = 'office' AND subject = %s"
                " AND revoked_at IS NULL",
                (now, name),
            )
            return cur.rowcount

    def token(self, token_sha256: str) -> TokenRecord | None:
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT kind, subject, revoked_at FROM tokens WHERE sha256 = %s", (token_sha256,)
            ).fetchone()
        if row is None:
            return None
        return TokenRecord(row["kind"], row["subject"], row["revoked_at"] is not None)

    def station(self, station: str) -> StationRecord | None:
        rows = self._stations("WHERE s.id = %s", (station,))
        return rows[0] if rows else None

    def stations(self) -> list[StationRecord]:
        return self._stations("", ())

    def _stations(self, where: str, params: tuple[Any, ...]) -> list[StationRecord]:
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT s.*, (SELECT COUNT(*) FROM tokens t WHERE t.kind = 'station'"
                " AND t.subject = s.id AND t.revoked_at IS NULL) AS active_tokens"
                f" FROM stations s {where} ORDER BY s.id",
                params,
            ).fetchall()
        return [
            StationRecord(
                id=r["id"],
                name=r["name"],
                created_at=r["created_at"],
                acked_seq=r["acked_seq"],
                last_seen=r["last_seen"],
                active_tokens=r["active_tokens"],
                telemetry=r["telemetry"],
                telemetry_at=r["telemetry_at"],
            )
            for r in rows
        ]

    @staticmethod
    def _need_station(conn: psycopg.Connection[dict[str, Any]], station: str) -> int:
        row = conn.execute(
            "SELECT acked_seq FROM stations WHERE id = %s FOR UPDATE", (station,)
        ).fetchone()
        if row is None:
            raise UnknownStation(f"station {station} is not registered")
        return int(row["acked_seq"])

    # --- the usage log ------------------------------------------------------------------------

    def ingest(
        self,
        station: str,
        after: int,
        events: Sequence[IncomingEvent],
        telemetry: str | None,
        now: float,
    ) -> IngestResult:
        with self._tx() as conn:
            acked = self._need_station(conn, station)
            stored = 0
            if events:
                with conn.cursor() as cur:
                    with cur.copy(f"COPY staging ({_COLUMNS}) FROM STDIN") as copy:
                        for e in events:
                            copy.write_row(row_tuple(station, e, now))
                    cur.execute(_MOVE)
                    stored = cur.rowcount
                    if stored < len(events):
                        clash = cur.execute(_CONFLICT).fetchone()
                        if clash is not None:
                            raise SeqConflict(conflict_message(station, clash["seq"]))
            runs: list[Run] = [
                (r["after"], r["last"])
                for r in conn.execute(
                    "SELECT after, last FROM runs WHERE station = %s", (station,)
                ).fetchall()
            ]
            if events:
                new_acked, kept = advance(acked, [*runs, (after, events[-1].seq)])
            else:
                new_acked, kept = acked, runs
            if kept != runs:
                conn.execute("DELETE FROM runs WHERE station = %s", (station,))
                with conn.cursor() as cur:
                    cur.executemany(
                        "INSERT INTO runs (station, after, last) VALUES (%s, %s, %s)",
                        [(station, a, b) for a, b in kept],
                    )
            if telemetry is not None:
                conn.execute(
                    "UPDATE stations SET acked_seq = %s, last_seen = %s, telemetry = %s::jsonb,"
                    " telemetry_at = %s WHERE id = %s",
                    (new_acked, now, telemetry, now, station),
                )
            else:
                conn.execute(
                    "UPDATE stations SET acked_seq = %s, last_seen = %s WHERE id = %s",
                    (new_acked, now, station),
                )
        return IngestResult(new_acked, stored, len(events) - stored)

    def events(self, query: EventQuery) -> list[dict[str, Any]]:
        where = ["gid > %s"]
        params: list[Any] = [query.after]
        for column, op, value in (
            ("station", "=", query.station),
            ("type", "=", query.type),
            ("time", ">=", query.since),
            ("time", "<", query.until),
        ):
            if value is not None:
                where.append(f"{column} {op} %s")
                params.append(value)
        params.append(query.limit)
        with self._pool.connection() as conn:
            rows = conn.execute(
                f"SELECT * FROM events WHERE {' AND '.join(where)} ORDER BY gid LIMIT %s",
                params,
            ).fetchall()
        return [event_dict(r) for r in rows]

    def count_events(self, station: str | None = None) -> int:
        with self._pool.connection() as conn:
            if station is None:
                row = conn.execute("SELECT COUNT(*) AS n FROM events").fetchone()
            else:
                row = conn.execute(
                    "SELECT COUNT(*) AS n FROM events WHERE station = %s", (station,)
                ).fetchone()
        return int(row["n"]) if row else 0

    # --- bundles ----------------------------------------------------------------------------

    def publish_bundle(self, body: str, sha256: str, stations: Sequence[str], now: float) -> int:
        with self._tx() as conn:
            for station in stations:
                self._need_station(conn, station)
            row = conn.execute(
                "INSERT INTO bundles (sha256, body, published_at, fleet)"
                " VALUES (%s, %s, %s, %s) RETURNING version",
                (sha256, body, now, not stations),
            ).fetchone()
            version = int(row["version"]) if row else 0
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO bundle_targets (version, station) VALUES (%s, %s)",
                    [(version, s) for s in stations],
                )
            return version

    def bundle_for(self, station: str, have: int) -> BundleRecord | None:
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT b.* FROM bundles b WHERE b.fleet OR EXISTS (SELECT 1 FROM"
                " bundle_targets t WHERE t.version = b.version AND t.station = %s)"
                " ORDER BY b.version DESC LIMIT 1",
                (station,),
            ).fetchone()
            if row is None or row["version"] <= have:
                return None
            return self._bundle(conn, row)

    def bundles(self) -> list[BundleRecord]:
        with self._pool.connection() as conn:
            rows = conn.execute("SELECT * FROM bundles ORDER BY version DESC").fetchall()
            return [self._bundle(conn, r) for r in rows]

    @staticmethod
    def _bundle(conn: psycopg.Connection[dict[str, Any]], row: dict[str, Any]) -> BundleRecord:
        targets = conn.execute(
            "SELECT station FROM bundle_targets WHERE version = %s ORDER BY station",
            (row["version"],),
        ).fetchall()
        return BundleRecord(
            version=row["version"],
            sha256=row["sha256"],
            body=row["body"],
            published_at=row["published_at"],
            stations=tuple(t["station"] for t in targets),
        )

    def close(self) -> None:
        self._pool.close()
