"""Every member and staff-badge screen of the maintenance screen, at every panel grid and the
desktop sizes, in both languages, walked by taps against the real daemon with the pty card
reader: register (a mismatched PIN included), bind and unbind a card, reset a PIN,
deactivate, bind a staff badge. Each screen is checked with `problems()` (tests/ui/layout.py):
nothing off the screen, covered, too small to tap or cut."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.kiosk import MEMBER_PHONE, STAFF_NO, FakeMonotonic, Kiosk, build_app, events
from tests.ui.layout import look
from tests.ui.reader import present, reader_station
from tests.ui.test_maintenance import login

PIN = "604817"


WALK = (66, 13)
"""The walk's taps happen on the smallest panel; each screen is also laid out at every grid."""
PHONE = "13700001234"


async def members_panel(kiosk: Kiosk, bad: list[str] | None = None) -> None:
    await kiosk.home()
    await login(kiosk)
    await kiosk.on("MaintenanceScreen")
    await kiosk.tap("#back")  # on the 13-row panels the sections are a menu of their own
    await kiosk.tap("#sec-members")
    await kiosk.until(lambda: kiosk.screen.query_one("#sec-members").has_class("selected"))
    if bad is not None:
        await look(kiosk, "MaintenanceScreen", bad)


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_register_and_card_screens_fit_every_grid(tmp_path: Path, language: str) -> None:
    bad: list[str] = []
    async with reader_station(tmp_path) as (st, sim):
        app = build_app(st, monotonic=FakeMonotonic(), language=language)
        async with app.run_test(size=WALK) as pilot:
            kiosk = Kiosk(app, pilot, st)
            await members_panel(kiosk, bad)

            # Register, with a mismatched second PIN first; then bind and unbind a card.
            await kiosk.tap("#member-register")
            await look(kiosk, "MemberPhoneScreen", bad)
            await kiosk.keypad(PHONE)
            await kiosk.tap("#next")
            await look(kiosk, "NewPinScreen", bad)
            await kiosk.keypad(PIN)
            await kiosk.tap("#next")
            await kiosk.until(lambda: kiosk.screen.first == PIN)
            await kiosk.keypad("604818")
            await kiosk.tap("#next")
            await look(kiosk, "ErrorScreen", bad)
            await kiosk.tap("#retry")
            for _ in range(2):
                await kiosk.on("NewPinScreen")
                await kiosk.keypad(PIN)
                await kiosk.tap("#next")
            await look(kiosk, "ConfirmRegisterScreen", bad)
            await kiosk.tap("#confirm")
            await look(kiosk, "DoneScreen", bad)
            await kiosk.tap("#bind")
            await look(kiosk, "MemberCardScreen", bad)
            await kiosk.tap("#bind")
            await look(kiosk, "PresentCardScreen", bad)
            await present(st, sim, "CARD-0012345678")
            await kiosk.on("MemberCardScreen")
            await kiosk.until(lambda: kiosk.screen.member.get("cards") == 1)
            await kiosk.tap("#unbind")
            await kiosk.until(lambda: kiosk.screen.member.get("cards") == 0)
            await kiosk.tap("#back")
            await kiosk.on("MaintenanceScreen")

        logged = await events(st, "member_registered", "card_bound", "card_unbound")
    assert not bad, "\n".join(dict.fromkeys(bad))
    assert [(e["type"], e["actor"]) for e in logged[-3:]] == [
        ("member_registered", f"staff:{STAFF_NO}"),
        ("card_bound", f"staff:{STAFF_NO}"),
        ("card_unbound", f"staff:{STAFF_NO}"),
    ]


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_reset_deactivate_and_badge_screens_fit_every_grid(
    tmp_path: Path, language: str
) -> None:
    bad: list[str] = []
    async with reader_station(tmp_path) as (st, sim):
        app = build_app(st, monotonic=FakeMonotonic(), language=language)
        async with app.run_test(size=WALK) as pilot:
            kiosk = Kiosk(app, pilot, st)
            await members_panel(kiosk)

            # Reset the PIN of a member, then deactivate them.
            await kiosk.tap("#member-reset")
            await kiosk.on("MemberPhoneScreen")
            await kiosk.keypad(MEMBER_PHONE)
            await kiosk.tap("#next")
            for _ in range(2):
                await look(kiosk, "NewPinScreen", bad)
                await kiosk.keypad("385720")
                await kiosk.tap("#next")
            await look(kiosk, "DoneScreen", bad)
            await kiosk.tap("#done")
            await kiosk.on("MaintenanceScreen")
            await kiosk.tap("#member-deactivate")
            await kiosk.on("MemberPhoneScreen")
            await kiosk.keypad(MEMBER_PHONE)
            await kiosk.tap("#next")
            await look(kiosk, "DeactivateScreen", bad)
            await kiosk.tap("#deactivate")
            await kiosk.on("DoneScreen")
            await kiosk.tap("#done")

            # A staff badge: the number, the badge screen, present it, then remove it.
            await kiosk.on("MaintenanceScreen")
            await kiosk.tap("#member-badge")
            await look(kiosk, "BadgeNumberScreen", bad)
            await kiosk.keypad(STAFF_NO)
            await kiosk.tap("#next")
            await look(kiosk, "BadgeScreen", bad)
            await kiosk.tap("#bind")
            await look(kiosk, "PresentCardScreen", bad)
            await present(st, sim, "BADGE-Mq7-xT42")
            await kiosk.on("BadgeScreen")
            await kiosk.until(lambda: kiosk.screen.badge.get("cards") == 1)
            await kiosk.tap("#unbind")
            await kiosk.until(lambda: kiosk.screen.badge.get("cards") == 0)
            await kiosk.tap("#back")
            await kiosk.on("MaintenanceScreen")

        logged = await events(
            st, "member_pin_reset", "member_status_changed", "card_bound", "card_unbound"
        )
    assert not bad, "\n".join(dict.fromkeys(bad))
    assert [(e["type"], e["actor"]) for e in logged] == [
        ("member_pin_reset", f"staff:{STAFF_NO}"),
        ("member_status_changed", f"staff:{STAFF_NO}"),
        ("card_bound", f"staff:{STAFF_NO}"),
        ("card_unbound", f"staff:{STAFF_NO}"),
    ]
    assert logged[2]["payload"]["owner"] == f"staff:{STAFF_NO}"
