"""What each usage-log event adds to the office's service figures: a pure function.

The figures are kept per station, per UTC hour, per metric and per key (a tool, a supply, an
alarm type; empty where a metric has none), so any period of local days, any set of stations,
the top tools and the busiest hours are sums over the same rows. Central folds each station's
events once, in order, up to what it holds contiguously, in the transaction that moves the
fold's position (central/storage/sql_reports.py): a retried batch or a gap filled late can
neither count an event twice nor skip one.

The event types and payload fields are the ones the station writes (station/services/lending,
lostfound, deposits and supplies, station/alarms.py, station/occupancy/tracker.py); a field
missing or odd in a payload counts as nothing rather than failing the fold, because a
station's log is its own account.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import msgspec

from central.rollup import hour_of, session_span, split_hours

REPORT_TYPES = (
    "occupancy_session",
    "loan_started",
    "tool_returned",
    "loan_overdue",
    "found_item_registered",
    "found_item_claimed",
    "claim_approved",
    "deposit_started",
    "supply_restocked",
    "supply_counted",
    "alarm_raised",
    "notice_shown",
)
"""The event types the reports are made of."""
_decode = msgspec.json.decode

DOOR_ALARMS = ("forced_open", "door_jammed", "door_left_open")
"""Alarm types that are a door's: the report's "door alarms"."""

METRICS = (
    "rest_visits",
    "rest_seconds",
    "loans",
    "returns",
    "late_returns",
    "overdue_loans",
    "found_handed_in",
    "found_returned",
    "deposits",
    "phone_charges",
    "supplies_restocked",
    "supplies_used",
    "door_alarms",
    "notice_shows",
)

Key = tuple[int, str, str]
"""(UTC hour, metric, key)."""


def _payload(row: dict[str, Any]) -> dict[str, Any]:
    payload = row["payload"]
    if isinstance(payload, str):
        try:
            payload = _decode(payload)  # a third of json.loads' time on a batch's payloads
        except msgspec.DecodeError:
            payload = json.loads(payload)  # what msgspec refuses and json takes (NaN)
    return payload if isinstance(payload, dict) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _count(value: Any) -> float:
    """A non-negative number from a payload; anything else is nothing."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return 0.0
    return float(value)


def fold(rows: Iterable[dict[str, Any]]) -> dict[Key, float]:
    """Sum events (dicts with type, time, ts, payload) into (hour, metric, key) figures."""
    out: dict[Key, float] = defaultdict(float)

    def add(when: float, metric: str, value: float = 1.0, key: str = "") -> None:
        if value:
            out[(hour_of(when), metric, key)] += value

    for row in rows:
        kind, when, p = row["type"], float(row["time"]), _payload(row)
        if kind == "occupancy_session":
            span = session_span(p, when - float(row["ts"]))
            if span is not None:
                add(span[0], "rest_visits")
                for t, seconds in split_hours(*span):
                    add(t, "rest_seconds", seconds)
        elif kind == "loan_started":
            add(when, "loans", key=_text(p.get("tool_id")))
        elif kind == "tool_returned":
            add(when, "returns", key=_text(p.get("tool_id")))
            if p.get("late") is True:
                add(when, "late_returns")
        elif kind == "loan_overdue":
            add(when, "overdue_loans")
        elif kind == "found_item_registered":
            add(when, "found_handed_in")
        elif kind == "found_item_claimed" or (
            kind == "claim_approved" and p.get("handed_over") is True
        ):
            # the owner took it from the locker with a code, or staff handed it over
            add(when, "found_returned")
        elif kind == "deposit_started":
            kind_of = p.get("kind")
            if kind_of == "phone_charge":
                add(when, "phone_charges")
            elif kind_of == "bag":
                add(when, "deposits")
        elif kind == "supply_restocked":
            add(when, "supplies_restocked", _count(p.get("added")), _text(p.get("supply")))
        elif kind == "supply_counted":
            was, now = _count(p.get("was")), _count(p.get("count"))
            add(when, "supplies_used", max(0.0, was - now), _text(p.get("supply")))
        elif kind == "alarm_raised" and p.get("alarm") in DOOR_ALARMS:
            add(when, "door_alarms", key=p["alarm"])
        elif kind == "notice_shown":
            add(when, "notice_shows", _count(p.get("count", 1)), _text(p.get("notice")))
    return dict(out)
