"""At the touchscreen, against the real daemon with the pty card reader: a member claims a
found item by presenting their card (no phone typed), and a member imported at the office with
a first PIN must choose their own (twice) before anything else works. The new screens are
checked with `problems()` at every grid, in both languages."""

from __future__ import annotations

from pathlib import Path

import pytest

from station.people.cards import CardOwner
from tests.ui.kiosk import (
    MEMBER_PHONE,
    MEMBER_PIN,
    OTHER_PHONE,
    FakeMonotonic,
    Kiosk,
    api_get,
    api_post,
    build_app,
    door,
    events,
    wait_api,
)
from tests.ui.layout import at_every_grid, look
from tests.ui.reader import present, reader_station
from ui.widgets.keypad import Keypad

CARD = "0012345678"
NEW_PIN = "604817"
WALK = (66, 13)


async def found_keys(st) -> str:
    """Keys handed in through a real door (the finder closes it); the item's number."""
    flow = await api_post(
        st, "/api/v1/found", {"category": "keys", "colour": "black", "place": "公交站"}, "kiosk"
    )
    locker = flow["locker"]

    async def opened() -> bool:
        return await door(st, locker) == "open"

    await wait_api(opened, what=f"{locker} open")
    st.sim.close_door(int(locker[1:]))

    async def listed() -> list:
        return await api_get(st, "/api/v1/found", role="kiosk")

    return (await wait_api(listed, what="the item listed"))[0]["number"]


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_a_card_claims_a_found_item(tmp_path: Path, language: str) -> None:
    bad: list[str] = []
    async with reader_station(tmp_path) as (st, sim):
        services = st.daemon.station.services
        member = await services.members.lookup(MEMBER_PHONE)
        await services.members.cards.bind(CARD, CardOwner("member", member.id), member.label, "cli")
        number = await found_keys(st)
        app = build_app(st, monotonic=FakeMonotonic(), language=language)
        async with app.run_test(size=WALK) as pilot:
            kiosk = Kiosk(app, pilot, st)
            await kiosk.home()
            await kiosk.tap("#tile-lost")
            await kiosk.tap("#choice-find")
            await kiosk.tap("#choice-all")
            await kiosk.tap(f"#choice-{number}")
            await kiosk.tap("#claim")
            await kiosk.on("ClaimPhoneScreen")
            await kiosk.sees("请刷卡" if language == "zh" else "Present your card")
            await at_every_grid(kiosk, bad)
            await present(st, sim, CARD)
            await look(kiosk, "ClaimDoneScreen", bad)
            await kiosk.sees("138****5678")
        claims = await api_get(st, "/api/v1/claims")
        submitted = await events(st, "claim_submitted")
    assert not bad, "\n".join(dict.fromkeys(bad))
    assert [(c["item"], c["claimant"]) for c in claims] == [(number, "138****5678")]
    assert submitted[-1]["actor"] == member.label


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_a_first_pin_from_the_office_is_changed_before_anything_else(
    tmp_path: Path, language: str
) -> None:
    bad: list[str] = []
    async with reader_station(tmp_path) as (st, _):
        services = st.daemon.station.services
        member = await services.members.lookup(OTHER_PHONE)
        # What the office's import with `--first-pins` leaves at the station (the import and
        # its bundle are tested end to end in tests/central/test_members_import.py).
        await services.store.write(
            lambda tx: tx.conn.execute(
                "UPDATE members SET pin_state = 'must_change' WHERE id = ?", (member.id,)
            )
        )
        app = build_app(st, monotonic=FakeMonotonic(), language=language)
        async with app.run_test(size=WALK) as pilot:
            kiosk = Kiosk(app, pilot, st)
            await kiosk.home()
            await kiosk.tap("#tile-borrow")
            await kiosk.tap("#choice-T-DRILL-1")
            await kiosk.identify(OTHER_PHONE, MEMBER_PIN)

            # New PIN twice (a mismatch starts over), then identify again with it.
            await look(kiosk, "FirstPinScreen", bad)
            await kiosk.keypad(NEW_PIN)
            await kiosk.tap("#next")
            await kiosk.until(lambda: kiosk.screen.first == NEW_PIN)
            await kiosk.keypad("604818")
            await kiosk.tap("#next")
            await kiosk.on("ErrorScreen")
            await kiosk.tap("#retry")
            for _ in range(2):
                await kiosk.on("FirstPinScreen")
                await kiosk.keypad(NEW_PIN)
                await kiosk.tap("#next")
            await look(kiosk, "FirstPinDoneScreen", bad)
            await kiosk.tap("#next")
            await kiosk.on("PhoneScreen")
            if kiosk.screen.query_one(Keypad).is_complete:
                await kiosk.tap("#next")  # the number is still there: Next takes it on
            else:
                await kiosk.keypad(OTHER_PHONE)  # goes on by itself
            await kiosk.on("PinScreen")
            await kiosk.keypad(NEW_PIN)
            await kiosk.on("BorrowConfirmScreen")
            await kiosk.sees("139****4321")
        after = await services.members.get(member.id)
        changed = await events(st, "member_pin_reset")
    assert not bad, "\n".join(dict.fromkeys(bad))
    assert after.pin_state == "set"
    assert changed[-1]["actor"] == member.label  # the member chose it, nobody else
