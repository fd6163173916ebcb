"""The fleet history on either SQL backend: hourly figures folded from the log, and telemetry
samples. The arithmetic is central/rollup.py's; the tables are each backend's HISTORY_STEP.

The rollup position's row is created first and then locked (FOR UPDATE where the backend has
it), so two ingests of one station folding at the same moment take turns instead of both
folding the same events.
"""

from __future__ import annotations

import json
from typing import Any

from central.rollup import FIGURES, ROLLUP_TYPES, fold
from central.storage.sql_common import Connection, SQLBackend

_TYPES = ", ".join("?" * len(ROLLUP_TYPES))
_ADD_HOUR = (
    f"INSERT INTO station_hourly (station, hour, {', '.join(FIGURES)})"
    f" VALUES (?, ?, {', '.join('?' * len(FIGURES))})"
    " ON CONFLICT (station, hour) DO UPDATE SET "
    + ", ".join(f"{f} = station_hourly.{f} + excluded.{f}" for f in FIGURES)
)


class SQLHistory(SQLBackend):
    """Storage's fleet-history methods, written once for both SQL backends."""

    def rollup(self, station: str, limit: int = 50_000) -> int:
        with self._tx() as conn:
            acked = self._acked_seq(conn, station, lock=False)
            rolled = self._lock_rolled_seq(conn, station)
            if acked <= rolled:
                return 0
            # Step by stored events, not by sequence numbers: a log may jump (a restore, or a
            # faulty station claiming every number up to 2**63), and walking the numbers in
            # between 50,000 at a time would never end.
            last = self._one(
                conn,
                "SELECT seq FROM events WHERE station = ? AND seq > ? ORDER BY seq"
                " LIMIT 1 OFFSET ?",
                (station, rolled, limit - 1),
            )
            upto = acked if last is None else min(acked, int(last["seq"]))
            stepped = self._one(
                conn,
                "SELECT count(*) AS n FROM events WHERE station = ? AND seq > ? AND seq <= ?",
                (station, rolled, upto),
            )
            rows = self._all(
                conn,
                "SELECT type, time, ts, payload FROM events WHERE station = ? AND seq > ?"
                f" AND seq <= ? AND type IN ({_TYPES})",
                (station, rolled, upto, *ROLLUP_TYPES),
            )
            hours = fold(dict(r) for r in rows)
            self._many(
                conn, _ADD_HOUR, [(station, hour, *h.values()) for hour, h in sorted(hours.items())]
            )
            self._exec(
                conn, "UPDATE rollup_state SET rolled_seq = ? WHERE station = ?", (upto, station)
            )
            return int(stepped["n"])

    def _lock_rolled_seq(self, conn: Connection, station: str) -> int:
        """How far the station is folded, its row held until commit (a missing row could not be
        locked, hence the insert first)."""
        self._exec(
            conn,
            "INSERT INTO rollup_state (station, rolled_seq) VALUES (?, 0)"
            " ON CONFLICT (station) DO NOTHING",
            (station,),
        )
        row = self._one(
            conn,
            "SELECT rolled_seq FROM rollup_state WHERE station = ?" + self.lock_row,
            (station,),
        )
        return int(row["rolled_seq"])

    def hourly(
        self, since: float, until: float, station: str | None = None
    ) -> list[dict[str, Any]]:
        sql = "SELECT * FROM station_hourly WHERE hour >= ? AND hour < ?"
        params: list[Any] = [since, until]
        if station is not None:
            sql += " AND station = ?"
            params.append(station)
        with self._reader() as conn:
            return [dict(r) for r in self._all(conn, sql + " ORDER BY station, hour", params)]

    def add_sample(
        self, station: str, at: float, sample: dict[str, float | None], every_s: float
    ) -> bool:
        with self._tx() as conn:
            cur = self._exec(
                conn,
                "INSERT INTO telemetry_samples (station, at, sample)"
                f" SELECT ?, ?, {self.json_param}"
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
        with self._reader() as conn:
            rows = self._all(conn, sql + " ORDER BY station, at", params)
        return [
            {"station": r["station"], "at": r["at"], **self._decode_json(r["sample"])} for r in rows
        ]

    def prune_samples(self, before: float) -> int:
        with self._tx() as conn:
            return self._exec(
                conn, "DELETE FROM telemetry_samples WHERE at < ?", (before,)
            ).rowcount
