"""Software releases, rollouts and stations' update reports, on either SQL backend.

A release's files live in `release_dir` (central/releases.py); here is its manifest, kept
exactly as uploaded. A rollout is an order the office gave (a version, its stations, its
canaries); which version a station should run is worked out from the rollouts and the
reports (central/releases.py), so nothing here has to be kept in step when a report arrives.
"""

from __future__ import annotations

from typing import Any

from central.storage.sql_common import SQLBackend
from wire.releases import Manifest, RolloutRequest, UpdateReport

RELEASES_STEP = """
    CREATE TABLE releases (
        version TEXT PRIMARY KEY,
        manifest TEXT NOT NULL,
        uploaded_by TEXT NOT NULL,
        uploaded_at DOUBLE PRECISION NOT NULL
    );
    CREATE TABLE rollouts (
        id TEXT PRIMARY KEY,
        version TEXT NOT NULL REFERENCES releases(version),
        body TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL
    );
    CREATE TABLE update_reports (
        id TEXT PRIMARY KEY,
        station TEXT NOT NULL REFERENCES stations(id),
        version TEXT NOT NULL,
        from_version TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('ok', 'rolled_back', 'failed')),
        detail TEXT NOT NULL,
        finished_at DOUBLE PRECISION NOT NULL,
        received_at DOUBLE PRECISION NOT NULL
    );
    CREATE INDEX update_reports_station ON update_reports(station, received_at);
"""
"""One step for both backends (PostgreSQL's types, which SQLite reads by affinity)."""


class SQLReleases(SQLBackend):
    """Storage's release methods, written once for both SQL backends."""

    def add_release(self, manifest: Manifest, by: str, now: float) -> bool:
        """Keep a release's manifest; False if that version is already held (a version is
        never replaced: stations may have installed it)."""
        with self._tx() as conn:
            if self._one(conn, "SELECT 1 FROM releases WHERE version = ?", (manifest.version,)):
                return False
            self._exec(
                conn,
                "INSERT INTO releases (version, manifest, uploaded_by, uploaded_at)"
                " VALUES (?, ?, ?, ?)",
                (manifest.version, manifest.model_dump_json(), by, now),
            )
        return True

    def release(self, version: str) -> Manifest | None:
        with self._reader() as conn:
            row = self._one(conn, "SELECT manifest FROM releases WHERE version = ?", (version,))
        return None if row is None else Manifest.model_validate_json(row["manifest"])

    def releases(self) -> list[dict[str, Any]]:
        with self._reader() as conn:
            rows = self._all(
                conn,
                "SELECT version, manifest, uploaded_by, uploaded_at FROM releases"
                " ORDER BY uploaded_at DESC",
            )
        out = []
        for row in rows:
            manifest = Manifest.model_validate_json(row["manifest"])
            out.append(
                {
                    "version": row["version"],
                    "files": len(manifest.files),
                    "bytes": sum(f.size for f in manifest.files),
                    "notes": manifest.notes,
                    "uploaded_by": row["uploaded_by"],
                    "uploaded_at": row["uploaded_at"],
                }
            )
        return out

    def add_rollout(self, rollout_id: str, order: RolloutRequest, by: str, now: float) -> None:
        with self._tx() as conn:
            self._exec(
                conn,
                "INSERT INTO rollouts (id, version, body, created_by, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (rollout_id, order.version, order.model_dump_json(), by, now),
            )

    def rollouts(self, limit: int = 100) -> list[dict[str, Any]]:
        """The office's rollouts, newest first, each with its order as `order`."""
        with self._reader() as conn:
            rows = self._all(
                conn,
                "SELECT id, version, body, created_by, created_at FROM rollouts"
                " ORDER BY created_at DESC, id LIMIT ?",
                (limit,),
            )
        return [
            {
                "id": row["id"],
                "version": row["version"],
                "order": RolloutRequest.model_validate_json(row["body"]),
                "created_by": row["created_by"],
                "created_at": row["created_at"],
            }
            for row in rows
        ]

    def add_update_report(self, report: UpdateReport, now: float) -> bool:
        """Keep a station's report; False if it was already received (sent again after a
        lost answer)."""
        with self._tx() as conn:
            self._acked_seq(conn, report.station, lock=False)  # UnknownStation if not ours
            if self._one(conn, "SELECT 1 FROM update_reports WHERE id = ?", (report.id,)):
                return False
            self._exec(
                conn,
                "INSERT INTO update_reports (id, station, version, from_version, status, detail,"
                " finished_at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    report.id,
                    report.station,
                    report.version,
                    report.from_version,
                    report.status,
                    report.detail,
                    report.finished_at,
                    now,
                ),
            )
        return True

    def update_reports(self, station: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        """Stations' update reports, newest first."""
        sql, params = "SELECT * FROM update_reports", []
        if station is not None:
            sql += " WHERE station = ?"
            params.append(station)
        with self._reader() as conn:
            rows = self._all(conn, sql + " ORDER BY received_at DESC, id LIMIT ?", [*params, limit])
        return [dict(row) for row in rows]
