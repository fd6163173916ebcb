"""Sensor fusion: from the sensors' latest readings to `occupied`, `vacant` or `unknown`.

A pure function of the readings and the time, so every rule is tested without hardware:
- Any fresh sensor seeing someone makes the area occupied. The radar's still-target counts: a
  courier resting on the bench keeps the area occupied while the PIR sees no motion.
- After the last sign of a person the area stays occupied for the hold time, then turns
  vacant, but only if every configured sensor is reporting: vacancy is a claim that needs
  all eyes open.
- A sensor silent for longer than the stale timeout is offline. While one is offline the area
  is never called vacant; it is occupied on the others' positive evidence, else unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

State = Literal["occupied", "vacant", "unknown"]


@dataclass(frozen=True, slots=True)
class SensorReading:
    sensor: str
    at: float
    """Monotonic time the reading was taken (the radar's report arrival, the PIR's poll)."""
    present: bool
    """Whether this sensor sees a person (after range filtering)."""
    detail: Mapping[str, Any] = field(default_factory=dict)
    """What the sensor said, for the API (radar distances, PIR motion)."""


@dataclass(frozen=True, slots=True)
class Verdict:
    state: State
    reason: str
    seen: tuple[str, ...]
    """Sensors seeing someone right now (empty while holding or vacant)."""
    fresh: frozenset[str]
    offline: frozenset[str]


def evaluate(
    *,
    now: float,
    sensors: tuple[str, ...],
    latest: Mapping[str, SensorReading],
    started_at: float,
    current: State,
    last_seen: float | None,
    hold_s: float,
    stale_s: float,
) -> Verdict:
    """Decide the state at `now`. `started_at` is when watching began (sensors warm up)."""
    fresh: set[str] = set()
    offline: set[str] = set()
    for name in sensors:
        reading = latest.get(name)
        heard = reading.at if reading is not None else started_at
        if reading is not None and now - reading.at <= stale_s:
            fresh.add(name)
        elif now - heard > stale_s:
            offline.add(name)
    seen = tuple(name for name in sensors if name in fresh and latest[name].present)
    state, reason = _decide(sensors, seen, fresh, offline, current, last_seen, now, hold_s)
    return Verdict(state, reason, seen, frozenset(fresh), frozenset(offline))


def _decide(
    sensors: tuple[str, ...],
    seen: tuple[str, ...],
    fresh: set[str],
    offline: set[str],
    current: State,
    last_seen: float | None,
    now: float,
    hold_s: float,
) -> tuple[State, str]:
    if seen:
        return "occupied", f"{' and '.join(seen)} sees someone"
    if current == "occupied" and last_seen is not None and now - last_seen < hold_s:
        return "occupied", f"holding {hold_s:.0f} s after the last sighting"
    if not sensors:
        return "unknown", "no occupancy sensor is configured"
    if offline:
        return "unknown", f"{' and '.join(sorted(offline))} offline"
    if len(fresh) < len(sensors):
        waiting = " and ".join(sorted(set(sensors) - fresh))
        return "unknown", f"waiting for the first report from {waiting}"
    return "vacant", "nobody seen"
