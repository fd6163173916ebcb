"""Config section `[ui]`: what the touchscreen shows and how it finds the daemon.

The UI reads the same station.toml as the daemon so a station has one file to edit. The model
lives with the config that reads it (station/config.py wires it in as `StationConfig.ui`), so
the station never imports the UI; the UI takes the validated section from here.
"""

from __future__ import annotations

from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

Language = Literal["zh", "en"]


class UiConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    daemon_url: Annotated[str, Field(pattern=r"^https?://[^\s/]+(:\d+)?/?$")] | None = None
    """Where the daemon's API is; empty means http://<api.bind>:<api.port> on this machine."""
    token: Annotated[str, Field(min_length=16)] | None = None
    """The kiosk token; empty means the first `[[api.tokens]]` entry with role kiosk."""
    language: Language = "zh"
    """Language shown after start and after every idle return to Home."""
    idle_timeout_s: Annotated[float, Field(ge=10, le=3_600)] = 60.0
    """No touch for this long returns to Home and forgets who was identified."""
    staff_idle_timeout_s: Annotated[float, Field(ge=10, le=3_600)] = 120.0
    """No touch for this long logs staff out of the maintenance screen."""
    staff_no_prefix: Annotated[str, Field(pattern=r"^[A-Za-z]{0,4}$")] = ""
    """Letters of this station's staff numbers before the digits ("S" for S001): the keypad
    is numeric, so staff type the digits and the screen puts these in front."""
    notice_cycle_s: Annotated[float, Field(ge=2, le=600)] = 8.0
    """How long each central-office notice stays on Home before the next one."""
    timezone: str = "Asia/Shanghai"
    """IANA zone in which due times and pickup deadlines are shown."""
    web_bind: str = "127.0.0.1"
    """Address `station ui --web` serves the browser UI on."""
    web_port: Annotated[int, Field(ge=1, le=65535)] = 8471
    reconnect_max_s: Annotated[float, Field(gt=0, le=60)] = 3.0
    """Longest wait between attempts to reach a daemon that went away."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as 'Asia/Shanghai'"
            ) from None
        return value
