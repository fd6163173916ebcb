"""Telemetry: one JSON snapshot of how the station is doing, for the office and Prometheus.

The snapshot gathers what the central office asks of every station (doors, alarms, the rest
area, tools, lost items, supplies, sync, the Pi's health) from the parts the composition root
built. A part that is not there (no occupancy sensors, a store without the services' tables)
is reported as `{"present": false}` instead of failing the snapshot, so a half-equipped
station still reports the rest.

It is built synchronously from the station's own reader connection and in-memory state: a
handful of small indexed queries, a few milliseconds, the same as the sync screen's status.
That lets Prometheus' collector (which is synchronous) and the sync batch use the same code.
No member is ever named: overdue loans carry the tool and locker, not the borrower.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from importlib import metadata
from typing import TYPE_CHECKING, Any

from station.alarms import ALARM_TYPES
from station.ops.host_health import HostProbe
from station.store import Event
from wire.telemetry import SNAPSHOT_VERSION

if TYPE_CHECKING:
    from station.clock import Clock
    from station.config import StationConfig
    from station.doors.lockers import LockerService
    from station.occupancy.tracker import OccupancyTracker
    from station.store import Store
    from station.sync.service import SyncService

LIST_LIMIT = 20
"""Most items a list in the snapshot carries (the count beside it is always complete)."""
LOST_WAITING = ("held", "awaiting_pickup", "with_staff", "expired")
"""Found items still waiting for their owner or for staff."""
TOOL_STATUSES = ("available", "on_loan", "reserved", "maintenance", "missing", "retired")


def software_version() -> str:
    try:
        return metadata.version("gongxiang-yizhan")
    except metadata.PackageNotFoundError:
        return "unknown"


class TelemetryService:
    """Builds snapshots of one running station; counts usage-log events since it started."""

    def __init__(
        self,
        *,
        config: StationConfig,
        clock: Clock,
        store: Store,
        lockers: LockerService,
        occupancy: OccupancyTracker | None,
        sync: SyncService | None,
        probe: HostProbe | None = None,
    ) -> None:
        """The parts it reads, each passed in: a part that is None is reported as absent."""
        self._config = config
        self._clock = clock
        self._store = store
        self._lockers = lockers
        self._tracker = occupancy
        self._sync = sync
        self._probe = probe or HostProbe(config.station.data_dir)
        self._started_mono = clock.monotonic()
        self._version = software_version()
        self._event_counts: Counter[str] = Counter()
        self._tables: frozenset[str] | None = None
        self._unsubscribe = store.subscribe(self._count)

    def close(self) -> None:
        self._unsubscribe()

    def _count(self, events: Sequence[Event]) -> None:
        for event in events:
            self._event_counts[event.type] += 1

    @property
    def event_counts(self) -> dict[str, int]:
        """Usage-log events appended since this service started, by type (Prometheus counters:
        they restart from zero with the daemon, which `rate()` expects)."""
        return dict(self._event_counts)

    # --- snapshots -------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Everything, for `GET /api/v1/telemetry` and /metrics."""
        snap = self._common(full=True)
        snap["lockers"] = self._lockers.snapshot()
        snap["sync"] = self._sync.status() if self._sync is not None else {"present": False}
        snap["events"] = {
            "appended_total": self._appended_total(),
            "since_start": self.event_counts,
        }
        return snap

    def compact(self) -> dict[str, Any]:
        """What travels with each sync batch and heartbeat: counts, and only the items that
        need someone (open doors, faults, alarms, overdue tools, low supplies). The sync
        service adds its own `sync` summary."""
        return self._common(full=False)

    def _common(self, *, full: bool) -> dict[str, Any]:
        clock = self._clock
        now, mono = clock.wall(), clock.monotonic()
        uptime = max(0.0, mono - self._started_mono)
        health = self._probe.read().to_dict()
        health["clock_synced"] = clock.synced()
        health["store_full_since"] = self._store.full_since
        return {
            "v": SNAPSHOT_VERSION,
            "station": self._config.station.id,
            "name": self._config.station.name,
            "software": self._version,
            "at": now,
            "clock_synced": clock.synced(),
            "boot_id": clock.boot_id,
            "up_since": now - uptime,
            "uptime_s": round(uptime, 1),
            "doors": self._doors(),
            "alarms": self._alarms(),
            "occupancy": self._occupancy(full),
            "tools": self._tools(now),
            "lost_found": self._lost_found(),
            "storage": self._deposits(now),
            "supplies": self._supplies(),
            "health": health,
            "settings": self._remote_settings(),
        }

    # --- parts ---------------------------------------------------------------------------

    def use_config(self, config: StationConfig) -> None:
        """The config the daemon runs with after the office applied settings live
        (station/remote/): `in_use` in the snapshot follows it."""
        self._config = config

    def _remote_settings(self) -> dict[str, Any]:
        """What the office set remotely (station/remote/settings.py): the value, who set it,
        and that the daemon runs with it (it is read at start)."""
        if not self._has("remote_settings"):
            return {}
        rows = self._query("SELECT key, value, issuer, set_at FROM remote_settings ORDER BY key")
        return {
            r["key"]: {
                "value": json.loads(r["value"]),
                "by": r["issuer"],
                "at": r["set_at"],
                "in_use": _config_value(self._config, r["key"]) == json.loads(r["value"]),
            }
            for r in rows
        }

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return self._store.query(sql, params)

    def _has(self, table: str) -> bool:
        if self._tables is None:
            rows = self._query("SELECT name FROM sqlite_master WHERE type = 'table'")
            self._tables = frozenset(r["name"] for r in rows)
        return table in self._tables

    def _appended_total(self) -> int:
        rows = self._query("SELECT seq FROM sqlite_sequence WHERE name = 'events'")
        return int(rows[0]["seq"]) if rows else 0

    def _doors(self) -> dict[str, Any]:
        lockers = self._lockers.snapshot()
        counts = Counter(lk["door"] for lk in lockers)
        boards = self._config.boards
        return {
            "total": len(lockers),
            "open": counts["open"],
            "closed": counts["closed"],
            "unknown": counts["unknown"],
            "faulty": sum(1 for lk in lockers if lk["faulty"]),
            "open_ids": [lk["id"] for lk in lockers if lk["door"] == "open"],
            "unknown_ids": [lk["id"] for lk in lockers if lk["door"] == "unknown"],
            "faulty_items": [
                {"id": lk["id"], "reason": lk["fault_reason"]} for lk in lockers if lk["faulty"]
            ],
            "boards_offline": [
                b.id for b in boards if self._lockers.board_online(b.id) is not True
            ],
        }

    def _alarms(self) -> dict[str, Any]:
        rows = self._query(
            "SELECT id, type, subject, state, detail, raised_at, acked_at FROM alarms"
            " WHERE state != 'cleared' ORDER BY id DESC"
        )
        by_type = {t: 0 for t in ALARM_TYPES}
        for r in rows:
            by_type[r["type"]] = by_type.get(r["type"], 0) + 1
        return {"open": len(rows), "by_type": by_type, "items": rows[:LIST_LIMIT]}

    def _occupancy(self, full: bool) -> dict[str, Any]:
        tracker = self._tracker
        if tracker is None:
            return {"present": False}
        if not tracker.sensors:
            return {"present": False, "reason": "no occupancy sensor is configured"}
        snap = tracker.snapshot()
        out: dict[str, Any] = {
            "present": True,
            "state": snap.state,
            "since": snap.since,
            "session_started_at": snap.session_started_at,
            "today": {
                "date": snap.today.date,
                "occupied_minutes": snap.today.occupied_minutes,
                "sessions": snap.today.sessions,
            },
            "sensors_offline": sorted(n for n, s in snap.sensors.items() if not s.online),
            "relays": {name: r.on for name, r in snap.relays.items()},
        }
        if full:
            out["detail"] = snap.to_dict()
        return out

    def _tools(self, now: float) -> dict[str, Any]:
        if not (self._has("tools") and self._has("loans")):
            return {"present": False}
        by_status = {s: 0 for s in TOOL_STATUSES}
        for r in self._query("SELECT status, COUNT(*) AS n FROM tools GROUP BY status"):
            by_status[r["status"]] = r["n"]
        out_count = self._query("SELECT COUNT(*) AS n FROM loans WHERE returned_at IS NULL")[0]["n"]
        overdue = self._query(
            "SELECT loans.id AS loan_id, loans.tool_id, tools.name_zh, tools.name_en,"
            " loans.locker, loans.started_at, loans.due_at FROM loans"
            " JOIN tools ON tools.id = loans.tool_id"
            " WHERE loans.returned_at IS NULL AND loans.due_at < ? ORDER BY loans.due_at",
            (now,),
        )
        return {
            "present": True,
            "by_status": by_status,
            "out": out_count,
            "overdue": len(overdue),
            "overdue_items": overdue[:LIST_LIMIT],
        }

    def _lost_found(self) -> dict[str, Any]:
        if not (self._has("found_items") and self._has("claims")):
            return {"present": False}
        marks = ",".join("?" * len(LOST_WAITING))
        by_status = {s: 0 for s in LOST_WAITING}
        for r in self._query(
            f"SELECT status, COUNT(*) AS n FROM found_items WHERE status IN ({marks})"
            " GROUP BY status",
            LOST_WAITING,
        ):
            by_status[r["status"]] = r["n"]
        claims = self._query("SELECT COUNT(*) AS n FROM claims WHERE status = 'pending'")[0]["n"]
        valuables = self._query(
            "SELECT COUNT(*) AS n FROM found_items WHERE valuable = 1 AND in_locker = 1"
            " AND status IN ('held', 'expired')"
        )[0]["n"]
        return {
            "present": True,
            "waiting": sum(by_status.values()),
            "by_status": by_status,
            "claims_pending": claims,
            "valuables_in_lockers": valuables,
        }

    def _deposits(self, now: float) -> dict[str, Any]:
        if not self._has("deposits"):
            return {"present": False}
        row = self._query(
            "SELECT SUM(status IN ('open', 'active')) AS active,"
            " SUM((status = 'active' AND code_expires_at <= ?) OR status = 'abandoned')"
            " AS overtime FROM deposits",
            (now,),
        )[0]
        return {"present": True, "active": row["active"] or 0, "overtime": row["overtime"] or 0}

    def _supplies(self) -> dict[str, Any]:
        if not self._has("supplies"):
            return {"present": False}
        rows = self._query(
            "SELECT id, name, name_en, unit, count, threshold, counted_at FROM supplies ORDER BY id"
        )
        items = [r | {"low": r["count"] is not None and r["count"] <= r["threshold"]} for r in rows]
        return {
            "present": True,
            "low": sum(1 for r in items if r["low"]),
            "uncounted": [r["id"] for r in items if r["count"] is None],
            "items": items,
        }


def _config_value(config: StationConfig, dotted: str) -> Any:
    section, _, name = dotted.partition(".")
    return getattr(getattr(config, section, None), name, None)
