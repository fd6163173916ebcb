"""Commands queued for stations, and office token roles, on either SQL backend.

A command is stored with its body exactly as it is sent (the wire's JSON), so what a station
receives is byte for byte what the operator was shown; the columns beside it are for queries.
Its status is `pending` until the station reports a result; the first result wins, so a
result posted twice (a lost answer) changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from central.storage.sql_common import SQLBackend
from wire.commands import Command, CommandResult

COMMANDS_STEP = """
    ALTER TABLE tokens ADD COLUMN role TEXT NOT NULL DEFAULT 'viewer';
    CREATE TABLE commands (
        id TEXT PRIMARY KEY,
        station TEXT NOT NULL REFERENCES stations(id),
        kind TEXT NOT NULL,
        body TEXT NOT NULL,
        issuer TEXT NOT NULL,
        reason TEXT NOT NULL,
        issued_at DOUBLE PRECISION NOT NULL,
        expires_at DOUBLE PRECISION NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'done', 'refused', 'failed')),
        deliveries INTEGER NOT NULL DEFAULT 0,
        delivered_at DOUBLE PRECISION,
        detail TEXT,
        result TEXT,
        finished_at DOUBLE PRECISION,
        reported_at DOUBLE PRECISION
    );
    CREATE INDEX commands_station_status ON commands(station, status, issued_at);
"""
"""One step for both backends: the types are PostgreSQL's, which SQLite reads by affinity."""

_COLUMNS = (
    "id, station, kind, issuer, reason, issued_at, expires_at, status, deliveries,"
    " delivered_at, detail, result, finished_at, reported_at"
)


class SQLCommands(SQLBackend):
    """Storage's command methods, written once for both SQL backends."""

    def add_command(self, command: Command, now: float) -> None:
        with self._tx() as conn:
            self._acked_seq(conn, command.station, lock=False)  # UnknownStation if not ours
            self._exec(
                conn,
                "INSERT INTO commands (id, station, kind, body, issuer, reason, issued_at,"
                " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    command.id,
                    command.station,
                    command.action.kind,
                    command.model_dump_json(),
                    command.issuer,
                    command.reason,
                    command.issued_at,
                    command.expires_at,
                ),
            )

    def pending_commands(self, station: str, now: float, limit: int = 20) -> list[str]:
        """The bodies of the station's commands without a result, oldest first; each counts
        as delivered once more (a station that lost the answer gets them again and its own
        journal skips what it already ran)."""
        with self._tx() as conn:
            rows = self._all(
                conn,
                "SELECT id, body FROM commands WHERE station = ? AND status = 'pending'"
                " ORDER BY issued_at, id LIMIT ?",
                (station, limit),
            )
            for row in rows:
                self._exec(
                    conn,
                    "UPDATE commands SET deliveries = deliveries + 1, delivered_at = ?"
                    " WHERE id = ?",
                    (now, row["id"]),
                )
        return [str(r["body"]) for r in rows]

    def record_results(self, station: str, results: Sequence[CommandResult], now: float) -> int:
        """Store the station's results; returns how many were new. A result for another
        station's command, or for one that already has a result, is ignored."""
        stored = 0
        with self._tx() as conn:
            for r in results:
                cur = self._exec(
                    conn,
                    "UPDATE commands SET status = ?, detail = ?, result = ?, finished_at = ?,"
                    " reported_at = ? WHERE id = ? AND station = ? AND status = 'pending'",
                    (r.status, r.detail, r.model_dump_json(), r.finished_at, now, r.id, station),
                )
                stored += max(cur.rowcount, 0)
        return stored

    def commands(
        self, station: str | None = None, status: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        sql, params = f"SELECT {_COLUMNS} FROM commands WHERE 1 = 1", []
        if station is not None:
            sql += " AND station = ?"
            params.append(station)
        if status is not None:
            sql += " AND status = ?"
            params.append(status)
        with self._reader() as conn:
            rows = self._all(conn, sql + " ORDER BY issued_at DESC, id LIMIT ?", [*params, limit])
        out = []
        for row in rows:
            item = dict(row)
            result = item.pop("result")
            item["data"] = CommandResult.model_validate_json(result).data if result else None
            out.append(item)
        return out

    def command_counts(self) -> dict[str, dict[str, int]]:
        """Per station: how many commands are pending, done, refused and failed."""
        with self._reader() as conn:
            rows = self._all(
                conn, "SELECT station, status, COUNT(*) AS n FROM commands GROUP BY station, status"
            )
        out: dict[str, dict[str, int]] = {}
        for row in rows:
            counts = out.setdefault(
                row["station"], {"pending": 0, "done": 0, "refused": 0, "failed": 0}
            )
            counts[row["status"]] = int(row["n"])
        return out
