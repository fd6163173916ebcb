"""The fleet history on PostgreSQL: the same tables and rules as history_sqlite.py.

The rollup position's row is locked FOR UPDATE, so two ingests of one station folding at the
same moment take turns instead of both folding the same events.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from central.rollup import FIGURES, ROLLUP_TYPES, fold
from central.storage.base import UnknownStation

HISTORY_STEP = """
    CREATE TABLE rollup_state (
        station TEXT PRIMARY KEY REFERENCES stations(id),
        rolled_seq BIGINT NOT NULL
    );
    CREATE TABLE station_hourly (
        station TEXT NOT NULL REFERENCES stations(id),
        hour BIGINT NOT NULL,
        occupied_s DOUBLE PRECISION NOT NULL DEFAULT 0,
        sessions BIGINT NOT NULL DEFAULT 0,
        loans BIGINT NOT NULL DEFAULT 0,
        returns BIGINT NOT NULL DEFAULT 0,
        alarms BIGINT NOT NULL DEFAULT 0,
        door_openings BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (station, hour)
    );
    CREATE INDEX station_hourly_hour ON station_hourly(hour);
    CREATE TABLE telemetry_samples (
        station TEXT NOT NULL REFERENCES stations(id),
        at DOUBLE PRECISION NOT NULL,
        sample JSONB NOT NULL,
        PRIMARY KEY (station, at)
    );
    CREATE INDEX telemetry_samples_at ON telemetry_samples(at);
"""

_ADD_HOUR = (
    f"INSERT INTO station_hourly (station, hour, {', '.join(FIGURES)})"
    f" VALUES (%s, %s, {', '.join(['%s'] * len(FIGURES))})"
    " ON CONFLICT (station, hour) DO UPDATE SET "
    + ", ".join(f"{f} = station_hourly.{f} + excluded.{f}" for f in FIGURES)
)

Conn = psycopg.Connection[dict[str, Any]]


class PostgresHistory:
    """Provided by PostgresStorage: a transaction, and a pooled connection for reads."""

    _tx: Callable[[], AbstractContextManager[Conn]]
    _pool: Any

    def rollup(self, station: str, limit: int = 50_000) -> int:
        with self._tx() as conn:
            row = conn.execute(
                "SELECT acked_seq FROM stations WHERE id = %s", (station,)
            ).fetchone()
            if row is None:
                raise UnknownStation(f"station {station} is not registered")
            acked = int(row["acked_seq"])
            conn.execute(
                "INSERT INTO rollup_state (station, rolled_seq) VALUES (%s, 0)"
                " ON CONFLICT (station) DO NOTHING",
                (station,),
            )
            state = conn.execute(
                "SELECT rolled_seq FROM rollup_state WHERE station = %s FOR UPDATE", (station,)
            ).fetchone()
            rolled = int(state["rolled_seq"]) if state else 0
            if acked <= rolled:
                return 0
            upto = min(acked, rolled + limit)
            rows = conn.execute(
                "SELECT type, time, ts, payload FROM events WHERE station = %s AND seq > %s"
                " AND seq <= %s AND type = ANY(%s)",
                (station, rolled, upto, list(ROLLUP_TYPES)),
            ).fetchall()
            hours = fold(rows)
            with conn.cursor() as cur:
                cur.executemany(
                    _ADD_HOUR, [(station, hour, *h.values()) for hour, h in sorted(hours.items())]
                )
            conn.execute(
                "UPDATE rollup_state SET rolled_seq = %s WHERE station = %s", (upto, station)
            )
            return upto - rolled

    def hourly(
        self, since: float, until: float, station: str | None = None
    ) -> list[dict[str, Any]]:
        sql = "SELECT * FROM station_hourly WHERE hour >= %s AND hour < %s"
        params: list[Any] = [since, until]
        if station is not None:
            sql += " AND station = %s"
            params.append(station)
        with self._pool.connection() as conn:
            return list(conn.execute(sql + " ORDER BY station, hour", params).fetchall())

    def add_sample(
        self, station: str, at: float, sample: dict[str, float | None], every_s: float
    ) -> bool:
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT INTO telemetry_samples (station, at, sample) SELECT %s, %s, %s"
                " WHERE NOT EXISTS (SELECT 1 FROM telemetry_samples WHERE station = %s"
                " AND at > %s) ON CONFLICT (station, at) DO NOTHING",
                (station, at, Jsonb(sample), station, at - every_s),
            )
            return cur.rowcount == 1

    def samples(self, since: float, station: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT station, at, sample FROM telemetry_samples WHERE at >= %s"
        params: list[Any] = [since]
        if station is not None:
            sql += " AND station = %s"
            params.append(station)
        with self._pool.connection() as conn:
            rows = conn.execute(sql + " ORDER BY station, at", params).fetchall()
        return [{"station": r["station"], "at": r["at"], **r["sample"]} for r in rows]

    def prune_samples(self, before: float) -> int:
        with self._tx() as conn:
            return conn.execute("DELETE FROM telemetry_samples WHERE at < %s", (before,)).rowcount
