"""Members at the maintenance screen, by taps at the panel's smallest grid, in both languages:
register (resident types phone and PIN twice, staff confirm), reset PIN, unbind, deactivate;
checked in the daemon's usage log with the staff actor."""

from __future__ import annotations

import pytest

from tests.simstation import SimStation
from tests.ui.kiosk import (
    HELP_PHONE,
    MEMBER_PHONE,
    STAFF_NO,
    FakeMonotonic,
    Kiosk,
    build_app,
    events,
)
from tests.ui.layout import problems
from tests.ui.test_maintenance import login

NEW_PHONE = "13700001234"
NEW_PIN = "604817"


async def members(kiosk: Kiosk, bad: list[str]) -> None:
    await kiosk.tap("#sec-members")
    await kiosk.until(lambda: kiosk.screen.query_one("#sec-members").has_class("selected"))
    await kiosk.settled()
    bad.extend(problems(kiosk))


async def step(kiosk: Kiosk, screen: str, bad: list[str]) -> None:
    await kiosk.on(screen)
    await kiosk.settled()
    bad.extend(problems(kiosk))


# The panel's largest grid. Every member screen is laid out at every grid and in both
# languages by test_member_screens_grids.py; this file follows the flows and their log.
SIZE = (85, 18)


@pytest.mark.parametrize("language", ["zh"])
async def test_register_reset_and_deactivate_a_member(station: SimStation, language: str) -> None:
    app = build_app(station, monotonic=FakeMonotonic(), language=language)
    bad: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        kiosk = Kiosk(app, pilot, station)
        await kiosk.home()
        await login(kiosk)
        await kiosk.on("MaintenanceScreen")
        await members(kiosk, bad)

        # Register: the resident types the number and a PIN twice; a mismatch starts the PIN over.
        await kiosk.tap("#member-register")
        await step(kiosk, "MemberPhoneScreen", bad)
        await kiosk.keypad(NEW_PHONE)
        await kiosk.tap("#next")
        await step(kiosk, "NewPinScreen", bad)
        await kiosk.keypad(NEW_PIN)
        await kiosk.tap("#next")
        await kiosk.until(lambda: kiosk.screen.query_one("#prompt").has_class("prompt"))
        await kiosk.keypad("604818")
        await kiosk.tap("#next")
        await step(kiosk, "ErrorScreen", bad)
        await kiosk.tap("#retry")
        await kiosk.on("NewPinScreen")
        await kiosk.keypad(NEW_PIN)
        await kiosk.tap("#next")
        await kiosk.keypad(NEW_PIN)
        await kiosk.tap("#next")
        await step(kiosk, "ConfirmRegisterScreen", bad)
        await kiosk.sees("137****1234")
        await kiosk.tap("#confirm")
        await step(kiosk, "DoneScreen", bad)
        await kiosk.sees("137****1234")
        await kiosk.tap("#done")
        await kiosk.on("MaintenanceScreen")

        # Reset the PIN of a known member.
        await kiosk.tap("#member-reset")
        await kiosk.on("MemberPhoneScreen")
        await kiosk.keypad(MEMBER_PHONE)
        await kiosk.tap("#next")
        await kiosk.on("NewPinScreen")
        await kiosk.keypad("385720")
        await kiosk.tap("#next")
        await kiosk.keypad("385720")
        await kiosk.tap("#next")
        await step(kiosk, "DoneScreen", bad)
        await kiosk.tap("#done")

        # The card screen of the new member; then deactivate them.
        await kiosk.tap("#member-card")
        await kiosk.on("MemberPhoneScreen")
        await kiosk.keypad(NEW_PHONE)
        await kiosk.tap("#next")
        await step(kiosk, "MemberCardScreen", bad)
        await kiosk.tap("#unbind")
        await kiosk.settled()
        await kiosk.tap("#back")
        await kiosk.on("MaintenanceScreen")
        await kiosk.tap("#member-deactivate")
        await kiosk.on("MemberPhoneScreen")
        await kiosk.keypad(NEW_PHONE)
        await kiosk.tap("#next")
        await step(kiosk, "DeactivateScreen", bad)
        await kiosk.tap("#deactivate")
        await step(kiosk, "DoneScreen", bad)
        await kiosk.tap("#done")
        await kiosk.on("MaintenanceScreen")

    assert not bad, "\n".join(bad)
    logged = await events(station, "member_registered", "member_pin_reset", "member_status_changed")
    assert [(e["type"], e["actor"]) for e in logged[-3:]] == [
        ("member_registered", f"staff:{STAFF_NO}"),
        ("member_pin_reset", f"staff:{STAFF_NO}"),
        ("member_status_changed", f"staff:{STAFF_NO}"),
    ]
    assert logged[-3]["payload"]["member"].endswith("/1234")


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_a_wrong_pin_says_how_to_get_an_account_or_a_new_pin(
    station: SimStation, language: str
) -> None:
    app = build_app(station, monotonic=FakeMonotonic(), language=language)
    async with app.run_test(size=SIZE) as pilot:
        kiosk = Kiosk(app, pilot, station)
        await kiosk.home()
        await kiosk.tap("#tile-borrow")
        await kiosk.on("BorrowToolsScreen")
        for phone in (MEMBER_PHONE, "13600009999"):  # a member, and a number nobody has
            await kiosk.tap("#choice-T-LADDER-1")
            await kiosk.identify(phone, "111222")
            await kiosk.on("ErrorScreen")
            texts = kiosk.text
            assert HELP_PHONE in texts
            assert ("工作人员" if language == "zh" else "ask staff") in texts.lower()
            if phone == MEMBER_PHONE:
                first = texts
            else:
                assert texts == first  # the same answer: nothing tells who is registered
            await kiosk.tap("#retry")
            await kiosk.tap("#back")
            await kiosk.tap("#back")
            await kiosk.on("BorrowToolsScreen")
