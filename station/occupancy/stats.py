"""Today's figures for the rest area: occupied minutes and sessions, in the station's local day.

Sessions are clipped to the day, so one that ran across midnight counts on both days for the
part it spent in each.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo


@dataclass(frozen=True, slots=True)
class TodayStats:
    date: str
    """The local date, ISO format."""
    occupied_minutes: float
    sessions: int
    """Sessions that overlapped today, the one under way included."""


def local_day(wall: float, tz: tzinfo | None) -> tuple[str, float, float]:
    """(ISO date, start, end) of the local day holding `wall`, as wall-clock seconds."""
    moment = datetime.fromtimestamp(wall, tz) if tz else datetime.fromtimestamp(wall).astimezone()
    start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + timedelta(days=1)
    return start.date().isoformat(), start.timestamp(), end.timestamp()


def today_stats(
    wall: float, tz: tzinfo | None, sessions: Iterable[tuple[float, float]]
) -> TodayStats:
    """Sum (start, end) wall-clock spans over the local day of `wall`."""
    date, day_start, day_end = local_day(wall, tz)
    seconds = 0.0
    count = 0
    for start, end in sessions:
        overlap = min(end, day_end) - max(start, day_start)
        if end >= day_start and start < day_end:
            count += 1
            seconds += max(0.0, overlap)
    return TodayStats(date, round(seconds / 60, 1), count)
