"""Snapshots (pytest-textual-snapshot) of Home, the keypad, a door-open prompt, an error and
the maintenance door grid: at the smallest and the largest panel grid, in both languages.

Taken against a stocked simulated station reached over HTTP (one station process per screen,
shared by its four variants), on screens that show no clock and nothing that drifts: fixed
supplies, closed doors, one door held open per variant with a tool and member of its own.
After an intended change: `pytest tests/ui/test_snapshots.py --snapshot-update`, then look at
the report it writes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.ui.kiosk import MEMBER_PHONE, MEMBER_PIN, STAFF_NO, STAFF_PIN, Kiosk, build_app
from tests.ui.station_proc import EXTRA_PHONES, RemoteStation, start


@dataclass(frozen=True)
class Variant:
    language: str
    size: tuple[int, int]
    door_tool: str
    """Each variant borrows its own tool, as its own member, so variants never meet."""
    door_locker: str
    door_phone: str
    error_phone: str


VARIANTS = [
    pytest.param(
        Variant("zh", (66, 13), "T-LADDER-1", "A01", EXTRA_PHONES[0], EXTRA_PHONES[4]),
        id="zh-66x13",
    ),
    pytest.param(
        Variant("en", (66, 13), "T-HAMMER-1", "A04", EXTRA_PHONES[1], EXTRA_PHONES[5]),
        id="en-66x13",
    ),
    pytest.param(
        Variant("zh", (85, 18), "T-WRENCH-1", "A05", EXTRA_PHONES[2], EXTRA_PHONES[6]),
        id="zh-85x18",
    ),
    pytest.param(
        Variant("en", (85, 18), "T-PLIERS-1", "A06", EXTRA_PHONES[3], EXTRA_PHONES[7]),
        id="en-85x18",
    ),
]
"""The smallest panel grid (the 7 inch 800x480) and the largest (the 10 inch 1280x800) of
deploy/kiosk/foot.ini, in both languages."""

Steps = Callable[[Kiosk, Variant], Awaitable[None]]


@pytest.fixture(scope="session")
def stations(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Any]]:
    """One station process per screen, started when the screen's first variant needs it."""
    running: dict[str, RemoteStation] = {}

    def get(screen: str) -> RemoteStation:
        if screen not in running:
            running[screen] = start(tmp_path_factory.mktemp(f"station-{screen}"))
        return running[screen]

    try:
        yield get
    finally:
        for station in running.values():
            station.stop()


def shoot(snap_compare: Any, stations: Any, screen: str, variant: Variant, steps: Steps) -> bool:
    station = stations(screen)
    app = build_app(station, language=variant.language)

    async def run_before(pilot: Any) -> None:
        kiosk = Kiosk(app, pilot, station)
        await kiosk.home()
        await steps(kiosk, variant)
        await kiosk.settled()

    return snap_compare(app, terminal_size=variant.size, run_before=run_before)


async def at_home(kiosk: Kiosk, variant: Variant) -> None:
    await kiosk.sees("湿巾" if variant.language == "zh" else "Wet wipes")


async def choose_and_type_phone(kiosk: Kiosk, tool: str, phone: str) -> None:
    await kiosk.tap("#tile-borrow")
    await kiosk.tap(f"#choice-{tool}")
    await kiosk.on("PhoneScreen")
    await kiosk.keypad(phone)


async def phone_entered(kiosk: Kiosk, variant: Variant) -> None:
    """The number part typed (the 11th digit goes on to the PIN by itself)."""
    await choose_and_type_phone(kiosk, "T-DRILL-1", MEMBER_PHONE[:7])


async def door_open(kiosk: Kiosk, variant: Variant) -> None:
    await choose_and_type_phone(kiosk, variant.door_tool, variant.door_phone)
    await kiosk.on("PinScreen")
    await kiosk.keypad(MEMBER_PIN)
    await kiosk.on("BorrowConfirmScreen")
    await kiosk.tap("#confirm")
    await kiosk.on("FlowScreen")
    locker = variant.door_locker
    await kiosk.until(lambda: kiosk.app.live.door(locker) == "open", what=f"{locker} open")
    await kiosk.until(lambda: kiosk.screen.state == "open", what="the flow to see it open")


async def wrong_pin(kiosk: Kiosk, variant: Variant) -> None:
    await choose_and_type_phone(kiosk, "T-DRILL-1", variant.error_phone)
    await kiosk.on("PinScreen")
    await kiosk.keypad("111333")
    await kiosk.on("ErrorScreen")


async def staff_login(kiosk: Kiosk, variant: Variant) -> None:
    await kiosk.tap("#staff")
    await kiosk.keypad(STAFF_NO)
    await kiosk.tap("#next")
    await kiosk.on("StaffPinScreen")
    await kiosk.keypad(STAFF_PIN)
    await kiosk.tap("#next")
    await kiosk.on("MaintenanceScreen")


async def door_grid(kiosk: Kiosk, variant: Variant) -> None:
    await staff_login(kiosk, variant)
    # All 16 at 85x18; the first page of them at 66x13.
    await kiosk.until(lambda: kiosk.screen.query(".door"), what="the doors")


@pytest.mark.parametrize("variant", VARIANTS)
def test_home(snap_compare, stations, variant) -> None:
    assert shoot(snap_compare, stations, "home", variant, at_home)


@pytest.mark.parametrize("variant", VARIANTS)
def test_keypad(snap_compare, stations, variant) -> None:
    assert shoot(snap_compare, stations, "keypad", variant, phone_entered)


@pytest.mark.parametrize("variant", VARIANTS)
def test_door_open_prompt(snap_compare, stations, variant) -> None:
    assert shoot(snap_compare, stations, "door", variant, door_open)


@pytest.mark.parametrize("variant", VARIANTS)
def test_error_wrong_pin(snap_compare, stations, variant) -> None:
    assert shoot(snap_compare, stations, "error", variant, wrong_pin)


@pytest.mark.parametrize("variant", VARIANTS)
def test_maintenance_door_grid(snap_compare, stations, variant) -> None:
    assert shoot(snap_compare, stations, "grid", variant, door_grid)
