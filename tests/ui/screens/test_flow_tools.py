"""Borrowing and returning tools by taps only, checked on screen and in the daemon."""

from __future__ import annotations

from tests.ui.kiosk import (
    MEMBER_PHONE,
    MEMBER_PIN,
    Kiosk,
    api_get,
    door,
    events,
    wait_api,
)


async def borrow_drill_until_door(kiosk: Kiosk) -> None:
    await kiosk.tap("#tile-borrow")
    await kiosk.on("BorrowToolsScreen")
    await kiosk.sees("电钻")
    await kiosk.tap("#choice-T-DRILL-1")
    await kiosk.identify()
    await kiosk.on("BorrowConfirmScreen")
    await kiosk.sees("借用人：138****5678")
    await kiosk.tap("#confirm")
    await kiosk.on("FlowScreen")


async def test_borrow_a_tool(kiosk: Kiosk) -> None:
    st = kiosk.station
    await borrow_drill_until_door(kiosk)
    await kiosk.sees("柜门 A03 已打开")
    await kiosk.sees("请取出工具，然后关好柜门")
    await kiosk.sees("柜门 A03：开着")
    assert await door(st, "A03") == "open"

    st.sim.close_door(3)
    await kiosk.sees("借用成功")
    assert "请于" in kiosk.text and "前归还" in kiosk.text
    assert await door(st, "A03") == "closed"

    loans = await api_get(st, "/api/v1/loans", open="true")
    assert [(loan["tool_id"], loan["member"]) for loan in loans] == [("T-DRILL-1", "138****5678")]
    unlock = (await events(st, "door_unlocked"))[-1]
    assert unlock["locker"] == "A03"
    assert unlock["actor"].startswith("member:") and unlock["actor"].endswith("/5678")
    assert MEMBER_PHONE not in str(await events(st))

    await kiosk.tap("#done")
    await kiosk.home()
    assert kiosk.app.member is None


async def test_the_phone_is_masked_once_entered_and_the_pin_never_shown(kiosk: Kiosk) -> None:
    await kiosk.tap("#tile-borrow")
    await kiosk.tap("#choice-T-DRILL-1")
    await kiosk.on("PhoneScreen")
    await kiosk.keypad(MEMBER_PHONE[:7])
    assert "138 1234" in kiosk.text
    await kiosk.keypad(MEMBER_PHONE[7:])  # the 11th digit goes on by itself
    await kiosk.on("PinScreen")
    assert MEMBER_PHONE not in kiosk.text
    await kiosk.keypad(MEMBER_PIN[:4])
    assert "● ● ● ● ○ ○" in kiosk.text
    for digit in set(MEMBER_PIN):
        assert digit not in kiosk.screen.query_one("#keypad-display").content.plain
    await kiosk.tap("#key-del")
    assert "● ● ● ○ ○ ○" in kiosk.text
    await kiosk.tap("#key-clear")
    assert "○ ○ ○ ○ ○ ○" in kiosk.text


async def test_back_on_every_step_returns_to_the_step_before(kiosk: Kiosk) -> None:
    await kiosk.tap("#tile-borrow")
    await kiosk.tap("#choice-T-DRILL-1")
    await kiosk.identify()
    await kiosk.on("BorrowConfirmScreen")
    await kiosk.tap("#back")
    await kiosk.on("BorrowToolsScreen")
    # Still identified: choosing again goes straight to the confirmation.
    await kiosk.tap("#choice-T-LADDER-1")
    await kiosk.on("BorrowConfirmScreen")
    await kiosk.sees("梯子")
    await kiosk.tap("#back")
    await kiosk.tap("#back")
    await kiosk.home()
    assert kiosk.app.member is None


async def test_wrong_pin_says_how_many_tries_are_left_then_works(kiosk: Kiosk) -> None:
    await kiosk.tap("#tile-borrow")
    await kiosk.tap("#choice-T-DRILL-1")
    await kiosk.identify(pin="111333")
    await kiosk.on("ErrorScreen")
    await kiosk.sees("密码不正确")
    await kiosk.sees("还可以再试 4 次。")
    await kiosk.tap("#retry")
    await kiosk.on("PinScreen")
    assert "○ ○ ○ ○ ○ ○" in kiosk.text
    await kiosk.keypad(MEMBER_PIN)
    await kiosk.on("BorrowConfirmScreen")


async def test_five_wrong_pins_lock_the_member_out_until_a_time(kiosk: Kiosk) -> None:
    await kiosk.tap("#tile-borrow")
    await kiosk.tap("#choice-T-DRILL-1")
    await kiosk.identify(pin="111333")
    for _ in range(4):
        await kiosk.on("ErrorScreen")
        await kiosk.tap("#retry")
        await kiosk.on("PinScreen")
        await kiosk.keypad("111333")
    await kiosk.on("ErrorScreen")
    await kiosk.sees("暂时锁定")
    await kiosk.sees("密码错误次数过多，请于")
    assert "#retry" not in [f"#{b.id}" for b in kiosk.screen.query("Button")]
    alarms = await api_get(kiosk.station, "/api/v1/alarms")
    assert "pin_lockout" in [a["type"] for a in alarms]
    await kiosk.tap("#home")
    await kiosk.home()


async def test_a_jammed_door_cancels_the_loan_and_says_what_to_do(kiosk: Kiosk) -> None:
    st = kiosk.station
    st.sim.set_jammed(3)
    await borrow_drill_until_door(kiosk)
    await kiosk.on("ErrorScreen", within=20)
    await kiosk.sees("柜门没有打开")
    # the borrower cannot choose doors: what they can do is choose another tool or call
    await kiosk.sees("这件工具暂时取不出，没有算您借用。请选择其他工具，或致电")
    assert "换一个柜门" not in kiosk.text
    assert "#retry" not in [f"#{b.id}" for b in kiosk.screen.query("Button")]
    assert await api_get(st, "/api/v1/loans", open="true") == []
    tool = await api_get(st, "/api/v1/tools/T-DRILL-1", role="kiosk")
    assert tool["status"] == "available"
    alarms = await wait_api(
        lambda: _alarm(st, "door_jammed"), what="the door_jammed alarm for staff"
    )
    assert alarms["subject"] == "A03"
    # The tool grid now shows the drill disabled, with why.
    await kiosk.tap("#home")
    await kiosk.home()
    await kiosk.tap("#tile-borrow")
    await kiosk.sees("柜门暂停使用")
    assert kiosk.screen.query_one("#choice-T-DRILL-1").disabled


async def _alarm(st, kind: str):
    for alarm in await api_get(st, "/api/v1/alarms"):
        if alarm["type"] == kind:
            return alarm
    return None


async def test_unavailable_tools_are_shown_disabled_with_why(kiosk: Kiosk) -> None:
    st = kiosk.station
    await kiosk.tap("#tile-borrow")
    await kiosk.sees("需工作人员批准")
    st.sim.set_silent(True)  # the lock board stops answering
    await kiosk.until(
        lambda: kiosk.screen.query_one("#choice-T-LADDER-1").disabled, what="offline greyed"
    )
    await kiosk.sees("柜门暂停使用")
    st.sim.set_silent(False)
    await kiosk.until(
        lambda: not kiosk.screen.query_one("#choice-T-LADDER-1").disabled, what="back online"
    )


async def test_return_a_tool_that_needs_repair(kiosk: Kiosk) -> None:
    st = kiosk.station
    await borrow_drill_until_door(kiosk)
    st.sim.close_door(3)
    await kiosk.sees("借用成功")
    await kiosk.tap("#done")
    await kiosk.home()

    await kiosk.tap("#tile-return")
    await kiosk.on("ReturnToolsScreen")
    await kiosk.sees("电钻")
    await kiosk.tap("#choice-T-DRILL-1")
    await kiosk.on("ReturnConfirmScreen")
    await kiosk.sees("请把工具放回 A03 号柜")
    await kiosk.tap("#confirm")
    await kiosk.on("FlowScreen")
    await kiosk.sees("请放入工具，然后关好柜门")
    await wait_api(lambda: _is(door(st, "A03"), "open"), what="A03 open")
    st.sim.close_door(3)
    await kiosk.sees("工具还好用吗？")
    await kiosk.tap("#answer-needs_repair")
    await kiosk.sees("归还成功，谢谢！")
    await kiosk.sees("已通知工作人员检修。")
    tool = await api_get(st, "/api/v1/tools/T-DRILL-1", role="kiosk")
    assert tool["status"] == "maintenance"
    assert await api_get(st, "/api/v1/loans", open="true") == []
    await kiosk.tap("#done")
    await kiosk.home()


async def _is(value, expected) -> bool:
    return (await value) == expected
