"""The alert set-up in central's settings: channels, station groups, routes, quiet hours.

Checked whole at start like the rest of the settings (unknown keys are errors). A channel's
URL is an Apprise URL (wecombot://, dingtalk://, feishu://, mailto://, json://...); it holds
the channel's secret, so an error about it names the channel and never repeats the URL.
"""

from __future__ import annotations

import logging
from datetime import datetime, time
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from wire.alarms import STATION_ALARMS
from wire.batch import StationId

CENTRAL_ALARMS = ("station_offline",)
"""Alarms central raises itself: a station not heard from for `offline_after_s`."""
ALARM_KINDS = STATION_ALARMS + CENTRAL_ALARMS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChannelConfig(_Strict):
    url: Annotated[str, Field(min_length=4)]
    """An Apprise URL: wecombot://KEY (企业微信), dingtalk://TOKEN (钉钉), feishu://TOKEN (飞书),
    mailto://USER:PASS@HOST?to=ADDR (e-mail), json://HOST/PATH (a generic JSON webhook, for
    example the office's SMS gateway)."""

    def __repr__(self) -> str:
        return "ChannelConfig(url=<hidden>)"


class QuietHours(_Strict):
    """Messages of a route are held from `start` to `end` (local time; may wrap midnight)
    and sent when the quiet ends, except the `urgent` alarm types."""

    start: time
    end: time
    urgent: tuple[str, ...] = ("forced_open",)

    @model_validator(mode="after")
    def _span(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("quiet hours start and end at the same time: give a span")
        return self

    def holds(self, at: datetime) -> bool:
        """Whether the local moment lies inside the quiet span."""
        now = at.time().replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end

    def text(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


class RouteConfig(_Strict):
    """Alarms of these types at stations of these groups go to these channels (an empty list
    of groups or types means all)."""

    channels: Annotated[tuple[str, ...], Field(min_length=1)]
    groups: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    quiet_hours: QuietHours | None = None

    @field_validator("types")
    @classmethod
    def _known_types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [t for t in value if t not in ALARM_KINDS]
        if unknown:
            raise ValueError(
                f"unknown alarm type {', '.join(unknown)}: choose from {', '.join(ALARM_KINDS)}"
            )
        return value


class AlertsConfig(_Strict):
    channels: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")], ChannelConfig] = {}
    groups: dict[str, tuple[StationId, ...]] = {}
    """Station groups routes name, e.g. {"east" = ["EAST-01", "EAST-02"]}."""
    routes: tuple[RouteConfig, ...] = ()
    remind_after_s: Annotated[float, Field(gt=0)] = 3600.0
    """An alarm nobody acknowledged is sent again this long after the last message."""
    max_reminders: Annotated[int, Field(ge=0)] = 3
    retry_after_s: Annotated[float, Field(gt=0)] = 30.0
    """A message a channel refused is tried again after this, doubling up to retry_max_s."""
    retry_max_s: Annotated[float, Field(gt=0)] = 1800.0
    send_timeout_s: Annotated[float, Field(gt=0)] = 10.0
    tick_s: Annotated[float, Field(gt=0)] = 15.0
    """How often central looks for messages to send, reminders due and silent stations."""

    @model_validator(mode="after")
    def _consistent(self) -> AlertsConfig:
        for i, route in enumerate(self.routes):
            missing = [c for c in route.channels if c not in self.channels]
            if missing:
                raise ValueError(
                    f"routes[{i}] names channel {', '.join(missing)}, which [alerts.channels] "
                    "does not define"
                )
            groups = [g for g in route.groups if g not in self.groups]
            if groups:
                raise ValueError(
                    f"routes[{i}] names station group {', '.join(groups)}, which "
                    "[alerts.groups] does not define"
                )
        for name, channel in self.channels.items():
            if not _apprise_accepts(channel.url):
                raise ValueError(
                    f"channel {name}: its url is not an Apprise URL this server can send to "
                    "(wecombot://, dingtalk://, feishu://, mailto://, json://...); the url is "
                    "not repeated here because it holds the channel's secret"
                )
        return self

    def plan(self, station: str, kind: str) -> list[tuple[str, str | None]]:
        """The channels an alarm goes to, each with the quiet span that holds it (None when
        no matching route to that channel is quiet for this type)."""
        out: dict[str, str | None] = {}
        for route in self.routes:
            if route.types and kind not in route.types:
                continue
            if route.groups and not any(station in self.groups[g] for g in route.groups):
                continue
            quiet = route.quiet_hours
            span = quiet.text() if quiet is not None and kind not in quiet.urgent else None
            for channel in route.channels:
                if channel not in out:
                    out[channel] = span
                elif span is None:
                    out[channel] = None
        return sorted(out.items())


def parse_span(text: str) -> QuietHours:
    start, _, end = text.partition("-")
    return QuietHours(start=time.fromisoformat(start), end=time.fromisoformat(end), urgent=())


def _apprise_accepts(url: str) -> bool:
    try:
        import apprise
    except ImportError:
        raise ValueError(
            "alert channels need the 'apprise' package on the central server: pip install apprise"
        ) from None
    quiet_apprise()
    logger = logging.getLogger("apprise")
    logger.disabled = True  # it would log the unparseable URL, secret and all
    try:
        return bool(apprise.Apprise().add(url))
    finally:
        logger.disabled = False


def quiet_apprise() -> None:
    """Apprise logs the URLs it sends to (with their keys) at DEBUG: keep it to warnings,
    whatever level central's own log runs at."""
    logging.getLogger("apprise").setLevel(logging.WARNING)
