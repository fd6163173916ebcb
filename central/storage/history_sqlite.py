"""The fleet history on SQLite: hourly figures folded from the log, and telemetry samples.

Mixed into SQLiteStorage, whose one writer connection and per-thread readers it uses; the
arithmetic is central/rollup.py's, shared with PostgreSQL.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from central.rollup import FIGURES, ROLLUP_TYPES, fold
from central.storage.base import UnknownStation

HISTORY_STEP = """
    CREATE TABLE rollup_state (
        station TEXT PRIMARY KEY REFERENCES stations(id),
        rolled_seq INTEGER NOT NULL
    );
    CREATE TABLE station_hourly (
        station TEXT NOT NULL REFERENCES stations(id),
        hour INTEGER NOT NULL,
        occupied_s REAL NOT NULL DEFAULT 0,
        sessions INTEGER NOT NULL DEFAULT 0,
        loans INTEGER NOT NULL DEFAULT 0,
        returns INTEGER NOT NULL DEFAULT 0,
        alarms INTEGER NOT NULL DEFAULT 0,
        door_openings INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (station, hour)
    );
    CREATE INDEX station_hourly_hour ON station_hourly(hour);
    CREATE TABLE telemetry_samples (
        station TEXT NOT NULL REFERENCES stations(id),
        at REAL NOT NULL,
        sample TEXT NOT NULL,
        PRIMARY KEY (station, at)
    );
    CREATE INDEX telemetry_samples_at ON telemetry_samples(at);
"""

_TYPES = ", ".join(f"'{t}'" for t in ROLLUP_TYPES)
_ADD_HOUR = (
    f"INSERT INTO station_hourly (station, hour, {', '.join(FIGURES)})"
    f" VALUES (?, ?, {', '.join('?' * len(FIGURES))})"
    " ON CONFLICT (station, hour) DO UPDATE SET "
    + ", ".join(f"{f} = {f} + excluded.{f}" for f in FIGURES)
)


class SQLiteHistory:
    """Provided by SQLiteStorage: one write transaction, and this thread's reader."""

    _write: Callable[[], AbstractContextManager[sqlite3.Connection]]
    _read: Callable[[], sqlite3.Connection]

    def rollup(self, station: str, limit: int = 50_000) -> int:
        with self._write() as conn:
            row = conn.execute("SELECT acked_seq FROM stations WHERE id = ?", (station,)).fetchone()
            if row is None:
                raise UnknownStation(f"station {station} is not registered")
            acked = int(row[0])
            state = conn.execute(
                "SELECT rolled_seq FROM rollup_state WHERE station = ?", (station,)
            ).fetchone()
            rolled = int(state[0]) if state else 0
            if acked <= rolled:
                return 0
            upto = min(acked, rolled + limit)
            rows = conn.execute(
                "SELECT type, time, ts, payload FROM events WHERE station = ? AND seq > ?"
                f" AND seq <= ? AND type IN ({_TYPES})",
                (station, rolled, upto),
            ).fetchall()
            hours = fold(dict(r) for r in rows)
            conn.executemany(
                _ADD_HOUR, [(station, hour, *h.values()) for hour, h in sorted(hours.items())]
            )
            conn.execute(
                "INSERT INTO rollup_state (station, rolled_seq) VALUES (?, ?)"
                " ON CONFLICT (station) DO UPDATE SET rolled_seq = excluded.rolled_seq",
                (station, upto),
            )
            return upto - rolled

    def hourly(
        self, since: float, until: float, station: str | None = None
    ) -> list[dict[str, Any]]:
        sql = "SELECT * FROM station_hourly WHERE hour >= ? AND hour < ?"
        params: list[Any] = [since, until]
        if station is not None:
            sql += " AND station = ?"
            params.append(station)
        rows = self._read().execute(sql + " ORDER BY station, hour", params).fetchall()
        return [dict(r) for r in rows]

    def add_sample(
        self, station: str, at: float, sample: dict[str, float | None], every_s: float
    ) -> bool:
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO telemetry_samples (station, at, sample) SELECT ?, ?, ?"
                " WHERE NOT EXISTS (SELECT 1 FROM telemetry_samples WHERE station = ?"
                " AND at > ?) ON CONFLICT (station, at) DO NOTHING",
                (station, at, json.dumps(sample), station, at - every_s),
            )
            return cur.rowcount == 1

    def samples(self, since: float, station: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT station, at, sample FROM telemetry_samples WHERE at >= ?"
        params: list[Any] = [since]
        if station is not None:
            sql += " AND station = ?"
            params.append(station)
        rows = self._read().execute(sql + " ORDER BY station, at", params).fetchall()
        return [{"station": r["station"], "at": r["at"], **json.loads(r["sample"])} for r in rows]

    def prune_samples(self, before: float) -> int:
        with self._write() as conn:
            return conn.execute("DELETE FROM telemetry_samples WHERE at < ?", (before,)).rowcount
