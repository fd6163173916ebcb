"""Every screen a resident, a courier or staff reaches, at every panel grid, in both languages.

A walk taps its way through the flows as a person does (at the largest grid, where every
button of every breakpoint is reachable), and on each screen it reaches it looks at the screen
at each grid of `GRIDS` in turn (the terminal resized under it) with `problems()`: every button
fully on the screen, not covered, 3 rows high and reached by a tap at its centre, and no text
off the screen. On lists it also pages through to the end at each grid and checks that every
tool, locker, category, supply and door is on some page. Then it goes back to the walking size
and on to the next step.

One station and one app per walk: the walks are in the suite's test command, so they share
what they can (a walk starts one daemon and keeps it through all its screens).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from textual import events
from textual.drivers.headless_driver import HeadlessDriver
from textual.geometry import Size
from textual.widgets import Digits

from tests.simstation import SimStation
from tests.ui.conftest import SUPPLIES, TOOLS
from tests.ui.kiosk import (
    MEMBER_PHONE,
    MEMBER_PIN,
    OTHER_PHONE,
    STAFF_NO,
    STAFF_PIN,
    WAIT_S,
    FakeMonotonic,
    Kiosk,
    api_get,
    api_post,
    build_app,
    door,
    visible,
    wait_api,
)
from tests.ui.layout import GRIDS, all_choice_keys, every_page, lasting_problems
from ui.screens.notice import NoticeScreen

pytestmark = pytest.mark.timeout(600)
"""A walk looks at some 20 screens ten times each: generous on a loaded machine."""

WALK_ORDER = GRIDS
"""66x13 first: the walk taps its way at the 7 inch panel's grid and looks at the others in
the order of the table, which changes the breakpoint classes (a restyle of the whole screen)
least often."""
WALK_SIZE = WALK_ORDER[0]


@dataclass(frozen=True)
class Pages:
    """A paged list: its items, its next-page button and how many items it holds."""

    item: str
    next: str
    count: int


class Walk:
    """A kiosk that checks each screen it reaches at every grid, in both languages, and
    collects what is wrong."""

    def __init__(self, kiosk: Kiosk, clock: FakeMonotonic) -> None:
        self.kiosk = kiosk
        self.clock = clock
        self.bad: list[str] = []
        self.screens: list[str] = []

    async def resize(self, size: tuple[int, int]) -> None:
        k = self.kiosk
        # As Pilot.resize_terminal, without its wait for the whole process (daemon included)
        # to go idle: the screen's own redraw is what the check needs.
        driver = k.app._driver
        assert isinstance(driver, HeadlessDriver)
        driver._size = Size(*size)
        k.app.post_message(events.Resize(Size(*size), Size(*size)))
        for _ in range(int(WAIT_S / 0.01)):
            if k.screen.size == size:
                break
            await asyncio.sleep(0.01)
        await k.redrawn(rounds=3)

    async def look(self, *, choices: bool = False, pages: Pages | None = None) -> None:
        """Check the screen on top at every grid in both languages (one language toggle per
        grid: each grid starts in the language the one before ended in)."""
        k = self.kiosk
        self.screens.append(type(k.screen).__name__)
        for size in WALK_ORDER:
            await self.resize(size)
            await self.check(choices, pages)
            k.app.toggle_language()
            await k.redrawn(rounds=3)  # a list refits itself to the other language's prompt
            await self.check(choices, pages)
        await self.resize(WALK_SIZE)

    async def check(self, choices: bool, pages: Pages | None) -> None:
        """`choices`: a ChoiceScreen whose every option must be on some page; `pages`: a
        list whose `count` items must all be on some page."""
        k = self.kiosk
        w, h = k.app.size
        where = f"{w}x{h} {k.app.i18n.language} {type(k.screen).__name__}"
        self.bad.extend(f"{k.app.i18n.language} {p}" for p in await lasting_problems(k))
        if choices:
            missing = set(all_choice_keys(k)) - set(await every_page(k, ".choice", "#next-page"))
            if missing:
                self.bad.append(f"{where}: not on any page: {sorted(missing)}")
        if pages is not None:
            seen = set(await every_page(k, pages.item, pages.next))
            if len(seen) < pages.count:
                self.bad.append(f"{where}: {len(seen)} of {pages.count} {pages.item} on a page")

    def report(self) -> None:
        assert not self.bad, "\n".join(self.bad)


@pytest.fixture
async def walk(station: SimStation) -> AsyncIterator[Walk]:
    clock = FakeMonotonic()
    app = build_app(station, monotonic=clock)
    async with app.run_test(size=WALK_SIZE) as pilot:
        kiosk = Kiosk(app, pilot, station)
        await kiosk.home()
        yield Walk(kiosk, clock)


def door_channel(kiosk: Kiosk) -> int:
    return int(kiosk.screen.locker[1:])


async def through_the_door(walk: Walk) -> None:
    """The door step of a flow: opening, open, then shut by the person; look at each."""
    k = walk.kiosk
    await k.on("FlowScreen")
    await k.until(lambda: k.screen.state == "open", what="the door open")
    await walk.look()
    k.station.sim.close_door(door_channel(k))
    await k.until(lambda: k.screen.state != "open", what="the door shut")
    await k.settled()


async def receipt(walk: Walk) -> None:
    k = walk.kiosk
    await k.until(lambda: visible(k.screen.query_one("#done-bar")), what="the receipt")
    await k.settled()
    await walk.look()
    await k.tap("#done")
    await k.home()


async def test_resident_walk(walk: Walk) -> None:
    """Home, borrow and return a tool, a wrong PIN, a notice, the idle prompt."""
    k = walk.kiosk
    await walk.look()

    # Borrow: the tools, identification, the confirmation, the door, the receipt.
    await k.tap("#tile-borrow")
    await k.on("BorrowToolsScreen")
    await walk.look(choices=True)
    await k.tap("#choice-T-DRILL-1")
    await k.on("PhoneScreen")
    await walk.look()
    await k.keypad(MEMBER_PHONE)  # goes on by itself with the 11th digit
    await k.on("PinScreen")
    await k.keypad(MEMBER_PIN[:3])
    await walk.look()
    await k.keypad(MEMBER_PIN[3:])
    await k.on("BorrowConfirmScreen")
    await walk.look()
    await k.tap("#confirm")
    await through_the_door(walk)
    await receipt(walk)

    # Return: the tools on loan, the confirmation, the door, the question, the receipt.
    await k.tap("#tile-return")
    await k.on("ReturnToolsScreen")
    await walk.look(choices=True)
    await k.tap("#choice-T-DRILL-1")
    await k.on("ReturnConfirmScreen")
    await walk.look()
    await k.tap("#confirm")
    await through_the_door(walk)
    await k.until(lambda: k.screen.state == "awaiting_answer", what="the question")
    await walk.look()
    await k.tap("#answer-works")
    await receipt(walk)

    # A wrong PIN: the error and its way back.
    await k.tap("#tile-borrow")
    await k.tap("#choice-T-LADDER-1")
    await k.on("PhoneScreen")
    await k.keypad(OTHER_PHONE)
    await k.on("PinScreen")
    await k.keypad("111333")
    await k.on("ErrorScreen")
    await walk.look()
    await k.tap("#home")
    await k.home()

    # A notice in full, and the idle prompt over a keypad step.
    k.app.push_screen(NoticeScreen(NOTICE))
    await k.on("NoticeScreen")
    await walk.look()
    await k.tap("#back")
    await k.home()
    await k.tap("#tile-borrow")
    await k.tap("#choice-T-LADDER-1")
    await k.on("PhoneScreen")
    walk.clock.advance(k.app.ui.idle_timeout_s + 1)
    await k.on("StillThereScreen")
    await walk.look()
    walk.report()


async def test_storage_and_lost_found_walk(walk: Walk) -> None:
    """Store a bag or a phone, pick it up, hand in and claim a found item."""
    k = walk.kiosk
    # Storage: the menu, a bag's sizes, the phone's confirmation, the receipt with its code.
    await k.tap("#tile-storage")
    await k.on("StorageMenuScreen")
    await walk.look(choices=True)
    await k.tap("#choice-bag")
    await k.on("DepositSizeScreen")
    await walk.look(choices=True)
    await k.tap("#back")
    await k.tap("#choice-phone")
    await k.on("ChargeConfirmScreen")
    await walk.look()
    await k.tap("#confirm")
    await through_the_door(walk)
    await k.until(lambda: k.screen.query("#receipt-code"), what="the pickup code")
    code = k.screen.query_one("#receipt-code", Digits).value
    await receipt(walk)

    # Pick up: Home's tile, the code (a wrong one first), the door, the receipt.
    await k.tap("#tile-pickup")
    await k.on("PickupCodeScreen")
    await walk.look()
    await k.keypad("00000000" if code != "00000000" else "11111111")
    await k.on("ErrorScreen")
    await walk.look()
    await k.tap("#retry")
    await k.on("PickupCodeScreen")
    await k.keypad(code)
    await through_the_door(walk)
    await receipt(walk)

    # Hand in a found item: category, colour, place, the finder's phone, the door, the number.
    await k.tap("#tile-lost")
    await k.on("LostMenuScreen")
    await walk.look(choices=True)
    await k.tap("#choice-handin")
    await k.on("CategoryScreen")
    await walk.look(choices=True)
    await k.tap("#choice-keys")
    await k.on("ColourScreen")
    await walk.look(choices=True)
    await k.tap("#choice-black")
    await k.on("PlaceScreen")
    await walk.look(choices=True)
    await k.tap("#choice-place-0")
    await k.on("FinderPhoneScreen")
    await walk.look()
    await k.tap("#skip")
    await k.on("HandInConfirmScreen")
    await walk.look()
    await k.tap("#confirm")
    await through_the_door(walk)
    await receipt(walk)

    # Claim it: category, the list, the item, the phone, done.
    await k.tap("#tile-lost")
    await k.tap("#choice-find")
    await k.on("FindCategoryScreen")
    await walk.look(choices=True)
    await k.tap("#choice-keys")
    await k.on("FoundListScreen")
    await walk.look(choices=True)
    await k.tap(".choice")
    await k.on("FoundItemScreen")
    await walk.look()
    await k.tap("#claim")
    await k.on("ClaimPhoneScreen")
    await walk.look()
    await k.keypad(MEMBER_PHONE)
    await k.on("ClaimDoneScreen")
    await walk.look()
    await k.tap("#done")
    await k.home()

    walk.report()


NOTICE = {
    "id": "n-walk",
    "text": "本周六上午九点至十一点，社区卫生站在益站门口免费测血压，欢迎居民前来。",
    "text_en": "Free blood pressure checks by the community health centre at the station "
    "this Saturday, 9 to 11 am. All residents welcome.",
    "ends_at": None,
}


async def section(walk: Walk, name: str) -> None:
    """Open a console section as staff do at this size: on 13 rows through the menu that the
    back button shows."""
    k = walk.kiosk
    if k.screen.has_class("-tiny") and not k.screen.has_class("menu"):
        await k.tap("#back")
    await k.tap(f"#sec-{name}")
    await k.until(lambda: k.screen.query_one(f"#sec-{name}").has_class("selected"))
    await k.settled()


async def test_staff_walk(walk: Walk) -> None:
    """Login, the console's menu and every section, a door's actions and the confirmation,
    a reason, a locker to pick, a count to type, a claim's code."""
    k = walk.kiosk
    st = k.station
    st.sim.force_open(7)  # an alarm to see: door A07 pulled open without an unlock
    await seed_claim(st)
    await k.tap("#staff")
    await k.on("StaffNumberScreen")
    await walk.look()
    await k.keypad(STAFF_NO)
    await k.tap("#next")
    await k.on("StaffPinScreen")
    await k.keypad(STAFF_PIN)
    await k.tap("#next")
    await k.on("MaintenanceScreen")
    await k.until(lambda: k.screen.query(".door"), what="the door grid")
    await walk.look(pages=Pages(".door", "#doors-next", len(st.config.lockers)))
    await k.tap("#back")
    await k.until(lambda: k.screen.has_class("menu"), what="the sections menu")
    await walk.look()
    await k.tap("#sec-doors")
    await k.settled()

    await k.tap("#door-A03")
    await k.on("DoorActionScreen")
    await walk.look()
    await k.tap("#reason-inspect")
    await k.on("OpenDoorConfirmScreen")
    await walk.look()
    await k.tap("#cancel")
    await k.on("DoorActionScreen")
    await k.tap("#back")
    await k.on("MaintenanceScreen")

    await section(walk, "alarms")
    await walk.look()
    await section(walk, "tools")
    await walk.look(pages=Pages("#panel-tools .row-action", "#panel-tools .next", len(TOOLS)))
    await k.tap("#assign-T-DRILL-1")
    await k.on("LockerPickScreen")
    await walk.look(choices=True)
    await k.tap("#back")
    await k.on("MaintenanceScreen")

    await section(walk, "lost")
    await walk.look()
    await k.until(lambda: k.screen.query(".row-action"), what="the claim")
    await k.tap("#panel-lost .row-action.-primary")
    await k.on("CodeIssuedScreen")
    await walk.look()
    await k.tap("#done")
    await k.on("MaintenanceScreen")
    await k.tap("#lost-expired")
    await k.settled()
    await walk.look()

    await section(walk, "members")
    await walk.look()
    await k.tap("#member-register")
    await k.on("MemberPhoneScreen")
    await walk.look()
    await k.tap("#back")
    await k.on("MaintenanceScreen")

    await section(walk, "supplies")
    await walk.look(
        pages=Pages("#panel-supplies .-primary", "#panel-supplies .next", len(SUPPLIES))
    )
    await k.tap("#restock-huoxiang")
    await k.on("SupplyCountScreen")
    await walk.look()
    await k.tap("#back")
    await k.on("MaintenanceScreen")

    for name in ("storage", "sync", "selftest"):
        await section(walk, name)
        await walk.look()
    walk.report()


async def seed_claim(st: SimStation) -> None:
    """A found item handed in and claimed, through the API: a claim for staff to decide."""
    flow = await api_post(
        st, "/api/v1/found", {"category": "umbrellas", "colour": "black", "place": "公交站"},
        role="kiosk",
    )  # fmt: skip
    locker = flow["locker"]
    await wait_api(lambda: _door_is_open(st, locker), what=f"{locker} open")
    st.sim.close_door(int(locker[1:]))
    done = await wait_api(lambda: _completed(st, flow["id"]), what="the hand-in to complete")
    await api_post(
        st,
        f"/api/v1/found/{done['result']['number']}/claims",
        {"phone": MEMBER_PHONE, "description": "black, lost at the bus stop"},
        role="kiosk",
    )


async def _door_is_open(st: SimStation, locker: str) -> bool:
    return await door(st, locker) == "open"


async def _completed(st: SimStation, flow_id: str) -> dict[str, Any] | None:
    flow = await api_get(st, f"/api/v1/flows/{flow_id}", role="kiosk")
    return flow if flow["state"] == "completed" else None
