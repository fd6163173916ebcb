"""Config section `[sync]`: where the central server is and how hard to push the usage log to it.

Optional as a whole: with `url` empty (the default) the station runs on its own and keeps every
event until sync is configured. Defined here rather than in station/config.py because
station/config.py imports it; the base repeats Section's two settings for the same reason.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SyncConfig(_Section):
    url: str = ""
    """Base URL of the central server, e.g. https://central.example.org; empty = sync off."""
    token: str = ""
    """This station's bearer token, from `station central register <station id>`."""
    token_file: Path | None = None
    """Read the token from this file instead (kept out of a config that is shared or printed)."""
    ca_file: Path | None = None
    """CA bundle to verify central's certificate with; default: the system's."""
    allow_insecure_http: bool = False
    """Permit http:// to a host other than loopback (a test bench only: the token travels bare)."""

    batch_max_events: Annotated[int, Field(ge=1, le=50_000)] = 5000
    batch_max_bytes: Annotated[int, Field(ge=4096, le=16 * 1024 * 1024)] = 2 * 1024 * 1024
    """Uncompressed JSON per batch; gzip makes it several times smaller on the wire."""
    gzip_level: Annotated[int, Field(ge=1, le=9)] = 1
    """1: a third of level 6's time on the station's CPU for a few percent more bytes (the
    usage log's JSON is repetitive, so even level 1 shrinks it several times)."""

    interval_s: Annotated[float, Field(gt=0, le=3600)] = 15.0
    """Pause between uploads once caught up (a backlog goes out batch after batch at once)."""
    heartbeat_s: Annotated[float, Field(gt=0, le=3600)] = 60.0
    """With nothing to send, still report (with telemetry) this often so central sees us."""
    bundle_interval_s: Annotated[float, Field(gt=0, le=86_400)] = 300.0
    backoff_base_s: Annotated[float, Field(gt=0, le=600)] = 1.0
    backoff_cap_s: Annotated[float, Field(gt=0, le=86_400)] = 300.0
    """Longest wait between retries; each wait is random in [0, min(cap, base * 2^n)]."""

    alarm_after_s: Annotated[float, Field(gt=0, le=7 * 86_400)] = 3600.0
    """Raise the `sync_failing` alarm once central has been unreachable (or refusing) this long;
    it clears itself at the next successful upload."""

    connect_timeout_s: Annotated[float, Field(gt=0, le=300)] = 10.0
    timeout_s: Annotated[float, Field(gt=0, le=600)] = 30.0
    """Longest wait for central's answer to one batch."""

    retention_days: Annotated[float, Field(ge=0, le=3650)] = 90.0
    """Synced events older than this are deleted from the station; 0 keeps them for ever.
    Events central has not acknowledged are never deleted."""
    hold_unsynced_s: Annotated[float, Field(ge=0, le=86_400)] = 600.0
    """Events of this boot written before the clock synchronised wait up to this long for a
    synchronised time to correct them with, before they go uncorrected."""

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    def read_token(self) -> str:
        """The token, from `token` or `token_file`; '' if neither gives one."""
        if self.token:
            return self.token
        if self.token_file is not None:
            try:
                return self.token_file.read_text(encoding="utf-8").strip()
            except OSError:
                return ""
        return ""

    @model_validator(mode="after")
    def _usable(self) -> SyncConfig:
        if not self.url:
            return self
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"url must be https://host[:port][/path], got {self.url!r}")
        if (
            parts.scheme == "http"
            and not self.allow_insecure_http
            and not _loopback(parts.hostname)
        ):
            raise ValueError(
                "url uses plain http to a remote host, which would send the token in clear: "
                "use https:// (or set allow_insecure_http = true on a test bench)"
            )
        if not self.token and self.token_file is None:
            raise ValueError(
                "sync is on (url is set) but there is no token: set token or token_file to the "
                "token printed by 'station central register <station id>'"
            )
        if self.token and self.token_file is not None:
            raise ValueError("give either token or token_file, not both")
        if self.backoff_cap_s < self.backoff_base_s:
            raise ValueError("backoff_cap_s must be at least backoff_base_s")
        return self


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
