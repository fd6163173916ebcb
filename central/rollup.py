"""Hourly figures folded from the stations' usage logs: what the office's charts draw.

Central already holds every event, so history is derived from the log rather than from
telemetry snapshots (which a station behind a dead 4G link cannot send for days). Each station's
events are folded once, in sequence order, up to the sequence central holds contiguously, and the
fold's position is stored in the same transaction as the sums: a retry or a crash can neither
count an event twice nor skip one. The arithmetic lives here once for both storage backends.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from typing import Any

HOUR = 3600
ROLLUP_TYPES = (
    "occupancy_session",
    "loan_started",
    "tool_returned",
    "alarm_raised",
    "door_unlocked",
)
"""The event types the hourly figures are made of."""
FIGURES = ("occupied_s", "sessions", "loans", "returns", "alarms", "door_openings")


@dataclass
class Hour:
    occupied_s: float = 0.0
    sessions: int = 0
    loans: int = 0
    returns: int = 0
    alarms: int = 0
    door_openings: int = 0

    def values(self) -> tuple[float, ...]:
        return tuple(getattr(self, f.name) for f in fields(self))


def hour_of(t: float) -> int:
    return int(t // HOUR) * HOUR


def fold(rows: Iterable[dict[str, Any]]) -> dict[int, Hour]:
    """Sum events (dicts with type, time, ts, payload) into UTC hours.

    `time` is central's best time for the event; when the station corrected it (no synchronised
    clock at the time), the session's own start and end were measured on the same clock, so they
    move by the same correction.
    """
    hours: dict[int, Hour] = {}

    def at(t: float) -> Hour:
        return hours.setdefault(hour_of(t), Hour())

    for row in rows:
        kind, when = row["type"], float(row["time"])
        if kind == "loan_started":
            at(when).loans += 1
        elif kind == "tool_returned":
            at(when).returns += 1
        elif kind == "alarm_raised":
            at(when).alarms += 1
        elif kind == "door_unlocked":
            at(when).door_openings += 1
        elif kind == "occupancy_session":
            payload = row["payload"]
            if isinstance(payload, str):
                payload = json.loads(payload)
            _add_session(at, payload, when - float(row["ts"]))
    return hours


def _add_session(at: Any, payload: dict[str, Any], shift: float) -> None:
    span = session_span(payload, shift)
    if span is None:
        return
    at(span[0]).sessions += 1
    for t, seconds in split_hours(*span):
        at(t).occupied_s += seconds


def session_span(payload: dict[str, Any], shift: float) -> tuple[float, float] | None:
    """An occupancy session's start and end on central's clock, or None if the payload does
    not hold a sane pair (the station's figures are read defensively)."""
    try:
        start = float(payload["started_at"]) + shift
        end = float(payload["ended_at"]) + shift
    except (KeyError, TypeError, ValueError):
        return None
    if end < start:
        return None
    return start, end


def split_hours(start: float, end: float) -> Iterator[tuple[float, float]]:
    """(a moment inside the hour, seconds) for each UTC hour the span [start, end) touches."""
    t = start
    while t < end:
        edge = min(end, hour_of(t) + HOUR)
        yield t, edge - t
        t = edge
