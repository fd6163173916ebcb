"""The one small interface central's storage backends implement, and the records they exchange.

The HTTP app and the admin CLI talk only to `Storage`; SQLite (zero set-up) and PostgreSQL (a
city-scale fleet) differ only in SQL. Shared rules that are not SQL (how a batch becomes rows,
how the contiguous sequence advances) live here and in central/contiguity.py, written once.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

from wire.commands import Command, CommandResult
from wire.event import IncomingEvent
from wire.releases import Manifest, RolloutRequest, UpdateReport

TokenKind = Literal["station", "office"]
OfficeRole = Literal["viewer", "operator"]
"""An office token's powers: a viewer reads; an operator may also send stations commands."""


class StorageError(Exception):
    """Central storage could not do what was asked; the message says what to do."""


class UnknownStation(StorageError):
    pass


class StationExists(StorageError):
    pass


class SeqConflict(StorageError):
    """A station sent a different event under a sequence number central already holds."""


@dataclass(frozen=True, slots=True)
class IngestResult:
    acked_seq: int
    stored: int
    duplicates: int


@dataclass(frozen=True, slots=True)
class StationRecord:
    id: str
    name: str
    created_at: float
    acked_seq: int
    last_seen: float | None
    active_tokens: int
    telemetry: dict[str, Any] | None
    telemetry_at: float | None

    def to_dict(self) -> dict[str, Any]:
        """Field by field, not dataclasses.asdict: the telemetry object is shared, not copied."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class TokenRecord:
    kind: TokenKind
    subject: str
    """The station id for a station token, the holder's name for an office token."""
    revoked: bool
    role: str = "viewer"
    """OfficeRole for an office token; meaningless for a station's."""


@dataclass(frozen=True, slots=True)
class BundleRecord:
    version: int
    sha256: str
    body: str
    published_at: float
    stations: tuple[str, ...]
    """Empty for a fleet-wide bundle."""


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """One alarm as central tracks it for the office's channels."""

    id: int
    station: str
    source: str
    """The station's alarm id, or central's own name for an alarm it raised."""
    type: str
    subject: str
    detail: str
    raised_at: float
    acked_at: float | None
    cleared_at: float | None
    reminders: int

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class AlertMessage:
    """A message owed to one channel about one alert."""

    id: int
    channel: str
    kind: Literal["raised", "reminder", "cleared"]
    quiet: str | None
    """The quiet span (HH:MM-HH:MM, local) that holds it, if any."""
    attempts: int
    alert: AlertRecord


@dataclass(frozen=True, slots=True)
class MemberReminder:
    """A reminder owed to a member; `sealed` is their sealed contact (None: none held)."""

    id: int
    station: str
    member: str
    kind: Literal["due_soon", "overdue", "claim_approved"]
    ref: str
    facts: dict[str, Any]
    due_at: float
    attempts: int
    sealed: str | None


AlertPlan = Callable[[str, str], list[tuple[str, str | None]]]
"""(station, alarm type) -> the channels to tell, each with the quiet span that holds it."""


@dataclass(frozen=True, slots=True)
class EventQuery:
    station: str | None = None
    type: str | None = None
    since: float | None = None
    until: float | None = None
    after: int = 0
    limit: int = 100


def row_tuple(station: str, e: IncomingEvent, received_at: float) -> tuple[Any, ...]:
    """The column values of one event, in EVENT_COLUMNS order, for both backends."""
    return (
        station,
        e.seq,
        e.id,
        e.type,
        e.ts,
        e.ts_corrected,
        e.time,
        e.time_source,
        e.mono,
        e.boot_id,
        e.clock_synced,
        e.actor,
        e.locker,
        e.payload,
        received_at,
    )


EVENT_COLUMNS = (
    "station",
    "seq",
    "id",
    "type",
    "ts",
    "ts_corrected",
    "time",
    "time_source",
    "mono",
    "boot_id",
    "clock_synced",
    "actor",
    "locker",
    "payload",
    "received_at",
)


def event_dict(row: dict[str, Any]) -> dict[str, Any]:
    """A stored event as the query API shows it (payload as an object, flag as a bool)."""
    payload = row["payload"]
    if isinstance(payload, str):
        payload = json.loads(payload)
    return {
        "gid": row["gid"],
        "station": row["station"],
        "seq": row["seq"],
        "id": row["id"],
        "type": row["type"],
        "time": row["time"],
        "time_source": row["time_source"],
        "ts": row["ts"],
        "ts_corrected": row["ts_corrected"],
        "mono": row["mono"],
        "boot_id": row["boot_id"],
        "clock_synced": bool(row["clock_synced"]),
        "actor": row["actor"],
        "locker": row["locker"],
        "payload": payload,
        "received_at": row["received_at"],
    }


def conflict_message(station: str, seq: int) -> str:
    return (
        f"station {station}: sequence {seq} is already held with a different event. The "
        "station's database was probably replaced or restored; its log starts over and cannot "
        "be merged. Register the station under a new id (station central register NEW_ID) and "
        "put the new token in its config."
    )


class Storage(ABC):
    """Everything central keeps. Implementations are thread-safe: the app calls them from a
    thread pool. Every write method is one transaction."""

    # --- stations and tokens ----------------------------------------------------------------

    @abstractmethod
    def add_station(self, station: str, name: str, token_sha256: str, now: float) -> None:
        """Register a station with its first token; StationExists if the id is taken."""

    @abstractmethod
    def rotate_station_token(self, station: str, token_sha256: str, now: float) -> None:
        """Revoke every token of the station and give it this new one."""

    @abstractmethod
    def revoke_station(self, station: str, now: float) -> int:
        """Revoke every token of the station; returns how many were live."""

    @abstractmethod
    def add_office_token(
        self, name: str, token_sha256: str, now: float, role: OfficeRole = "viewer"
    ) -> None: ...

    @abstractmethod
    def revoke_office_token(self, name: str, now: float) -> int: ...

    @abstractmethod
    def token(self, token_sha256: str) -> TokenRecord | None:
        """Who holds the token with this hash (None if nobody ever did)."""

    @abstractmethod
    def station(self, station: str) -> StationRecord | None: ...

    @abstractmethod
    def stations(self) -> list[StationRecord]: ...

    # --- commands for stations (central/storage/sql_commands.py) ----------------------------

    @abstractmethod
    def add_command(self, command: Command, now: float) -> None:
        """Queue a command; UnknownStation if its station is not registered."""

    @abstractmethod
    def pending_commands(self, station: str, now: float, limit: int = 20) -> list[str]:
        """The JSON bodies of the station's commands still without a result."""

    @abstractmethod
    def record_results(self, station: str, results: Sequence[CommandResult], now: float) -> int:
        """Store the station's results (first one wins); returns how many were new."""

    @abstractmethod
    def commands(
        self, station: str | None = None, status: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]: ...

    @abstractmethod
    def command_counts(self) -> dict[str, dict[str, int]]: ...

    # --- releases, rollouts, update reports (central/storage/sql_releases.py) -------------

    @abstractmethod
    def add_release(self, manifest: Manifest, by: str, now: float) -> bool:
        """Keep a release's manifest; False if the version is already held."""

    @abstractmethod
    def release(self, version: str) -> Manifest | None: ...

    @abstractmethod
    def releases(self) -> list[dict[str, Any]]: ...

    @abstractmethod
    def add_rollout(self, rollout_id: str, order: RolloutRequest, by: str, now: float) -> None: ...

    @abstractmethod
    def rollouts(self, limit: int = 100) -> list[dict[str, Any]]:
        """Newest first, each with its RolloutRequest as `order`."""

    @abstractmethod
    def add_update_report(self, report: UpdateReport, now: float) -> bool:
        """Keep a station's update report; False if already received. UnknownStation."""

    @abstractmethod
    def update_reports(self, station: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        """Newest first."""

    # --- the usage log ------------------------------------------------------------------------

    @abstractmethod
    def ingest(
        self,
        station: str,
        after: int,
        events: Sequence[IncomingEvent],
        telemetry: str | None,
        now: float,
    ) -> IngestResult:
        """Store a batch idempotently (station, seq) and advance the contiguous sequence.

        `events` are strictly increasing and follow the station's event `after` with nothing
        between. Raises SeqConflict (and stores nothing) if a sequence number is held with a
        different event id; UnknownStation if the station is not registered.
        """

    @abstractmethod
    def events(self, query: EventQuery) -> list[dict[str, Any]]:
        """Events matching the query with gid > query.after, in gid order, at most limit."""

    @abstractmethod
    def count_events(self, station: str | None = None) -> int: ...

    # --- bundles ----------------------------------------------------------------------------

    @abstractmethod
    def publish_bundle(self, body: str, sha256: str, stations: Sequence[str], now: float) -> int:
        """Store a bundle for the given stations (all when empty); returns its version."""

    @abstractmethod
    def bundle_for(self, station: str, have: int) -> BundleRecord | None:
        """The newest bundle meant for the station if it is newer than `have`, else None."""

    @abstractmethod
    def bundles(self) -> list[BundleRecord]:
        """Every published bundle, newest first, without bodies' validation."""

    # --- fleet history (central/rollup.py, central/fleet.py) ----------------------------------

    @abstractmethod
    def rollup(self, station: str, limit: int = 50_000) -> int:
        """Fold the station's events past its rollup position, up to what central holds
        contiguously (at most `limit` sequence numbers), into the hourly figures; the position
        moves in the same transaction. Returns how many sequence numbers were folded."""

    @abstractmethod
    def hourly(
        self, since: float, until: float, station: str | None = None
    ) -> list[dict[str, Any]]:
        """Hourly figures (station, hour, and FIGURES of central/rollup.py) with
        since <= hour < until, ordered by station and hour."""

    @abstractmethod
    def add_sample(
        self, station: str, at: float, sample: dict[str, float | None], every_s: float
    ) -> bool:
        """Keep a few telemetry numbers of this moment, unless the station already has a
        sample younger than `every_s`. Returns whether it was kept."""

    @abstractmethod
    def samples(self, since: float, station: str | None = None) -> list[dict[str, Any]]:
        """Samples at or after `since`: {"station", "at", **numbers}, by station and time."""

    @abstractmethod
    def prune_samples(self, before: float) -> int:
        """Delete samples older than `before`; returns how many."""

    # --- office reports (central/reports/) ---------------------------------------------------

    @abstractmethod
    def fold_reports(self, station: str, limit: int = 50_000) -> int:
        """Fold the station's events past its report position, up to what central holds
        contiguously (at most `limit` stored events), into the report figures; the position
        moves in the same transaction. Returns how many events were stepped over."""

    def fold_log(
        self,
        station: str,
        limit: int = 50_000,
        stored: tuple[int, Sequence[IncomingEvent]] | None = None,
    ) -> int:
        """`rollup` and `fold_reports` together (a backend may do both in one transaction, and
        fold `stored`, a batch just stored whole as (after, events), without reading it back);
        returns the larger of their counts."""
        return max(self.rollup(station, limit), self.fold_reports(station, limit))

    @abstractmethod
    def report_counts(
        self, since: float, until: float, stations: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        """Report figures (station, hour, metric, key, value) with since <= hour < until, of
        the given stations (all when empty), ordered by station, hour, metric and key."""

    @abstractmethod
    def report_positions(self) -> dict[str, int]:
        """How far each station's log is folded into the report figures (sequence number)."""

    # --- alerts to people (central/alerts/) --------------------------------------------------

    @abstractmethod
    def fold_alerts(self, station: str, plan: AlertPlan, now: float, limit: int = 50_000) -> int:
        """Fold the station's alarm events past its alert position (up to what central holds
        contiguously) into alerts, queueing a message per planned channel when an alarm is
        first seen and when it clears; the position moves in the same transaction."""

    @abstractmethod
    def raise_central_alert(
        self, station: str, kind: str, subject: str, detail: str, plan: AlertPlan, now: float
    ) -> bool:
        """Raise central's own alarm unless one of the kind is open there; whether it was."""

    @abstractmethod
    def clear_central_alert(self, station: str, kind: str, now: float) -> bool:
        """Clear central's open alarm of this kind (queueing the clear messages)."""

    @abstractmethod
    def queue_reminders(self, now: float, remind_after_s: float, max_reminders: int) -> int:
        """Queue a reminder for each alert neither acknowledged nor cleared whose last message
        went out `remind_after_s` ago or more; returns how many alerts."""

    @abstractmethod
    def due_messages(self, now: float, limit: int = 500) -> list[AlertMessage]:
        """Messages not yet sent whose time has come, oldest first."""

    @abstractmethod
    def message_done(self, message_id: int, now: float, note: str | None = None) -> None:
        """The message went out (or, with a note, was dropped: its alert moved on)."""

    @abstractmethod
    def message_failed(self, message_id: int, retry_at: float, error: str) -> None: ...

    @abstractmethod
    def message_postponed(self, message_id: int, due_at: float) -> None: ...

    @abstractmethod
    def alerts(self, open_only: bool = True, limit: int = 500) -> list[AlertRecord]: ...

    @abstractmethod
    def acknowledge_alert(self, alert_id: int, now: float) -> AlertRecord | None:
        """The office saw it: no more reminders. None if there is no such alert."""

    # --- reminders to members (central/reminders/) ---------------------------------------------

    @abstractmethod
    def fold_reminders(
        self, station: str, remind_before_s: float, overdue_after_s: float, limit: int = 50_000
    ) -> int:
        """Fold the station's loan and claim events past its reminder position into the
        reminders owed (central/reminders/plan.py); the position moves in the same
        transaction."""

    @abstractmethod
    def put_contact(self, member: str, sealed: str, now: float) -> None:
        """Keep (or replace) a member's sealed contact."""

    @abstractmethod
    def delete_contact(self, member: str) -> bool:
        """Forget a member's contact; whether one was held."""

    @abstractmethod
    def due_reminders(self, now: float, limit: int = 500) -> list[MemberReminder]: ...

    @abstractmethod
    def reminder_done(self, reminder_id: int, now: float, dropped: str | None = None) -> None:
        """Sent, or (with a reason) not to be sent."""

    @abstractmethod
    def reminder_failed(self, reminder_id: int, retry_at: float) -> None: ...

    # --- life -------------------------------------------------------------------------------

    @abstractmethod
    def close(self) -> None: ...
