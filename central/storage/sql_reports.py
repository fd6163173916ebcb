"""The office reports' figures on either SQL backend, folded from the usage log like the
hourly history (sql_history.py) but with their own position, so the reports could be added to a
central that had folded its history long before (and a new metric can be refolded alone)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from central.reports.fold import REPORT_TYPES, fold
from central.rollup import ROLLUP_TYPES
from central.storage.base import IncomingEvent
from central.storage.sql_common import Connection
from central.storage.sql_history import SharedWindow, SQLHistory

_ADD = (
    "INSERT INTO report_counts (station, hour, metric, key, value) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (station, hour, metric, key) DO UPDATE SET"
    " value = report_counts.value + excluded.value"
)


_FOLDED_TYPES = tuple(dict.fromkeys(ROLLUP_TYPES + REPORT_TYPES))
_FOLDED = frozenset(_FOLDED_TYPES)


class SQLReports(SQLHistory):
    """Storage's report methods, written once for both SQL backends."""

    def fold_reports(self, station: str, limit: int = 50_000) -> int:
        with self._tx() as conn:
            return self._fold_reports(conn, station, limit, None)

    def fold_log(
        self,
        station: str,
        limit: int = 50_000,
        stored: tuple[int, Sequence[IncomingEvent]] | None = None,
    ) -> int:
        """`rollup` and `fold_reports` in one transaction (one commit per batch instead of
        two), reading the stretch of the log once when both folds stand at the same position,
        as they do unless one was added or refolded later; not at all when it is the batch
        just stored (`stored`: its `after` and events, every one of them new). Returns the
        larger of the two counts of events stepped over."""
        shared = SharedWindow(_FOLDED_TYPES)
        if stored is not None and stored[1]:
            after, events = stored
            rows = [
                {
                    "type": e.type,
                    "time": e.time,
                    "ts": e.ts,
                    "actor": e.actor,
                    "locker": e.locker,
                    "payload": e.payload,
                }
                for e in events
                if e.type in _FOLDED
            ]
            shared.known = (after, events[-1].seq, len(events), rows)
        with self._tx() as conn:
            rolled = self._rollup(conn, station, limit, shared)
            return max(rolled, self._fold_reports(conn, station, limit, shared))

    def _fold_reports(
        self, conn: Connection, station: str, limit: int, shared: SharedWindow | None
    ) -> int:
        window = self._fold_window(conn, station, "report_state", REPORT_TYPES, limit, shared)
        if window is None:
            return 0
        upto, stepped, rows = window
        figures = fold(rows)
        self._many(conn, _ADD, [(station, *key, value) for key, value in sorted(figures.items())])
        self._set_position(conn, station, "report_state", upto)
        return stepped

    def report_counts(
        self, since: float, until: float, stations: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        sql = "SELECT station, hour, metric, key, value FROM report_counts WHERE hour >= ?"
        sql += " AND hour < ?"
        params: list[Any] = self._hour_bounds(since, until)
        if stations:
            sql += f" AND station IN ({', '.join('?' * len(stations))})"
            params.extend(stations)
        with self._reader() as conn:
            rows = self._all(conn, sql + " ORDER BY station, hour, metric, key", params)
        return [dict(r) for r in rows]

    def report_positions(self) -> dict[str, int]:
        with self._reader() as conn:
            rows = self._all(conn, "SELECT station, rolled_seq FROM report_state")
        return {r["station"]: int(r["rolled_seq"]) for r in rows}
