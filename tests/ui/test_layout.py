"""Every screen a flow reaches, at every panel grid and in both languages, is usable by a finger.

One walk per language through the resident flows (borrow, return, hand in, find and claim,
store, charge, pick up, a refusal) and one through the staff screens, tapping at the 7 inch
panel's 66x13 cells; at every step the screen is looked at in each grid of `GRIDS` (the
panel table in deploy/kiosk/foot.ini plus 80x24 and 100x30): every button fully on the screen,
uncovered, at least 3 rows high, reached by a tap at its centre and showing its words whole,
every text on the screen; and every paged list shows all of its entries page by page.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest
from textual.drivers.headless_driver import HeadlessDriver
from textual.events import Resize
from textual.geometry import Size
from textual.pilot import WaitForScreenTimeout

from tests.simstation import SimStation
from tests.ui.conftest import SUPPLIES, TOOLS
from tests.ui.kiosk import (
    MEMBER_PHONE,
    MEMBER_PIN,
    OTHER_PHONE,
    STAFF_NO,
    STAFF_PIN,
    FakeMonotonic,
    Kiosk,
    build_app,
    visible,
)
from tests.ui.layout import GRIDS, PANEL_GRIDS, all_choice_keys, every_page, problems

ROOT = Path(__file__).resolve().parents[2]
SMALLEST = PANEL_GRIDS[0]


class Walk:
    """Looks at the screen on top at every grid and keeps what was wrong."""

    def __init__(self, kiosk: Kiosk) -> None:
        self.kiosk = kiosk
        self.bad: list[str] = []
        self.seen: list[str] = []

    async def look(self, screen: str, paged: bool = False) -> None:
        kiosk = self.kiosk
        await kiosk.on(screen)
        self.seen.append(screen)
        for width, height in GRIDS:
            await self.resize(width, height)
            self.bad.extend(problems(kiosk))
            if paged:
                await kiosk.on(screen)
                want = all_choice_keys(kiosk)
                got = await every_page(kiosk, ".choice", "#next-page")
                if sorted(got) != sorted(want):
                    self.bad.append(f"{width}x{height} {screen}: paging shows {got}, not {want}")
        await self.resize(*SMALLEST)

    async def resize(self, width: int, height: int) -> None:
        """The terminal at this grid, laid out again and redrawn (paged lists refit).

        What `Pilot.resize_terminal` does, without its wait for the whole process (the
        daemon included) to go idle.
        """
        kiosk = self.kiosk
        size = Size(width, height)
        driver = kiosk.app._driver
        if isinstance(driver, HeadlessDriver):
            driver._size = size
        kiosk.app.post_message(Resize(size, size))
        await kiosk.until(lambda: tuple(kiosk.screen.size) == (width, height), what="resize")
        await self.drawn()
        await kiosk.settled()
        await kiosk.until(
            lambda: all(w.is_finished for w in kiosk.app.workers if w.group == "door-grid"),
            what="the door grid redrawn",
        )
        await self.drawn()

    async def drawn(self) -> None:
        # A screen that keeps receiving live news is looked at as it is.
        with contextlib.suppress(WaitForScreenTimeout):
            await self.kiosk.pilot._wait_for_screen()

    def check(self) -> None:
        assert not self.bad, "\n".join(dict.fromkeys(self.bad))


def door_no(kiosk: Kiosk) -> int:
    return int(str(kiosk.screen.locker)[1:])  # type: ignore[attr-defined]


async def door_step(walk: Walk, answer: bool = False) -> str:
    """The door step until its receipt, looked at open, (answering) and as the receipt."""
    kiosk = walk.kiosk
    await walk.look("FlowScreen")
    await kiosk.until(lambda: kiosk.screen.state == "open", what="the door open")
    await walk.look("FlowScreen")
    locker = str(kiosk.screen.locker)
    kiosk.station.sim.close_door(door_no(kiosk))
    if answer:
        await kiosk.until(lambda: kiosk.screen.state == "awaiting_answer", what="the question")
        await walk.look("FlowScreen")
        await kiosk.tap("#answer-works")
    await kiosk.until(lambda: visible(kiosk.screen.query_one("#done")), what="the receipt")
    await kiosk.until(lambda: kiosk.screen.state == "completed", what="completed")
    await walk.look("FlowScreen")
    return locker


async def resident_walk(walk: Walk) -> None:
    kiosk = walk.kiosk
    await walk.look("HomeScreen")
    # Borrow, with a refusal first (a wrong PIN).
    await kiosk.tap("#tile-borrow")
    await walk.look("BorrowToolsScreen", paged=True)
    await kiosk.tap("#choice-T-DRILL-1")
    await walk.look("PhoneScreen")
    await kiosk.keypad(OTHER_PHONE)
    await kiosk.tap("#next")
    await walk.look("PinScreen")
    await kiosk.keypad("111333")
    await kiosk.tap("#next")
    await walk.look("ErrorScreen")
    await kiosk.tap("#home")
    await kiosk.home()
    await kiosk.tap("#tile-borrow")
    await kiosk.tap("#choice-T-DRILL-1")
    await kiosk.identify(MEMBER_PHONE, MEMBER_PIN)
    await walk.look("BorrowConfirmScreen")
    await kiosk.tap("#confirm")
    await door_step(walk)
    await kiosk.tap("#done")
    await kiosk.home()
    # Return it.
    await kiosk.tap("#tile-return")
    await walk.look("ReturnToolsScreen", paged=True)
    await kiosk.tap("#choice-T-DRILL-1")
    await walk.look("ReturnConfirmScreen")
    await kiosk.tap("#confirm")
    await door_step(walk, answer=True)
    await kiosk.tap("#done")
    await kiosk.home()
    # Hand in a found item.
    await kiosk.tap("#tile-lost")
    await walk.look("LostMenuScreen", paged=True)
    await kiosk.tap("#choice-handin")
    await walk.look("CategoryScreen", paged=True)
    await kiosk.tap("#choice-keys")
    await walk.look("ColourScreen", paged=True)
    await kiosk.tap("#choice-black")
    await walk.look("PlaceScreen", paged=True)
    await kiosk.tap("#choice-place-0")
    await walk.look("FinderPhoneScreen")
    await kiosk.tap("#skip")
    await walk.look("HandInConfirmScreen")
    await kiosk.tap("#confirm")
    await door_step(walk)
    await kiosk.tap("#done")
    await kiosk.home()
    # Find it and claim it.
    await kiosk.tap("#tile-lost")
    await kiosk.tap("#choice-find")
    await walk.look("FindCategoryScreen", paged=True)
    await kiosk.tap("#choice-all")
    await walk.look("FoundListScreen", paged=True)
    first = kiosk.screen.query(".choice").first()
    await kiosk.tap(f"#{first.id}")
    await walk.look("FoundItemScreen")
    await kiosk.tap("#claim")
    await walk.look("ClaimPhoneScreen")
    await kiosk.keypad(MEMBER_PHONE)
    await kiosk.tap("#next")
    await walk.look("ClaimDoneScreen")
    await kiosk.tap("#done")
    await kiosk.home()
    # Store a bag, then pick it up with its code.
    await kiosk.tap("#tile-storage")
    await walk.look("StorageMenuScreen", paged=True)
    await kiosk.tap("#choice-bag")
    await walk.look("DepositSizeScreen", paged=True)
    await kiosk.tap("#choice-size-S")
    locker = await door_step(walk)
    code = kiosk.screen.query_one("#receipt-code").value
    await kiosk.tap("#done")
    await kiosk.home()
    await kiosk.tap("#tile-storage")
    await kiosk.tap("#choice-phone")
    await walk.look("ChargeConfirmScreen")
    await kiosk.tap("#back")
    await kiosk.tap("#choice-pickup")
    await walk.look("PickupLockerScreen", paged=True)
    await kiosk.tap(f"#choice-{locker}")
    await walk.look("PickupCodeScreen")
    await kiosk.keypad(code)
    await kiosk.tap("#next")
    await door_step(walk)
    await kiosk.tap("#done")
    await kiosk.home()


async def staff_walk(walk: Walk) -> None:
    kiosk = walk.kiosk
    await kiosk.tap("#staff")
    await walk.look("StaffNumberScreen")
    await kiosk.keypad(STAFF_NO)
    await kiosk.tap("#next")
    await walk.look("StaffPinScreen")
    await kiosk.keypad(STAFF_PIN)
    await kiosk.tap("#next")
    await walk.look("MaintenanceScreen")
    doors = await every_page(kiosk, ".door", "#doors-next")
    want = [f"door-{lk.id}" for lk in kiosk.station.config.lockers]
    if sorted(doors) != sorted(want):
        walk.bad.append(f"door grid pages show {doors}")
    for name in ("alarms", "tools", "lost", "supplies", "storage", "sync", "selftest"):
        await section(kiosk, name)
        await walk.look("MaintenanceScreen")
        if name == "tools":
            rows = await every_page(kiosk, "#panel-tools .row-text", "#panel-tools .next")
            if len(rows) != len(TOOLS):
                walk.bad.append(f"tools panel pages show {len(rows)} of {len(TOOLS)} tools")
        if name == "supplies":
            rows = await every_page(kiosk, "#panel-supplies .row-text", "#panel-supplies .next")
            if len(rows) != len(SUPPLIES):
                walk.bad.append(f"supplies pages show {len(rows)} of {len(SUPPLIES)} supplies")
    await section(kiosk, "supplies")
    await kiosk.tap("#count-water")
    await walk.look("SupplyCountScreen")
    await kiosk.tap("#back")
    await section(kiosk, "doors")
    await kiosk.tap("#door-A03")
    await walk.look("DoorActionScreen")
    await kiosk.tap("#back")
    await kiosk.on("MaintenanceScreen")


async def section(kiosk: Kiosk, name: str) -> None:
    """A console section by taps: on the 7 inch panel through the section menu."""
    await kiosk.on("MaintenanceScreen")
    if kiosk.screen.has_class("-tiny") and not kiosk.screen.has_class("menu"):
        await kiosk.tap("#back")
    await kiosk.tap(f"#sec-{name}")
    await kiosk.until(lambda: kiosk.screen.query_one(f"#sec-{name}").has_class("selected"))
    await kiosk.settled()


@pytest.mark.timeout(600)
@pytest.mark.parametrize("language", ["zh", "en"])
async def test_resident_screens_at_every_grid(station: SimStation, language: str) -> None:
    app = build_app(station, monotonic=FakeMonotonic(), language=language)
    async with app.run_test(size=SMALLEST) as pilot:
        walk = Walk(Kiosk(app, pilot, station))
        await walk.kiosk.home()
        await resident_walk(walk)
        walk.check()


@pytest.mark.timeout(600)
@pytest.mark.parametrize("language", ["zh", "en"])
async def test_staff_screens_at_every_grid(station: SimStation, language: str) -> None:
    app = build_app(station, monotonic=FakeMonotonic(), language=language)
    async with app.run_test(size=SMALLEST) as pilot:
        walk = Walk(Kiosk(app, pilot, station))
        await walk.kiosk.home()
        await staff_walk(walk)
        walk.check()


def test_the_panel_table_is_the_tested_grids() -> None:
    """foot.ini's and docs/ui.md's panel tables give exactly the grids tested here."""
    foot = (ROOT / "deploy/kiosk/foot.ini").read_text()
    docs = (ROOT / "docs/ui.md").read_text()
    cells = r"^#\s+\d+ inch .* (\d+) x (\d+)\s+\d\.\d mm$"
    in_foot = [tuple(map(int, g)) for g in re.findall(cells, foot, re.M)]
    assert in_foot == PANEL_GRIDS
    table = docs[docs.index("| panel |") :].split("\n\n")[0]
    assert [tuple(map(int, g)) for g in re.findall(r"\| (\d+)x(\d+) \|", table)] == PANEL_GRIDS
