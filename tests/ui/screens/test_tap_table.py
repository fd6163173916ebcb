"""docs/ui.md's tap table, measured: each resident flow driven from Home on the real daemon,
counting the taps it takes to its open door (`Kiosk.taps`) and what the person types or
answers on the way (`Kiosk.entries`: keypad keys, and the answers a hand-in needs)."""

from __future__ import annotations

from textual.widgets import Digits

from tests.ui.kiosk import (
    MEMBER_PHONE,
    MEMBER_PIN,
    OTHER_PHONE,
    Kiosk,
    api_post,
    door,
    wait_api,
)

IDENTIFY = len(MEMBER_PHONE) + len(MEMBER_PIN)
"""Identification: 11 digits of the phone number and 6 of the PIN, nothing else."""
MOST_TAPS = 4
"""Every resident flow, from Home: at most 4 taps plus its entries."""


async def _at_open_door(kiosk: Kiosk) -> str:
    await kiosk.on("FlowScreen")
    locker = kiosk.screen.locker
    await wait_api(lambda: _is(kiosk, locker, "open"), what=f"{locker} open")
    return locker


async def _is(kiosk: Kiosk, locker: str, state: str) -> bool:
    return await door(kiosk.station, locker) == state


async def _close_and_finish(kiosk: Kiosk, locker: str) -> None:
    kiosk.station.sim.close_door(int(locker[1:]))
    await kiosk.until(lambda: kiosk.screen.query("#done"), what="the receipt")


async def test_borrow_is_3_taps_plus_identification_and_return_3_taps(kiosk: Kiosk) -> None:
    kiosk.count_taps()
    await kiosk.tap("#tile-borrow")
    await kiosk.tap("#choice-T-DRILL-1")
    await kiosk.identify()
    await kiosk.on("BorrowConfirmScreen")
    await kiosk.tap("#confirm")
    locker = await _at_open_door(kiosk)
    assert (kiosk.taps, kiosk.entries) == (3, IDENTIFY)
    await _close_and_finish(kiosk, locker)
    await kiosk.tap("#done")
    await kiosk.home()

    kiosk.count_taps()
    await kiosk.tap("#tile-return")
    await kiosk.tap("#choice-T-DRILL-1")
    await kiosk.tap("#confirm")
    await _at_open_door(kiosk)
    assert (kiosk.taps, kiosk.entries) == (3, 0)


async def test_pickup_is_1_tap_plus_the_code(kiosk: Kiosk) -> None:
    kiosk.count_taps()
    await kiosk.tap("#tile-storage")
    await kiosk.tap("#choice-bag")
    await kiosk.tap("#choice-size-S")
    locker = await _at_open_door(kiosk)
    assert (kiosk.taps, kiosk.entries) == (3, 0)  # a deposit: 3 taps, nothing typed
    kiosk.station.sim.close_door(int(locker[1:]))
    await kiosk.until(lambda: kiosk.screen.query("#receipt-code"), what="the code")
    code = kiosk.screen.query_one("#receipt-code", Digits).value
    await kiosk.sees("取件时点首页的「取件」，输入取件码。")  # the receipt says how
    await kiosk.tap("#done")
    await kiosk.home()

    kiosk.count_taps()
    await kiosk.tap("#tile-pickup")
    await kiosk.keypad(code)  # submitted with its last digit
    assert await _at_open_door(kiosk) == locker
    assert (kiosk.taps, kiosk.entries) == (1, len(code))


async def test_charging_a_phone_is_3_taps(kiosk: Kiosk) -> None:
    kiosk.count_taps()
    await kiosk.tap("#tile-storage")
    await kiosk.tap("#choice-phone")
    await kiosk.tap("#confirm")
    await _at_open_door(kiosk)
    assert (kiosk.taps, kiosk.entries) == (3, 0)


async def test_hand_in_is_4_taps_plus_what_colour_where_and_a_phone(kiosk: Kiosk) -> None:
    kiosk.count_taps()
    await kiosk.tap("#tile-lost")
    await kiosk.tap("#choice-handin")
    await kiosk.on("CategoryScreen")
    await kiosk.answer("#choice-keys")
    await kiosk.on("ColourScreen")
    assert kiosk.screen.query_one("#choice-red").has_class("swatch-red")  # swatches
    await kiosk.answer("#choice-black")
    await kiosk.on("PlaceScreen")
    await kiosk.answer("#choice-place-1")
    await kiosk.on("FinderPhoneScreen")
    await kiosk.tap("#skip")
    await kiosk.on("HandInConfirmScreen")
    await kiosk.tap("#confirm")
    await _at_open_door(kiosk)
    assert (kiosk.taps, kiosk.entries) == (MOST_TAPS, 3)


async def test_find_and_claim_is_4_taps_plus_what_and_a_phone(kiosk: Kiosk) -> None:
    st = kiosk.station
    flow = await api_post(
        st, "/api/v1/found", {"category": "keys", "colour": "black", "place": "公交站"}, "kiosk"
    )
    await wait_api(lambda: _is(kiosk, flow["locker"], "open"), what="hand-in door open")
    st.sim.close_door(int(flow["locker"][1:]))
    await wait_api(lambda: _is(kiosk, flow["locker"], "closed"), what="hand-in door closed")

    kiosk.count_taps()
    await kiosk.tap("#tile-lost")
    await kiosk.tap("#choice-find")
    await kiosk.on("FindCategoryScreen")
    await kiosk.answer("#choice-keys")
    await kiosk.on("FoundListScreen")
    await kiosk.until(lambda: kiosk.screen.query(".choice"), what="the found items")
    await kiosk.tap(".choice")
    await kiosk.on("FoundItemScreen")
    await kiosk.tap("#claim")
    await kiosk.on("ClaimPhoneScreen")
    await kiosk.keypad(OTHER_PHONE)  # goes on by itself
    await kiosk.on("ClaimDoneScreen")
    assert (kiosk.taps, kiosk.entries) == (MOST_TAPS, 1 + len(OTHER_PHONE))


async def test_a_tool_needing_approval_says_so_before_identification(kiosk: Kiosk) -> None:
    """4 taps plus identification for an approved borrower; without an approval the
    person learns it before typing anything."""
    st = kiosk.station
    await kiosk.tap("#tile-borrow")
    await kiosk.tap("#choice-T-SAW-1")
    await kiosk.on("ApprovalNoticeScreen")
    await kiosk.sees("需要工作人员批准")
    await kiosk.sees("还没有批准？请找站内工作人员")
    await kiosk.tap("#home")
    await kiosk.home()

    await api_post(st, "/api/v1/tools/T-SAW-1/approvals", {"phone": MEMBER_PHONE})
    kiosk.count_taps()
    await kiosk.tap("#tile-borrow")
    await kiosk.tap("#choice-T-SAW-1")
    await kiosk.tap("#approved")
    await kiosk.identify()
    await kiosk.on("BorrowConfirmScreen")
    await kiosk.tap("#confirm")
    await _at_open_door(kiosk)
    assert (kiosk.taps, kiosk.entries) == (MOST_TAPS, IDENTIFY)


async def test_the_loan_limit_is_said_right_after_identification(kiosk: Kiosk) -> None:
    st = kiosk.station
    for tool in ("T-DRILL-1", "T-LADDER-1"):  # the station's limit is 2
        await kiosk.tap("#tile-borrow")
        await kiosk.tap(f"#choice-{tool}")
        await kiosk.identify()
        await kiosk.tap("#confirm")
        locker = await _at_open_door(kiosk)
        await _close_and_finish(kiosk, locker)
        await kiosk.tap("#done")
        await kiosk.home()
    await api_post(st, "/api/v1/tools/T-SAW-1/approvals", {"phone": MEMBER_PHONE})
    await kiosk.tap("#tile-borrow")
    await kiosk.tap("#choice-T-SAW-1")
    await kiosk.tap("#approved")
    await kiosk.identify()
    await kiosk.on("ErrorScreen")  # not the confirmation: nothing more to tap in vain
    await kiosk.sees("借用数量已满")
    await kiosk.sees("您借的工具已达上限，请先归还一件。")
    assert "#retry" not in [f"#{b.id}" for b in kiosk.screen.query("Button")]
