"""Limits the central server enforces on what stations and the office send it."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from central.alerts.config import AlertsConfig
from central.reminders.config import CONTACT_SCHEMES, RemindersConfig


class CentralSettings(BaseModel):
    """Defaults fit a 4G station's batches (a few hundred KiB gzipped) with a wide margin."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_body_bytes: Annotated[int, Field(ge=1024)] = 16 * 1024 * 1024
    """Largest request body as received (gzipped or not); bigger is refused with 413."""
    max_inflated_bytes: Annotated[int, Field(ge=1024)] = 16 * 1024 * 1024
    """Largest body after gunzip: a guard against gzip bombs (the station's largest batch,
    sync.batch_max_bytes, is at most 16 MiB before gzip)."""
    max_event_bytes: Annotated[int, Field(ge=1024)] = 64 * 1024
    """Largest payload of one event (its JSON text); a bigger one is quarantined, not stored."""
    max_concurrent_ingests: Annotated[int, Field(ge=1, le=256)] = 4
    """Uploads read, inflated and stored at once; more wait their turn, so memory is bounded
    by this many inflated batches whatever the stations send."""
    max_batch_events: Annotated[int, Field(ge=1)] = 50_000
    max_page: Annotated[int, Field(ge=1)] = 1000
    """Most events one query page returns."""
    max_telemetry_bytes: Annotated[int, Field(ge=256)] = 64 * 1024
    """A bigger telemetry snapshot is dropped (the batch's events are still stored)."""

    # --- the fleet view (central/fleet.py) ---
    offline_after_s: Annotated[float, Field(gt=0)] = 300.0
    """A station not heard from for this long shows as offline (stations report at least every
    sync.heartbeat_s, 60 s by default)."""
    sample_every_s: Annotated[float, Field(ge=0)] = 300.0
    """Keep at most one telemetry sample per station this often (sync lag and health charts)."""
    sample_days: Annotated[float, Field(gt=0)] = 90.0
    """Telemetry samples older than this are deleted (hourly figures are kept)."""
    alerts: AlertsConfig = AlertsConfig()
    """Alarms to the office's channels (central/alerts/config.py); none when no route is set."""
    reminders: RemindersConfig | None = None
    """Reminders to members who opted in (central/reminders/); none when absent."""
    timezone: str = "Asia/Shanghai"
    """The stations' local time zone, for 'hour of day' and 'per day' in the fleet history."""

    # --- station backups (central/backups.py) ---
    backup_dir: str = ""
    """Where stations' uploaded backups are kept, one folder per station; empty: central
    takes no backups (the upload answers 404 saying so)."""
    backup_keep: Annotated[int, Field(ge=1, le=365)] = 7
    """Backups kept per station; older ones are deleted when a new one arrives."""
    max_backup_bytes: Annotated[int, Field(ge=1024)] = 1024 * 1024 * 1024

    # --- software releases (central/releases.py) ---
    release_dir: str = ""
    """Where uploaded releases' wheels are kept, one folder per version; empty: central
    holds no releases (uploads and stations' downloads answer 404 saying so)."""
    max_release_bytes: Annotated[int, Field(ge=1024)] = 256 * 1024 * 1024
    """Largest single file of a release."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}: use an IANA name such as 'Asia/Shanghai'"
            ) from None
        return value

    @model_validator(mode="after")
    def _reminder_channel(self) -> CentralSettings:
        r = self.reminders
        if r is None:
            return self
        channel = self.alerts.channels.get(r.channel)
        if channel is None:
            raise ValueError(
                f"reminders.channel {r.channel!r} is not one of [alerts.channels]: define it there"
            )
        if not channel.url.startswith(CONTACT_SCHEMES):
            raise ValueError(
                f"reminders.channel {r.channel!r} cannot address one member: use a json:// "
                "webhook (the office's SMS gateway) or a mailto:// channel"
            )
        return self
