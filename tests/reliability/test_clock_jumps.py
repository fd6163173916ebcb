"""Finding 10 of issue 18: lockouts and guessing budgets hold however the wall clock jumps.

Through the real daemon over HTTP. The clock is the machine's own monotonic clock with the wall
clock moved by an offset (a Pi without a real-time clock, NTP stepping it after a boot, or a
date set wrong by hand), and, for a reboot, a new boot id whose monotonic clock starts again
near zero. Before the fix, +6 h let a locked member in at once and gave the spent
station-wide budget back; -24 h made a short lockout last a day.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from station.clock import read_boot_id
from tests.simstation import running_station
from tests.station.conftest import Harness, services_config

VICTIM = "13900001111"
OTHERS = ("15011112222", "15011113333", "15011114444")
RIGHT, WRONG = "246813", "135724"
HOUR = 3600.0


class MovedClock:
    """The real clocks, with the wall clock moved by `offset`; `uptime` starts a new boot."""

    def __init__(self, boot_id: str | None = None, uptime: float | None = None) -> None:
        self.boot_id = boot_id or read_boot_id()
        self.offset = 0.0
        self._zero = 0.0 if uptime is None else time.monotonic() - uptime

    def wall(self) -> float:
        return time.time() + self.offset

    def monotonic(self) -> float:
        return time.monotonic() - self._zero

    def synced(self) -> bool:
        return True


def config(tmp_path: Path, **people: Any) -> dict[str, Any]:
    data = services_config(tmp_path)
    data["people"] = {**data.get("people", {}), **people}
    return data


@contextlib.asynccontextmanager
async def station(data: dict[str, Any], clock: MovedClock) -> AsyncIterator[Harness]:
    async with running_station(data, clock=clock) as running:
        h = Harness(station=running, clock=None)
        try:
            yield h
        finally:
            await h.close_clients()
    assert not h.leaked_phones()


async def identify(h: Harness, phone: str, pin: str) -> tuple[int, str]:
    r = await h.kiosk.post("/api/v1/members/identify", json={"phone": h.phone(phone), "pin": pin})
    return r.status_code, r.json()["code"] if r.status_code >= 400 else ""


async def lock_victim_and_spend_budget(h: Harness) -> None:
    for phone in (VICTIM, *OTHERS):
        await h.register(phone, RIGHT)
    for _ in range(3):
        await identify(h, VICTIM, WRONG)
    assert await identify(h, VICTIM, RIGHT) == (429, "locked")
    for phone in OTHERS:
        await identify(h, phone, WRONG)
    assert await identify(h, OTHERS[0], RIGHT) == (429, "guessing_throttled")


async def test_moving_the_wall_clock_six_hours_on_frees_neither_lockout_nor_budget(
    tmp_path: Path,
) -> None:
    clock = MovedClock()
    data = config(tmp_path, pin_max_failures=3, station_member_pin_failures=6)
    async with station(data, clock) as h:
        await lock_victim_and_spend_budget(h)

        clock.offset = 6 * HOUR + 60  # past the lockout and past the 6 h guessing window

        assert await identify(h, OTHERS[1], RIGHT) == (429, "guessing_throttled")
        staff = await h.staff()
        throttles = {t["kind"]: t for t in (await staff.get("/api/v1/throttles")).json()}
        left = throttles["member_pin"]["blocked_until"] - clock.wall()
        assert 5 * HOUR < left <= 6 * HOUR, left
        r = await staff.post("/api/v1/throttles/member_pin/release", json={"reason": "test"})
        assert r.status_code == 200, r.text
        # The budget is back only by staff; the victim's own lockout still holds.
        assert await identify(h, VICTIM, RIGHT) == (429, "locked")
        assert await identify(h, OTHERS[1], RIGHT) == (200, "")


async def test_moving_the_wall_clock_a_day_back_does_not_lengthen_a_lockout(
    tmp_path: Path,
) -> None:
    clock = MovedClock()
    data = config(tmp_path, pin_max_failures=3, lockout_s=1.0)
    async with station(data, clock) as h:
        await h.register(VICTIM, RIGHT)
        for _ in range(3):
            await identify(h, VICTIM, WRONG)
        assert await identify(h, VICTIM, RIGHT) == (429, "locked")

        clock.offset = -24 * HOUR
        await asyncio.sleep(1.2)  # the lockout's own length, on the real clock

        assert await identify(h, VICTIM, RIGHT) == (200, "")


async def test_a_lockout_and_a_spent_budget_survive_a_reboot_with_the_clock_a_week_on(
    tmp_path: Path,
) -> None:
    """Across a boot nothing says how long the power was off: a week on the wall clock frees
    nothing; what counts is how long the new boot has run."""
    data = config(tmp_path, pin_max_failures=3, station_member_pin_failures=6, lockout_s=600.0)
    first = MovedClock(boot_id=uuid.uuid4().hex, uptime=5000.0)
    async with station(data, first) as h:
        await lock_victim_and_spend_budget(h)

    rebooted = MovedClock(boot_id=uuid.uuid4().hex, uptime=30.0)
    rebooted.offset = 7 * 24 * HOUR
    async with station(data, rebooted) as h:
        assert await identify(h, VICTIM, RIGHT) == (429, "guessing_throttled")
        staff = await h.staff()
        r = await staff.post("/api/v1/throttles/member_pin/release", json={"reason": "test"})
        assert r.status_code == 200, r.text
        assert await identify(h, VICTIM, RIGHT) == (429, "locked")
        r = await staff.post("/api/v1/members/lookup", json={"phone": h.phone(VICTIM)})
        left = r.json()["locked_until"] - rebooted.wall()
        assert 500 < left <= 600, left

    # A new boot that has run past the lockout's length: the lockout is over.
    later = MovedClock(boot_id=uuid.uuid4().hex, uptime=601.0)
    later.offset = -24 * HOUR
    async with station(data, later) as h:
        assert await identify(h, VICTIM, RIGHT) == (200, "")
