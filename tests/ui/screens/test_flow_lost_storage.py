"""Lost and found, storage and pickups by taps only, checked on screen and in the daemon."""

from __future__ import annotations

from textual.widgets import Digits

from tests.ui.kiosk import (
    OTHER_PHONE,
    Kiosk,
    api_get,
    api_post,
    door,
    events,
    wait_api,
)


async def _door_is(st, locker: str, state: str) -> bool:
    return await door(st, locker) == state


async def hand_in_keys(kiosk: Kiosk, phone: str | None = None) -> str:
    """Hand in a black key found at the bus stop; returns the item number on the receipt."""
    st = kiosk.station
    await kiosk.tap("#tile-lost")
    await kiosk.on("LostMenuScreen")
    await kiosk.tap("#choice-handin")
    await kiosk.on("CategoryScreen")
    await kiosk.sees("钥匙")
    await kiosk.tap("#choice-keys")
    await kiosk.on("ColourScreen")
    await kiosk.tap("#choice-black")
    await kiosk.on("PlaceScreen")
    await kiosk.sees("公交站")
    await kiosk.tap("#choice-place-1")
    await kiosk.on("FinderPhoneScreen")
    if phone:
        await kiosk.keypad(phone)  # goes on by itself with the 11th digit
    else:
        await kiosk.tap("#skip")
    await kiosk.on("HandInConfirmScreen")
    await kiosk.sees("物品：钥匙")
    await kiosk.sees("颜色：黑色")
    await kiosk.sees("地点：公交站")
    await kiosk.sees("您的电话：139****4321" if phone else "未留电话")
    await kiosk.tap("#confirm")
    await kiosk.on("FlowScreen")
    await kiosk.sees("请放入物品，然后关好柜门")
    locker = kiosk.screen.flow["locker"]
    await wait_api(lambda: _door_is(st, locker, "open"), what=f"{locker} open")
    st.sim.close_door(int(locker[1:]))
    await kiosk.sees("谢谢您交还失物！")
    number = kiosk.screen.query_one("#receipt-number", Digits).value
    await kiosk.tap("#done")
    await kiosk.home()
    return number


async def test_hand_in_a_found_item(kiosk: Kiosk) -> None:
    st = kiosk.station
    number = await hand_in_keys(kiosk, phone=OTHER_PHONE)
    record = await api_get(st, f"/api/v1/found/{number}/record")
    assert (record["category"], record["colour"], record["place"]) == ("keys", "black", "公交站")
    assert record["locker"] in ("A11", "A12", "A13")
    assert record["finder"] == "139****4321"
    registered = [e for e in await events(st) if e["type"].startswith("found")]
    assert registered and OTHER_PHONE not in str(registered)


async def test_find_and_claim_then_pick_up_with_the_code(kiosk: Kiosk) -> None:
    st = kiosk.station
    number = await hand_in_keys(kiosk)

    await kiosk.tap("#tile-lost")
    await kiosk.tap("#choice-find")
    await kiosk.on("FindCategoryScreen")
    await kiosk.tap("#choice-all")
    await kiosk.on("FoundListScreen")
    await kiosk.sees(f"{number} · 钥匙 · 黑色")
    await kiosk.tap(f"#choice-{number}")
    await kiosk.on("FoundItemScreen")
    await kiosk.tap("#claim")
    await kiosk.on("ClaimPhoneScreen")
    await kiosk.keypad(OTHER_PHONE)
    await kiosk.on("ClaimDoneScreen")
    await kiosk.sees("认领申请已提交")
    await kiosk.sees("工作人员核实后会联系 139****4321。")
    await kiosk.tap("#done")
    await kiosk.home()

    claims = await api_get(st, "/api/v1/claims")
    assert [(c["item"], c["claimant"], c["status"]) for c in claims] == [
        (number, "139****4321", "pending")
    ]
    approved = await api_post(st, f"/api/v1/claims/{claims[0]['id']}/approve", {"note": "ok"})
    code, locker = approved["code"], approved["locker"]

    await kiosk.tap("#tile-pickup")  # a claim's code is picked up like a deposit's
    await kiosk.on("PickupCodeScreen")
    await kiosk.keypad(code)
    await kiosk.on("FlowScreen")
    assert kiosk.screen.locker == locker
    await kiosk.sees("请取出物品，然后关好柜门")
    await wait_api(lambda: _door_is(st, locker, "open"), what=f"{locker} open")
    st.sim.close_door(int(locker[1:]))
    await kiosk.sees("取件完成，谢谢！")
    claims = await api_get(st, "/api/v1/claims", status="picked_up")
    assert [c["item"] for c in claims] == [number]


async def test_a_claim_of_an_already_approved_item_is_refused(kiosk: Kiosk) -> None:
    st = kiosk.station
    number = await hand_in_keys(kiosk)
    from tests.ui.kiosk import MEMBER_PHONE

    claim = await api_post(
        st,
        f"/api/v1/found/{number}/claims",
        {"phone": MEMBER_PHONE, "description": "mine"},
        role="kiosk",
    )
    await api_post(st, f"/api/v1/claims/{claim['id']}/approve", {"note": "ok"})
    # The item stays listed only while held; an approved one is gone from the public list.
    await kiosk.tap("#tile-lost")
    await kiosk.tap("#choice-find")
    await kiosk.tap("#choice-all")
    await kiosk.on("FoundListScreen")
    await kiosk.sees("暂时没有这类失物")


async def test_deposit_a_bag_and_pick_it_up_with_the_code(kiosk: Kiosk) -> None:
    st = kiosk.station
    await kiosk.tap("#tile-storage")
    await kiosk.on("StorageMenuScreen")
    await kiosk.tap("#choice-bag")
    await kiosk.on("DepositSizeScreen")
    # this station has only S lockers: no M or L is offered (nor called full)
    assert [b.id for b in kiosk.screen.query(".choice")] == ["choice-size-S"]
    assert "已满" not in kiosk.text
    await kiosk.tap("#choice-size-S")
    await kiosk.on("FlowScreen")
    locker = kiosk.screen.flow["locker"]
    await kiosk.sees(f"柜门 {locker} 已打开")
    st.sim.close_door(int(locker[1:]))
    await kiosk.sees(f"已寄存在 {locker} 号柜")
    code = kiosk.screen.query_one("#receipt-code", Digits).value
    assert len(code) == 8 and code.isdigit()
    await kiosk.sees("请在")
    await kiosk.tap("#done")
    await kiosk.home()

    await kiosk.tap("#tile-pickup")
    await kiosk.on("PickupCodeScreen")
    await kiosk.keypad("00000000" if code != "00000000" else "11111111")
    await kiosk.on("ErrorScreen")
    await kiosk.sees("取件码不正确，还可以再试 4 次。")
    await kiosk.tap("#retry")
    await kiosk.on("PickupCodeScreen")
    await kiosk.keypad(code)
    await kiosk.on("FlowScreen")
    assert kiosk.screen.locker == locker
    await wait_api(lambda: _door_is(st, locker, "open"), what=f"{locker} open")
    st.sim.close_door(int(locker[1:]))
    await kiosk.sees("取件完成，谢谢！")
    deposits = await api_get(st, "/api/v1/deposits")
    assert [(d["locker"], d["status"]) for d in deposits] == [(locker, "collected")]


async def test_charge_a_phone(kiosk: Kiosk) -> None:
    st = kiosk.station
    await kiosk.tap("#tile-storage")
    await kiosk.tap("#choice-phone")
    await kiosk.on("ChargeConfirmScreen")
    await kiosk.sees("柜门打开后，请把手机接上柜内的充电线。")
    await kiosk.tap("#confirm")
    await kiosk.on("FlowScreen")
    locker = kiosk.screen.flow["locker"]
    await wait_api(lambda: _door_is(st, locker, "open"), what=f"{locker} open")
    st.sim.close_door(int(locker[1:]))
    await kiosk.sees("您的取件码：")
    deposits = await api_get(st, "/api/v1/deposits")
    assert [(d["kind"], d["status"], d["depositor"]) for d in deposits] == [
        ("phone_charge", "active", "walk-in")
    ]


async def test_no_free_locker_is_said_plainly(kiosk: Kiosk) -> None:
    st = kiosk.station
    for _ in range(3):
        flow = await api_post(st, "/api/v1/deposits", {"kind": "bag"}, role="kiosk")
        await wait_api(lambda f=flow: _door_is(st, f["locker"], "open"), what="door open")
        st.sim.close_door(int(flow["locker"][1:]))
        await wait_api(lambda f=flow: _door_is(st, f["locker"], "closed"), what="door closed")
    await kiosk.tap("#tile-storage")
    await kiosk.tap("#choice-phone")
    await kiosk.tap("#confirm")
    await kiosk.on("ErrorScreen")
    await kiosk.sees("暂无空柜")
    await kiosk.sees("现在没有空闲的柜子，请稍后再试或致电 0755-12345678。")
