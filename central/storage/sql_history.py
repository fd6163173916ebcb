"""The fleet history on either SQL backend: hourly figures folded from the log, and telemetry
samples. The arithmetic is central/rollup.py's; the tables are each backend's HISTORY_STEP.

The rollup position's row is created first and then locked (FOR UPDATE where the backend has
it), so two ingests of one station folding at the same moment take turns instead of both
folding the same events.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from central.rollup import FIGURES, ROLLUP_TYPES, fold
from central.storage.sql_common import Connection, SQLBackend

_ADD_HOUR = (
    f"INSERT INTO station_hourly (station, hour, {', '.join(FIGURES)})"
    f" VALUES (?, ?, {', '.join('?' * len(FIGURES))})"
    " ON CONFLICT (station, hour) DO UPDATE SET "
    + ", ".join(f"{f} = station_hourly.{f} + excluded.{f}" for f in FIGURES)
)


@dataclass
class SharedWindow:
    """What folds in one transaction read of the log, by the position they start from."""

    types: tuple[str, ...]
    """Every event type the folds sharing it take."""
    read: dict[int, tuple[int, int, list[dict[str, Any]]]] = field(default_factory=dict)
    known: tuple[int, int, int, list[dict[str, Any]]] | None = None
    """(after, last, how many, the events of `types`) of a batch this ingest stored whole:
    when a fold stands at `after` and central holds up to `last` contiguously, those events
    are the whole stretch, and it need not be read back."""


class SQLHistory(SQLBackend):
    """Storage's fleet-history methods, written once for both SQL backends."""

    def rollup(self, station: str, limit: int = 50_000) -> int:
        with self._tx() as conn:
            return self._rollup(conn, station, limit, None)

    def _rollup(
        self, conn: Connection, station: str, limit: int, shared: SharedWindow | None
    ) -> int:
        window = self._fold_window(conn, station, "rollup_state", ROLLUP_TYPES, limit, shared)
        if window is None:
            return 0
        upto, stepped, rows = window
        hours = fold(rows)
        self._many(
            conn, _ADD_HOUR, [(station, hour, *h.values()) for hour, h in sorted(hours.items())]
        )
        self._set_position(conn, station, "rollup_state", upto)
        return stepped

    def _fold_window(
        self,
        conn: Connection,
        station: str,
        state: str,
        types: tuple[str, ...],
        limit: int,
        shared: SharedWindow | None = None,
    ) -> tuple[int, int, list[dict[str, Any]]] | None:
        """The next stretch of the station's log a fold keeping its position in `state` must
        take: (last sequence number, how many events it steps over, the events of `types` in
        it), or None when the fold is level with what central holds contiguously. The
        position's row stays locked until commit. With `shared`, folds of one transaction that
        stand at the same position read the stretch once (the events of `shared.types`)."""
        acked = self._acked_seq(conn, station, lock=False)
        rolled = self._lock_position(conn, station, state)
        if acked <= rolled:
            return None
        if shared is not None and rolled not in shared.read and shared.known is not None:
            after, last, count, events = shared.known
            if rolled == after and acked == last and count <= limit:
                shared.read[rolled] = (last, count, events)
        if shared is not None and rolled in shared.read:
            upto, stepped, every = shared.read[rolled]
            return upto, stepped, [r for r in every if r["type"] in types]
        # Step by stored events, not by sequence numbers: a log may jump (a restore, or a
        # faulty station claiming every number up to 2**63), and walking the numbers in
        # between 50,000 at a time would never end.
        last = self._one(
            conn,
            "SELECT seq FROM events WHERE station = ? AND seq > ? ORDER BY seq LIMIT 1 OFFSET ?",
            (station, rolled, limit - 1),
        )
        upto = acked if last is None else min(acked, int(last["seq"]))
        stepped = self._one(
            conn,
            "SELECT count(*) AS n FROM events WHERE station = ? AND seq > ? AND seq <= ?",
            (station, rolled, upto),
        )
        read = types if shared is None else shared.types
        rows = self._all(
            conn,
            "SELECT type, time, ts, actor, locker, payload FROM events WHERE station = ?"
            f" AND seq > ? AND seq <= ? AND type IN ({', '.join('?' * len(read))})",
            (station, rolled, upto, *read),
        )
        found = [dict(r) for r in rows]
        if shared is None:
            return upto, int(stepped["n"]), found
        shared.read[rolled] = (upto, int(stepped["n"]), found)
        return upto, int(stepped["n"]), [r for r in found if r["type"] in types]

    def _lock_position(self, conn: Connection, station: str, state: str) -> int:
        """How far the station is folded, its row held until commit (a missing row could not be
        locked, hence the insert first)."""
        self._exec(
            conn,
            f"INSERT INTO {state} (station, rolled_seq) VALUES (?, 0)"
            " ON CONFLICT (station) DO NOTHING",
            (station,),
        )
        row = self._one(
            conn,
            f"SELECT rolled_seq FROM {state} WHERE station = ?" + self.lock_row,
            (station,),
        )
        return int(row["rolled_seq"])

    def _set_position(self, conn: Connection, station: str, state: str, upto: int) -> None:
        self._exec(conn, f"UPDATE {state} SET rolled_seq = ? WHERE station = ?", (upto, station))

    def hourly(
        self, since: float, until: float, station: str | None = None
    ) -> list[dict[str, Any]]:
        sql = "SELECT * FROM station_hourly WHERE hour >= ? AND hour < ?"
        params: list[Any] = self._hour_bounds(since, until)
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
