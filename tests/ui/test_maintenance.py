"""The staff maintenance screen by taps only: login, doors, alarms, tools, lost items,
supplies, storage and the hardware self-test, checked on screen and in the daemon."""

from __future__ import annotations

import asyncio

from tests.ui.kiosk import (
    MEMBER_PHONE,
    STAFF_NO,
    STAFF_PIN,
    Kiosk,
    api_get,
    api_post,
    door,
    events,
    wait_api,
)


async def login(kiosk: Kiosk, pin: str = STAFF_PIN) -> None:
    await kiosk.tap("#staff")
    await kiosk.on("StaffNumberScreen")
    await kiosk.keypad(STAFF_NO)
    await kiosk.tap("#next")
    await kiosk.on("StaffPinScreen")
    await kiosk.keypad(pin)
    await kiosk.tap("#next")


async def staff_at(kiosk: Kiosk, name: str) -> None:
    """Log in as staff and open a section of the maintenance screen."""
    await login(kiosk)
    await kiosk.on("MaintenanceScreen")
    await section(kiosk, name)


async def section(kiosk: Kiosk, name: str) -> None:
    await kiosk.tap(f"#sec-{name}")
    await kiosk.until(lambda: kiosk.screen.query_one(f"#sec-{name}").has_class("selected"))
    await kiosk.settled()


async def _door_is(st, locker: str, state: str) -> bool:
    return await door(st, locker) == state


async def test_staff_open_a_door_with_a_reason_and_watch_it(kiosk: Kiosk) -> None:
    st = kiosk.station
    await login(kiosk)
    await kiosk.on("MaintenanceScreen")
    await kiosk.sees("维护 · 王师傅")
    await kiosk.sees("A03 关着\n电钻")
    await kiosk.sees("A05 关着\n空")
    await kiosk.tap("#door-A05")
    await kiosk.on("DoorActionScreen")
    await kiosk.tap("#reason-inspect")
    await kiosk.on("OpenDoorConfirmScreen")
    await kiosk.sees("打开 A05 号柜门？")
    await kiosk.sees("原因：检查 · 柜内：空")
    assert not st.sim.is_open(5), "no door opens before 确认"
    await kiosk.tap("#cancel")
    await kiosk.on("DoorActionScreen")
    assert not st.sim.is_open(5)
    await kiosk.tap("#reason-inspect")
    await kiosk.on("OpenDoorConfirmScreen")
    await kiosk.tap("#confirm")
    await kiosk.on("MaintenanceScreen")
    await kiosk.sees("A05 开着")
    assert await door(st, "A05") == "open"
    unlock = (await events(st, "door_unlocked"))[-1]
    assert (unlock["locker"], unlock["actor"]) == ("A05", f"staff:{STAFF_NO}")
    assert "inspect" in unlock["payload"]["reason"]
    st.sim.close_door(5)
    await kiosk.sees("A05 关着")
    await kiosk.tap("#back")
    await kiosk.home()
    assert kiosk.app.staff is None


async def test_a_wrong_staff_pin_is_refused(kiosk: Kiosk) -> None:
    await login(kiosk, pin="111333")
    await kiosk.on("ErrorScreen")
    await kiosk.sees("密码不正确")
    await kiosk.tap("#retry")
    await kiosk.on("StaffPinScreen")


async def test_acknowledge_an_alarm(kiosk: Kiosk) -> None:
    st = kiosk.station
    st.sim.force_open(7)  # someone pulls door A07 open without an unlock
    alarm = await wait_api(lambda: _raised(st, "forced_open"), what="forced_open alarm")
    await login(kiosk)
    await kiosk.on("MaintenanceScreen")
    await kiosk.sees("⚠ A07 开着")
    await section(kiosk, "alarms")
    await kiosk.sees("柜门被强行打开 · A07 号柜门")
    await kiosk.tap(f"#ack-{alarm['id']}")
    await kiosk.sees("已确认")
    acked = [a for a in await api_get(st, "/api/v1/alarms") if a["type"] == "forced_open"]
    assert [(a["subject"], a["state"], a["acked_by"]) for a in acked] == [
        ("A07", "acknowledged", f"staff:{STAFF_NO}")
    ]


async def _raised(st, kind: str):
    for alarm in await api_get(st, "/api/v1/alarms"):
        if alarm["type"] == kind and alarm["state"] == "raised":
            return alarm
    return None


async def test_release_a_tool_from_maintenance_and_assign_another(kiosk: Kiosk) -> None:
    st = kiosk.station
    await api_post(st, "/api/v1/tools/T-LADDER-1/missing", {"reason": "not in locker"})
    await login(kiosk)
    await kiosk.on("MaintenanceScreen")
    await section(kiosk, "tools")
    await kiosk.sees("梯子 · A01 · 暂缺")
    await kiosk.tap("#restock-T-LADDER-1")
    await kiosk.sees("梯子 · A01 · 可借")
    assert (await api_get(st, "/api/v1/tools/T-LADDER-1"))["status"] == "available"

    await kiosk.tap("#assign-T-DRILL-1")
    await kiosk.on("LockerPickScreen")
    await kiosk.tap("#choice-A09")
    await kiosk.on("MaintenanceScreen")
    await kiosk.sees("电钻 · A09 · 可借")
    assert (await api_get(st, "/api/v1/tools/T-DRILL-1"))["locker"] == "A09"


async def test_approve_and_reject_claims_and_collect_valuables(kiosk: Kiosk) -> None:
    st = kiosk.station
    numbers = []
    for category in ("wallets", "umbrellas"):
        flow = await api_post(
            st,
            "/api/v1/found",
            {"category": category, "colour": "black", "place": "公交站"},
            role="kiosk",
        )
        await wait_api(lambda f=flow: _door_is(st, f["locker"], "open"), what="door open")
        st.sim.close_door(int(flow["locker"][1:]))
        done = await wait_api(lambda f=flow: _completed(st, f["id"]), what="hand-in done")
        numbers.append(done["result"]["number"])
    wallet, umbrella = numbers
    for number in numbers:
        await api_post(
            st,
            f"/api/v1/found/{number}/claims",
            {"phone": MEMBER_PHONE, "description": "black, lost at the bus stop"},
            role="kiosk",
        )
    await login(kiosk)
    await kiosk.on("MaintenanceScreen")
    await section(kiosk, "lost")
    await kiosk.sees(f"{umbrella} · 雨伞 · black, lost at the bus stop · 认领人 138****5678")
    claims = {c["item"]: c["id"] for c in await api_get(st, "/api/v1/claims")}
    await kiosk.tap(f"#approve-{claims[umbrella]}")
    await kiosk.on("CodeIssuedScreen")
    await kiosk.sees("请把取件码告诉认领人")
    code = kiosk.screen.query_one("#issued-code").value
    assert len(code) == 8
    await kiosk.tap("#done")
    await kiosk.on("MaintenanceScreen")
    await kiosk.tap(f"#reject-{claims[wallet]}")
    await kiosk.on("ReasonScreen")
    await kiosk.tap("#choice-mismatch")
    await kiosk.on("MaintenanceScreen")
    approved = await api_get(st, "/api/v1/claims", status="approved")
    rejected = await api_get(st, "/api/v1/claims", status="rejected")
    assert [c["item"] for c in approved] == [umbrella]
    assert [(c["item"], c["reason"]) for c in rejected] == [(wallet, "mismatch")]

    await kiosk.tap("#lost-valuables")
    await kiosk.sees(f"{wallet} · 钱包")
    await kiosk.tap(f"#collect-{wallet}")
    await kiosk.sees("没有需要处理的")
    record = await api_get(st, f"/api/v1/found/{wallet}/record")
    assert record["status"] == "with_staff" and record["locker"] is None


async def _completed(st, flow_id: str):
    flow = await api_get(st, f"/api/v1/flows/{flow_id}", role="kiosk")
    return flow if flow["state"] == "completed" else None


async def test_restock_and_count_supplies(kiosk: Kiosk) -> None:
    st = kiosk.station
    await login(kiosk)
    await kiosk.on("MaintenanceScreen")
    await section(kiosk, "supplies")
    await kiosk.sees("藿香正气水：3支（不足，提醒线 10）")
    await kiosk.tap("#restock-huoxiang")
    await kiosk.on("SupplyCountScreen")
    await kiosk.sees("藿香正气水（现有 3）：新增多少？")
    await kiosk.keypad("20")
    await kiosk.tap("#next")
    await kiosk.on("MaintenanceScreen")
    await kiosk.sees("藿香正气水：23支")
    await kiosk.tap("#count-water")
    await kiosk.keypad("7")
    await kiosk.tap("#next")
    await kiosk.sees("饮用水：7瓶（不足，提醒线 12）")
    counts = {s["id"]: s["count"] for s in await api_get(st, "/api/v1/supplies")}
    assert (counts["huoxiang"], counts["water"]) == (23, 7)


async def test_self_test_opens_each_empty_door_and_reports(kiosk: Kiosk) -> None:
    st = kiosk.station
    stop = asyncio.Event()

    async def staff_closes_doors() -> None:
        """A person at the lockers shuts each door the self-test opens."""
        while not stop.is_set():
            for channel in range(1, 17):
                if st.sim.is_open(channel):
                    await asyncio.sleep(0.02)
                    st.sim.close_door(channel)
            await asyncio.sleep(0.02)

    st.sim.set_jammed(9)
    closer = asyncio.create_task(staff_closes_doors())
    try:
        await login(kiosk)
        await kiosk.on("MaintenanceScreen")
        await section(kiosk, "selftest")
        kiosk.screen.query_one("#panel-selftest").OPEN_WITHIN_S = 3.0
        await kiosk.tap("#selftest-start")
        await kiosk.sees("自检完成", within=90)
    finally:
        stop.set()
        await closer
    text = kiosk.text
    assert "A01 有物品，跳过" in text and "A03 有物品，跳过" in text
    assert "✓ A04 打开、关闭均正常" in text and "✓ A16 打开、关闭均正常" in text
    assert "✗ A09 开锁后传感器未见打开" in text
    assert "自检完成：13 个柜门中 12 个正常，跳过 3 个" in text
    reasons = {e["locker"]: e["payload"]["reason"] for e in await events(st, "door_unlocked")}
    assert set(reasons) == {f"A{n:02d}" for n in range(4, 17)}
    assert set(reasons.values()) == {"self-test"}


async def test_clear_overtime_deposits_and_remove_expired_items(tmp_path) -> None:
    from station.clock import FakeClock
    from tests.simstation import running_station
    from tests.ui.conftest import station_data, stock
    from tests.ui.kiosk import FakeMonotonic, build_app

    clock = FakeClock()
    async with running_station(station_data(tmp_path), clock=clock) as st:
        await stock(st)
        opened = []
        for path, body in (
            ("/api/v1/deposits", {"kind": "bag"}),
            ("/api/v1/found", {"category": "umbrellas", "colour": "red", "place": "公园"}),
        ):
            flow = await api_post(st, path, body, role="kiosk")
            await wait_api(lambda f=flow: _door_is(st, f["locker"], "open"), what="door open")
            st.sim.close_door(int(flow["locker"][1:]))
            opened.append(await wait_api(lambda f=flow: _completed(st, f["id"]), what="done"))
        deposit_locker = opened[0]["locker"]
        number = opened[1]["result"]["number"]
        clock.advance(31 * 86_400)  # past the 12 h pickup code and the 30-day retention
        await st.daemon.station.services.sweep()

        app = build_app(st, monotonic=FakeMonotonic())
        async with app.run_test(size=(100, 30)) as pilot:
            kiosk = Kiosk(app, pilot, st)
            await kiosk.home()
            await staff_at(kiosk, "storage")
            await kiosk.sees(f"{deposit_locker} · 寄存物品 · walk-in")
            deposit_id = (await api_get(st, "/api/v1/deposits/overtime"))[0]["id"]
            await kiosk.tap(f"#clear-{deposit_id}")
            await kiosk.on("ReasonScreen")
            await kiosk.tap("#choice-office")
            await kiosk.on("MaintenanceScreen")
            await kiosk.sees("没有待取件或超时的寄存")
            deposits = await api_get(st, "/api/v1/deposits")
            assert [(d["status"], d["note"]) for d in deposits] == [("cleared", "office")]

            await section(kiosk, "lost")
            await kiosk.tap("#lost-expired")
            await kiosk.sees(f"{number} · 雨伞")
            await kiosk.tap(f"#remove-{number}")
            await kiosk.on("ReasonScreen")
            await kiosk.tap("#choice-police")
            await kiosk.on("MaintenanceScreen")
            await kiosk.sees("没有需要处理的")
            record = await api_get(st, f"/api/v1/found/{number}/record")
            assert (record["status"], record["disposition"]) == ("removed", "police")


async def test_sync_status_for_staff(kiosk: Kiosk) -> None:
    await staff_at(kiosk, "sync")
    await kiosk.sees("同步：未开启")  # the test station has no central office configured
    await kiosk.sees("待上传")
    await kiosk.sees("下发配置：第 0 版（正常）")
    await kiosk.tap("#sync-refresh")
    await kiosk.sees("上次成功：—")


def test_alarm_subjects_are_words_never_the_logs_labels() -> None:
    """Staff read what an alarm is about: a member by the phone's last 4 digits (not the log's
    hash label), a supply or tool by its name, a door by its number, in both languages."""
    from ui.i18n import Translator
    from ui.screens.maintenance.doors import alarm_subject

    names = {"huoxiang": lambda i18n: i18n.pick("藿香正气水", "Huoxiang water")}
    cases = [
        ({"type": "pin_lockout", "subject": "member:59f0ee20/9000"}, "尾号 9000 的会员",
         "member with phone ending 9000"),
        ({"type": "pin_lockout", "subject": "staff:1001"}, "工号 1001 的工作人员",
         "staff no. 1001"),
        ({"type": "low_stock", "subject": "huoxiang"}, "藿香正气水", "Huoxiang water"),
        ({"type": "forced_open", "subject": "A07"}, "A07 号柜门", "door A07"),
        ({"type": "guessing", "subject": "code"}, "取件码", "pickup codes"),
        ({"type": "board_offline", "subject": "cu1"}, "锁控板 cu1", "lock board cu1"),
        ({"type": "sync_failing", "subject": "central"}, "中心服务器", "central server"),
    ]  # fmt: skip
    zh, en = Translator("zh"), Translator("en")
    for alarm, in_zh, in_en in cases:
        assert alarm_subject(alarm, names, zh) == in_zh
        assert alarm_subject(alarm, names, en) == in_en
