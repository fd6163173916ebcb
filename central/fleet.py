"""The central office's view of the fleet: every station's state at a glance, and its history.

The latest telemetry snapshot each station sent with its last batch or heartbeat says how it is
now; the usage logs, folded into hourly figures (central/rollup.py), say how it has been used;
small telemetry samples say how its sync lag and health moved. A station's snapshot is its
own account, so it is read defensively: a missing or odd field is "unknown", never an error
that hides the rest of the fleet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from central.releases import station_updates
from central.rollup import HOUR, hour_of
from central.settings import CentralSettings
from central.storage.base import IncomingEvent, StationRecord, Storage
from wire.telemetry import OCCUPANCY_STATE, SAMPLE_PATHS, dig

log = logging.getLogger("central.fleet")

Level = Literal["ok", "warning", "critical"]
_RANK = {"ok": 0, "warning": 1, "critical": 2}

SYNC_LAG_WARN_S = 3600.0
"""Events more than an hour old still on the station: its link is poor or down."""
DISK_FREE_WARN, DISK_FREE_CRIT = 0.10, 0.03
"""Share of the data file system left free."""
CPU_WARN_C, CPU_CRIT_C = 75.0, 82.0
"""A Pi starts throttling at 80 °C; 75 °C in a booth in summer deserves a look."""
_ROLLUP_CHUNK = 50_000
_PRUNE_EVERY_S = 3600.0


@dataclass(frozen=True, slots=True)
class Problem:
    level: Level
    text: str

    def to_dict(self) -> dict[str, str]:
        return {"level": self.level, "text": self.text}


def num(value: Any) -> float | None:
    """A JSON number as float; anything else (a bool, a string, null) is unknown."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def items_of(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def sample_of(telemetry: dict[str, Any]) -> dict[str, float | None]:
    """The few numbers of a snapshot worth keeping over time (wire/telemetry.py names them)."""
    state = dig(telemetry, *OCCUPANCY_STATE)
    sample = {name: num(dig(telemetry, *path)) for name, path in SAMPLE_PATHS.items()}
    sample["occupied"] = (
        {"occupied": 1.0, "vacant": 0.0}.get(state) if isinstance(state, str) else None
    )
    return sample


def _disk(t: dict[str, Any]) -> tuple[float | None, float | None]:
    return num(dig(t, "health", "disk_free_bytes")), num(dig(t, "health", "disk_total_bytes"))


def _ago(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172_800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def problems_of(record: StationRecord, now: float, settings: CentralSettings) -> list[Problem]:
    """What the office should look at for this station, worst first."""
    out: list[Problem] = []
    if record.last_seen is None:
        out.append(Problem("warning", "never reported: check its [sync] url and token"))
    elif now - record.last_seen > settings.offline_after_s:
        out.append(Problem("critical", f"offline: last heard {_ago(now - record.last_seen)} ago"))
    t = record.telemetry or {}
    by_type = dig(t, "alarms", "by_type") or {}
    forced = num(by_type.get("forced_open")) if isinstance(by_type, dict) else None
    if forced:
        out.append(Problem("critical", f"door forced open ({forced:.0f})"))
    offline_boards = dig(t, "doors", "boards_offline")
    if isinstance(offline_boards, list) and offline_boards:
        boards = ", ".join(str(b) for b in offline_boards)
        out.append(Problem("critical", f"lock board offline: {boards}"))
    faulty = items_of(dig(t, "doors", "faulty_items"))
    if faulty:
        lockers = ", ".join(f"{f.get('id')} ({f.get('reason')})" for f in faulty)
        out.append(Problem("warning", f"lockers out of service: {lockers}"))
    others = num(dig(t, "alarms", "open")) or 0
    others -= (forced or 0) + len(faulty)
    if others > 0:
        out.append(Problem("warning", f"{others:.0f} other open alarm(s)"))
    lag = num(dig(t, "sync", "lag_s"))
    if lag is not None and lag > SYNC_LAG_WARN_S:
        out.append(Problem("warning", f"sync behind by {_ago(lag)}"))
    error = dig(t, "sync", "last_error")
    if isinstance(error, str) and error:
        out.append(Problem("warning", f"sync trouble: {error}"))
    if dig(t, "sync", "bundle_status") == "rejected":
        out.append(Problem("warning", "refused the latest bundle: publish a corrected one"))
    free, total = (
        num(dig(t, "health", "disk_free_bytes")),
        num(dig(t, "health", "disk_total_bytes")),
    )
    if free is not None and total:
        share = free / total
        if share < DISK_FREE_WARN:
            level: Level = "critical" if share < DISK_FREE_CRIT else "warning"
            out.append(Problem(level, f"disk {share:.0%} free"))
    temp = num(dig(t, "health", "cpu_temp_c"))
    if temp is not None and temp >= CPU_WARN_C:
        out.append(Problem("critical" if temp >= CPU_CRIT_C else "warning", f"CPU {temp:.0f} °C"))
    if dig(t, "clock_synced") is False:
        out.append(Problem("warning", "clock not synchronised (NTP)"))
    low = num(dig(t, "supplies", "low"))
    if low:
        out.append(Problem("warning", f"{low:.0f} supply item(s) low"))
    overdue = num(dig(t, "tools", "overdue"))
    if overdue:
        out.append(Problem("warning", f"{overdue:.0f} tool loan(s) overdue"))
    return sorted(out, key=lambda p: -_RANK[p.level])


def summary_of(record: StationRecord, now: float, settings: CentralSettings) -> dict[str, Any]:
    """One row of the fleet table."""
    t = record.telemetry or {}
    if record.last_seen is None:
        status = "never"
    elif now - record.last_seen > settings.offline_after_s:
        status = "offline"
    else:
        status = "online"
    problems = problems_of(record, now, settings)
    health: Level = problems[0].level if problems else "ok"
    occ_state = dig(t, "occupancy", "state") if dig(t, "occupancy", "present") else None
    free, total = (
        num(dig(t, "health", "disk_free_bytes")),
        num(dig(t, "health", "disk_total_bytes")),
    )
    return {
        "id": record.id,
        "name": record.name,
        "status": status,
        "health": health,
        "problems": [p.to_dict() for p in problems],
        "last_seen": record.last_seen,
        "seen_ago_s": None if record.last_seen is None else max(0.0, now - record.last_seen),
        "telemetry_at": record.telemetry_at,
        "acked_seq": record.acked_seq,
        "software": dig(t, "software"),
        "up_since": num(dig(t, "up_since")),
        "doors": {
            k: num(dig(t, "doors", k)) for k in ("total", "open", "closed", "unknown", "faulty")
        },
        "open_doors": [str(d) for d in dig(t, "doors", "open_ids") or [] if isinstance(d, str)],
        "alarms_open": num(dig(t, "alarms", "open")),
        "occupancy": occ_state,
        "occupied_minutes_today": num(dig(t, "occupancy", "today", "occupied_minutes")),
        "sessions_today": num(dig(t, "occupancy", "today", "sessions")),
        "loans_out": num(dig(t, "tools", "out")),
        "loans_overdue": num(dig(t, "tools", "overdue")),
        "lost_waiting": num(dig(t, "lost_found", "waiting")),
        "supplies_low": num(dig(t, "supplies", "low")),
        "sync_lag_s": num(dig(t, "sync", "lag_s")),
        "sync_pending": num(dig(t, "sync", "pending")),
        "cpu_temp_c": num(dig(t, "health", "cpu_temp_c")),
        "disk_free_bytes": free,
        "disk_free_share": free / total if free is not None and total else None,
        "mem_available_bytes": num(dig(t, "health", "mem_available_bytes")),
        "clock_synced": dig(t, "clock_synced")
        if isinstance(dig(t, "clock_synced"), bool)
        else None,
    }


_NO_COMMANDS = {"pending": 0, "done": 0, "refused": 0, "failed": 0}


class Fleet:
    """Keeps the history as batches arrive and answers the fleet API and /metrics."""

    def __init__(
        self, storage: Storage, settings: CentralSettings, clock: Callable[[], float]
    ) -> None:
        self.storage = storage
        self.settings = settings
        self.clock = clock
        self._tz = ZoneInfo(settings.timezone)
        self._last_prune: float | None = None

    # --- as batches arrive -------------------------------------------------------------------

    def ingested(
        self,
        station: str,
        telemetry: dict[str, Any] | None,
        stored: tuple[int, Sequence[IncomingEvent]] | None = None,
    ) -> None:
        """After a batch is stored: fold newly contiguous events (history and reports), keep a
        sample, prune.

        `stored` is the batch's `after` and events when every one of them was new: the folds
        take them from there instead of reading them back. Called off the event loop. A
        failure here is logged and left for the next batch (the fold resumes from its stored
        position); it never fails the station's upload.
        """
        now = self.clock()
        try:
            if self.storage.fold_log(station, _ROLLUP_CHUNK, stored) == _ROLLUP_CHUNK:
                while self.storage.fold_log(station, _ROLLUP_CHUNK) == _ROLLUP_CHUNK:
                    pass
            if telemetry is not None:
                self.storage.add_sample(
                    station, now, sample_of(telemetry), self.settings.sample_every_s
                )
            if self._last_prune is None or now - self._last_prune >= _PRUNE_EVERY_S:
                self._last_prune = now
                self.storage.prune_samples(now - self.settings.sample_days * 86_400)
        except Exception:
            log.exception(
                "station %s: updating the fleet history failed; retried next batch", station
            )

    # --- the office's questions ------------------------------------------------------------

    def overview(self) -> dict[str, Any]:
        """Every station's summary, with its office commands pending and finished and its
        software: the version it runs, the one it should run, its newest update result."""
        now = self.clock()
        rows = [summary_of(r, now, self.settings) for r in self.storage.stations()]
        commands = self.storage.command_counts()
        updates = station_updates(self.storage)
        for row in rows:
            row["commands"] = commands.get(row["id"], _NO_COMMANDS)
            row["update"] = updates.get(row["id"])
        count = {
            s: sum(1 for r in rows if r["status"] == s) for s in ("online", "offline", "never")
        }
        health = {h: sum(1 for r in rows if r["health"] == h) for h in _RANK}
        return {
            "now": now,
            "offline_after_s": self.settings.offline_after_s,
            "counts": count | {"total": len(rows)},
            "health": health,
            "stations": rows,
        }

    def station(self, station_id: str, days: int = 7) -> dict[str, Any] | None:
        record = self.storage.station(station_id)
        if record is None:
            return None
        now = self.clock()
        return {
            "now": now,
            "summary": summary_of(record, now, self.settings),
            "telemetry": record.telemetry,
            "history": self.history(days, station_id),
        }

    def _each(self, path: tuple[str, ...]) -> list[dict[str, Any]]:
        """Items of a list in every station's latest snapshot, each tagged with its station
        and the snapshot's own time (`station_at`, the station's clock)."""
        now = self.clock()
        out = []
        for r in self.storage.stations():
            status = summary_of(r, now, self.settings)["status"]
            at = num(dig(r.telemetry, "at"))
            tag = {
                "station": r.id,
                "station_name": r.name,
                "station_status": status,
                "station_at": at,
            }
            for item in items_of(dig(r.telemetry, *path)):
                # Who it is comes from the token the snapshot came with, never from the
                # snapshot: an item naming another station must not speak for it.
                out.append(item | tag)
        return out

    def alarms(self) -> list[dict[str, Any]]:
        """Open alarms across the fleet, newest first."""
        rows = self._each(("alarms", "items"))
        return sorted(rows, key=lambda a: -(num(a.get("raised_at")) or 0))

    def overdue_loans(self) -> list[dict[str, Any]]:
        """Overdue loans across the fleet, longest overdue first (tools, never borrowers).

        How long overdue is measured on the station's clock, as of its snapshot: the due time
        came from that clock too, so a station whose clock is off is still counted right."""
        rows = self._each(("tools", "overdue_items"))
        for row in rows:
            due, at = num(row.get("due_at")), row["station_at"]
            row["overdue_s"] = None if due is None or at is None else max(0.0, at - due)
        return sorted(rows, key=lambda r: -(r["overdue_s"] or 0))

    def low_supplies(self) -> list[dict[str, Any]]:
        return [s for s in self._each(("supplies", "items")) if s.get("low") is True]

    # --- history ---------------------------------------------------------------------------

    def history(self, days: int, station: str | None = None) -> dict[str, Any]:
        """Charts' data over the last `days` local days: occupancy by hour of day (average
        occupied minutes in each hour), loans, returns and alarms per day, and sync lag."""
        now = self.clock()
        today = datetime.fromtimestamp(now, self._tz).date()
        first = today - timedelta(days=days - 1)
        since = datetime(first.year, first.month, first.day, tzinfo=self._tz).timestamp()
        day_list = [first + timedelta(days=i) for i in range(days)]
        index = {d: i for i, d in enumerate(day_list)}
        records = self.storage.stations()
        if station is not None:
            records = [r for r in records if r.id == station]
        series: dict[str, dict[str, Any]] = {
            r.id: {
                "name": r.name,
                "occupied_minutes_by_hour": [0.0] * 24,
                "sessions_per_day": [0] * days,
                "loans_per_day": [0] * days,
                "returns_per_day": [0] * days,
                "alarms_per_day": [0] * days,
                "door_openings_per_day": [0] * days,
                "sync_lag": [],
            }
            for r in records
        }
        local_of: dict[int, tuple[int | None, int]] = {}
        """hour -> (day index, local hour): the fleet's stations share their hours, so each is
        converted once (a year of 100 stations is 876 000 rows, 8 760 distinct hours)."""
        for row in self.storage.hourly(since, hour_of(now) + HOUR, station):
            s = series.get(row["station"])
            at = local_of.get(row["hour"])
            if at is None:
                local = datetime.fromtimestamp(row["hour"], self._tz)
                at = local_of[row["hour"]] = (index.get(local.date()), local.hour)
            i, local_hour = at
            if s is None or i is None:
                continue
            s["occupied_minutes_by_hour"][local_hour] += row["occupied_s"] / 60.0 / days
            for figure in ("sessions", "loans", "returns", "alarms", "door_openings"):
                s[f"{figure}_per_day"][i] += int(row[figure])
        for sample in self.storage.samples(now - 86_400, station):
            s = series.get(sample["station"])
            if s is not None and sample.get("sync_lag_s") is not None:
                s["sync_lag"].append([sample["at"], sample["sync_lag_s"]])
        for s in series.values():
            s["occupied_minutes_by_hour"] = [round(v, 2) for v in s["occupied_minutes_by_hour"]]
        return {
            "now": now,
            "timezone": self.settings.timezone,
            "days": [d.isoformat() for d in day_list],
            "since": since,
            "stations": series,
        }
