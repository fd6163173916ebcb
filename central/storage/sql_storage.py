"""Central's Storage written once for both SQL backends: stations, tokens, the usage log and
bundles.

Each backend (sqlite.py, postgres.py) keeps only what really differs: its schema, connections
and transactions, how a batch of events gets into `events` (executemany on SQLite, COPY through
a staging table on PostgreSQL) and how an insert reports its new key.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

from central.contiguity import Run, advance, nothing_held
from central.storage.base import (
    BundleRecord,
    EventQuery,
    IncomingEvent,
    IngestResult,
    OfficeRole,
    SeqConflict,
    StationExists,
    StationRecord,
    Storage,
    TokenRecord,
    conflict_message,
    event_dict,
    row_tuple,
)
from central.storage.sql_commands import SQLCommands
from central.storage.sql_common import Connection
from central.storage.sql_releases import SQLReleases
from central.storage.sql_reminders import SQLReminders

_ADD_TOKEN = "INSERT INTO tokens (sha256, kind, subject, created_at) VALUES (?, ?, ?, ?)"
_ADD_OFFICE_TOKEN = (
    "INSERT INTO tokens (sha256, kind, subject, created_at, role) VALUES (?, 'office', ?, ?, ?)"
)
_REVOKE_TOKENS = (
    "UPDATE tokens SET revoked_at = ? WHERE kind = ? AND subject = ? AND revoked_at IS NULL"
)
_STATIONS = (
    "SELECT s.*, (SELECT COUNT(*) FROM tokens t WHERE t.kind = 'station'"
    " AND t.subject = s.id AND t.revoked_at IS NULL) AS active_tokens FROM stations s"
)


class SQLStorage(SQLCommands, SQLReleases, SQLReminders, Storage):
    """Every Storage method but the backend's own life (opening, migrating, closing)."""

    # --- hooks ------------------------------------------------------------------------------

    @abstractmethod
    def _insert_events(self, conn: Connection, rows: Sequence[tuple[Any, ...]], fresh: bool) -> int:
        """Insert event rows (EVENT_COLUMNS order), skipping any (station, seq) already held;
        returns how many were new. `fresh` says central holds none of their sequence numbers
        (contiguity.nothing_held), so a backend may take a faster path that skips nothing."""

    @abstractmethod
    def _clashing_seq(
        self, conn: Connection, station: str, events: Sequence[IncomingEvent]
    ) -> int | None:
        """After _insert_events in the same transaction: the first of the batch's sequence
        numbers that central holds with a different event id, if any."""

    @abstractmethod
    def _insert_id(self, conn: Connection, statement: str, params: Sequence[Any], key: str) -> int:
        """Run an INSERT of one row (shared `?` style) and return the `key` the database gave
        it: the one place the backends' ways of reporting a new key (RETURNING, lastrowid)
        differ."""

    # --- stations and tokens ----------------------------------------------------------------

    def add_station(self, station: str, name: str, token_sha256: str, now: float) -> None:
        with self._tx() as conn:
            cur = self._exec(
                conn,
                "INSERT INTO stations (id, name, created_at) VALUES (?, ?, ?)"
                " ON CONFLICT (id) DO NOTHING",
                (station, name, now),
            )
            if cur.rowcount == 0:
                raise StationExists(
                    f"station {station} is already registered; use 'rotate' for a new token"
                )
            self._exec(conn, _ADD_TOKEN, (token_sha256, "station", station, now))

    def rotate_station_token(self, station: str, token_sha256: str, now: float) -> None:
        with self._tx() as conn:
            self._acked_seq(conn, station, lock=True)
            self._exec(conn, _REVOKE_TOKENS, (now, "station", station))
            self._exec(conn, _ADD_TOKEN, (token_sha256, "station", station, now))

    def revoke_station(self, station: str, now: float) -> int:
        with self._tx() as conn:
            self._acked_seq(conn, station, lock=True)
            return self._exec(conn, _REVOKE_TOKENS, (now, "station", station)).rowcount

    def add_office_token(
        self, name: str, token_sha256: str, now: float, role: OfficeRole = "viewer"
    ) -> None:
        with self._tx() as conn:
            self._exec(conn, _ADD_OFFICE_TOKEN, (token_sha256, name, now, role))

    def revoke_office_token(self, name: str, now: float) -> int:
        with self._tx() as conn:
            return self._exec(conn, _REVOKE_TOKENS, (now, "office", name)).rowcount

    def token(self, token_sha256: str) -> TokenRecord | None:
        with self._reader() as conn:
            row = self._one(
                conn,
                "SELECT kind, subject, revoked_at, role FROM tokens WHERE sha256 = ?",
                (token_sha256,),
            )
        if row is None:
            return None
        return TokenRecord(row["kind"], row["subject"], row["revoked_at"] is not None, row["role"])

    def station(self, station: str) -> StationRecord | None:
        rows = self._stations("WHERE s.id = ?", (station,))
        return rows[0] if rows else None

    def stations(self) -> list[StationRecord]:
        return self._stations("", ())

    def _stations(self, where: str, params: tuple[Any, ...]) -> list[StationRecord]:
        with self._reader() as conn:
            rows = self._all(conn, f"{_STATIONS} {where} ORDER BY s.id", params)
        return [self._station_record(r) for r in rows]

    def _station_record(self, row: Any) -> StationRecord:
        return StationRecord(
            id=row["id"],
            name=row["name"],
            created_at=row["created_at"],
            acked_seq=row["acked_seq"],
            last_seen=row["last_seen"],
            active_tokens=row["active_tokens"],
            telemetry=self._decode_json(row["telemetry"]),
            telemetry_at=row["telemetry_at"],
        )

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
            acked = self._acked_seq(conn, station, lock=True)
            runs = self._runs(conn, station)
            stored = self._store_events(conn, station, events, now, acked, runs) if events else 0
            new_acked = self._advance(conn, station, acked, after, events, runs)
            self._mark_seen(conn, station, new_acked, telemetry, now)
        return IngestResult(new_acked, stored, len(events) - stored)

    def _runs(self, conn: Connection, station: str) -> list[Run]:
        rows = self._all(conn, "SELECT after, last FROM runs WHERE station = ?", (station,))
        return [(r["after"], r["last"]) for r in rows]

    def _store_events(
        self,
        conn: Connection,
        station: str,
        events: Sequence[IncomingEvent],
        now: float,
        acked: int,
        runs: list[Run],
    ) -> int:
        """Store a non-empty batch; returns how many events were new. A skipped event is a
        harmless redelivery only if central holds the same event id under its sequence number."""
        fresh = nothing_held(acked, runs, events[0].seq, events[-1].seq)
        stored = self._insert_events(conn, [row_tuple(station, e, now) for e in events], fresh)
        if stored < len(events):
            clash = self._clashing_seq(conn, station, events)
            if clash is not None:
                raise SeqConflict(conflict_message(station, clash))
        return stored

    def _advance(
        self,
        conn: Connection,
        station: str,
        acked: int,
        after: int,
        events: Sequence[IncomingEvent],
        runs: list[Run],
    ) -> int:
        """Merge the batch's run into the station's runs past `acked` (central/contiguity.py),
        rewrite them if they changed, and return the new contiguous sequence."""
        if events:
            new_acked, kept = advance(acked, [*runs, (after, events[-1].seq)])
        else:
            new_acked, kept = acked, runs
        if kept != runs:
            self._exec(conn, "DELETE FROM runs WHERE station = ?", (station,))
            self._many(
                conn,
                "INSERT INTO runs (station, after, last) VALUES (?, ?, ?)",
                [(station, a, b) for a, b in kept],
            )
        return new_acked

    def _mark_seen(
        self, conn: Connection, station: str, acked: int, telemetry: str | None, now: float
    ) -> None:
        """Record the delivery on the station's row; telemetry only replaces the last one when
        the batch brought some."""
        if telemetry is None:
            self._exec(
                conn,
                "UPDATE stations SET acked_seq = ?, last_seen = ? WHERE id = ?",
                (acked, now, station),
            )
            return
        self._exec(
            conn,
            f"UPDATE stations SET acked_seq = ?, last_seen = ?, telemetry = {self.json_param},"
            " telemetry_at = ? WHERE id = ?",
            (acked, now, telemetry, now, station),
        )

    def events(self, query: EventQuery) -> list[dict[str, Any]]:
        # A time window is read through a time index and its matches sorted: walking the
        # station's gid index instead (the planner's pick without statistics) would read its
        # whole history to find last week. `+gid` keeps the gid indexes out of that plan.
        window = query.since is not None or query.until is not None
        gid = "+gid" if window else "gid"
        where = [f"{gid} > ?"]
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
        sql = f"SELECT * FROM events WHERE {' AND '.join(where)} ORDER BY {gid} LIMIT ?"
        with self._reader() as conn:
            rows = self._all(conn, sql, params)
        return [event_dict(dict(r)) for r in rows]

    def count_events(self, station: str | None = None) -> int:
        with self._reader() as conn:
            if station is None:
                row = self._one(conn, "SELECT COUNT(*) AS n FROM events")
            else:
                row = self._one(
                    conn, "SELECT COUNT(*) AS n FROM events WHERE station = ?", (station,)
                )
        return int(row["n"])

    # --- bundles ----------------------------------------------------------------------------

    def publish_bundle(self, body: str, sha256: str, stations: Sequence[str], now: float) -> int:
        with self._tx() as conn:
            for station in stations:
                self._acked_seq(conn, station, lock=True)
            version = self._insert_id(
                conn,
                "INSERT INTO bundles (sha256, body, published_at, fleet) VALUES (?, ?, ?, ?)",
                (sha256, body, now, not stations),
                "version",
            )
            self._many(
                conn,
                "INSERT INTO bundle_targets (version, station) VALUES (?, ?)",
                [(version, s) for s in stations],
            )
            return version

    def bundle_for(self, station: str, have: int) -> BundleRecord | None:
        with self._reader() as conn:
            row = self._one(
                conn,
                "SELECT b.* FROM bundles b WHERE b.fleet OR EXISTS (SELECT 1 FROM"
                " bundle_targets t WHERE t.version = b.version AND t.station = ?)"
                " ORDER BY b.version DESC LIMIT 1",
                (station,),
            )
            if row is None or row["version"] <= have:
                return None
            return self._bundle(conn, row)

    def bundles(self) -> list[BundleRecord]:
        with self._reader() as conn:
            rows = self._all(conn, "SELECT * FROM bundles ORDER BY version DESC")
            return [self._bundle(conn, r) for r in rows]

    def _bundle(self, conn: Connection, row: Any) -> BundleRecord:
        targets = self._all(
            conn,
            "SELECT station FROM bundle_targets WHERE version = ? ORDER BY station",
            (row["version"],),
        )
        return BundleRecord(
            version=row["version"],
            sha256=row["sha256"],
            body=row["body"],
            published_at=row["published_at"],
            stations=tuple(t["station"] for t in targets),
        )
