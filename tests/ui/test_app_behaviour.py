"""What the app does around the flows: the live strip on Home, the language toggle, idle
timeouts for residents and staff, refusals, and a daemon that goes away and comes back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from station.clock import FakeClock
from station.config import parse_config
from station.daemon import Daemon
from tests.simstation import TOKENS, SimStation, running_station
from tests.ui.conftest import station_data, stock
from tests.ui.kiosk import (
    MEMBER_PHONE,
    MEMBER_PIN,
    FakeMonotonic,
    Kiosk,
    api_post,
    build_app,
    door,
    wait_api,
)


async def test_home_shows_supplies_and_follows_restocks(kiosk: Kiosk) -> None:
    await kiosk.sees("饮用水 有 · 藿香正气水 少 · 清凉油 无 · 湿巾 有 · 充电 有空位")
    await kiosk.sees("休息区：")
    await api_post(kiosk.station, "/api/v1/supplies/balm/restock", {"added": 24})
    await kiosk.sees("清凉油 有")
    await kiosk.tap("#lang")
    await kiosk.sees("Drinking water ✓")
    await kiosk.sees("Cooling balm ✓")


async def test_the_language_toggle_keeps_what_was_typed(kiosk: Kiosk) -> None:
    await kiosk.tap("#tile-borrow")
    await kiosk.tap("#choice-T-DRILL-1")
    await kiosk.on("PhoneScreen")
    await kiosk.keypad("1381234")
    await kiosk.tap("#lang")
    await kiosk.sees("Enter your mobile number (11 digits)")
    await kiosk.sees("‹ Back")
    assert "138 1234" in kiosk.text
    await kiosk.tap("#back")
    await kiosk.on("BorrowToolsScreen")
    await kiosk.sees("Drill\nA03 · available")
    await kiosk.sees("Chainsaw\nA02 · needs staff approval")
    await kiosk.tap("#lang")
    await kiosk.sees("电钻\nA03 · 可借")


async def test_idle_returns_home_and_forgets_the_member(kiosk: Kiosk, idle_clock) -> None:
    await kiosk.tap("#lang")
    await kiosk.tap("#tile-borrow")
    await kiosk.tap("#choice-T-DRILL-1")
    await kiosk.identify()
    await kiosk.on("BorrowConfirmScreen")
    session = kiosk.app.member.token
    idle_clock.advance(59)
    await kiosk.pilot.pause(0.3)
    assert type(kiosk.screen).__name__ == "BorrowConfirmScreen"
    idle_clock.advance(2)
    await kiosk.on("StillThereScreen")
    await kiosk.sees("Do you need more time?")  # still in the language the person chose
    idle_clock.advance(16)
    await kiosk.home()
    assert kiosk.app.member is None
    await kiosk.sees("欢迎使用，请点选服务")  # back to the default language for the next person
    async with httpx.AsyncClient(base_url=kiosk.station.url) as client:

        async def logged_out() -> bool:
            response = await client.get(
                "/api/v1/members/me",
                headers={
                    "Authorization": f"Bearer {TOKENS['kiosk']}",
                    "X-Member-Session": session,
                },
            )
            return response.status_code == 401

        await wait_api(logged_out, what="the member session to end on the daemon")


async def test_staff_are_logged_out_after_two_idle_minutes(kiosk: Kiosk, idle_clock) -> None:
    from tests.ui.test_maintenance import login

    await login(kiosk)
    await kiosk.on("MaintenanceScreen")
    token = kiosk.app.staff.token
    idle_clock.advance(100)  # longer than a resident's timeout, shorter than staff's
    await kiosk.pilot.pause(0.3)
    assert type(kiosk.screen).__name__ == "MaintenanceScreen"
    idle_clock.advance(21)
    await kiosk.on("StillThereScreen")
    idle_clock.advance(16)
    await kiosk.home()
    assert kiosk.app.staff is None
    async with httpx.AsyncClient(base_url=kiosk.station.url) as client:

        async def logged_out() -> bool:
            response = await client.get(
                "/api/v1/staff/me", headers={"Authorization": f"Bearer {token}"}
            )
            return response.status_code == 401

        await wait_api(logged_out, what="the staff session to end on the daemon")


async def test_a_tool_needing_approval_is_refused_in_plain_words(kiosk: Kiosk) -> None:
    """Said before identification; one who goes on without an approval is refused with
    what to do next."""
    await kiosk.tap("#tile-borrow")
    await kiosk.tap("#choice-T-SAW-1")
    await kiosk.on("ApprovalNoticeScreen")
    await kiosk.tap("#approved")
    await kiosk.identify()
    await kiosk.on("BorrowConfirmScreen")
    await kiosk.tap("#confirm")
    await kiosk.on("ErrorScreen")
    await kiosk.sees("需要工作人员批准")
    await kiosk.sees("请找站内工作人员批准后再借，或致电 0755-12345678。")
    assert await door(kiosk.station, "A02") == "closed"


async def test_a_member_with_an_overdue_tool_sees_it_when_identifying(tmp_path: Path) -> None:
    clock = FakeClock()
    async with running_station(station_data(tmp_path), clock=clock) as st:
        await stock(st)
        identified = await api_post(
            st, "/api/v1/members/identify", {"phone": MEMBER_PHONE, "pin": MEMBER_PIN}, "kiosk"
        )
        async with st.client("kiosk") as client:
            response = await client.post(
                "/api/v1/loans",
                json={"tool_id": "T-DRILL-1"},
                headers={"X-Member-Session": identified["session"]},
            )
            assert response.status_code == 202, response.text
        await wait_api(lambda: _is_open(st, "A03"), what="A03 open")
        st.sim.close_door(3)
        await wait_api(lambda: _is_closed(st, "A03"), what="A03 closed")
        clock.advance(3 * 86_400)  # the two-day loan is a day overdue

        app = build_app(st, monotonic=FakeMonotonic())
        async with app.run_test(size=(100, 30)) as pilot:
            kiosk = Kiosk(app, pilot, st)
            await kiosk.home()
            await kiosk.tap("#tile-borrow")
            await kiosk.tap("#choice-T-LADDER-1")
            await kiosk.identify()
            await kiosk.on("ErrorScreen")
            await kiosk.sees("您有未归还的工具")
            await kiosk.sees("请先归还逾期的工具，再借新的。")
            await kiosk.sees("电钻（应于 1月3日 08:00 归还）")
            assert await door(st, "A01") == "closed"


async def _is_open(st, locker: str) -> bool:
    return await door(st, locker) == "open"


async def _is_closed(st, locker: str) -> bool:
    return await door(st, locker) == "closed"


@asynccontextmanager
async def at_the_tools(tmp_path: Path) -> AsyncIterator[tuple[SimStation, Kiosk]]:
    """A kiosk of its own station (the tests stop its daemon), on the tools screen."""
    async with running_station(station_data(tmp_path)) as st:
        await stock(st)
        app = build_app(st, monotonic=FakeMonotonic())
        async with app.run_test(size=(80, 24)) as pilot:
            kiosk = Kiosk(app, pilot, st)
            await kiosk.home()
            await kiosk.tap("#tile-borrow")
            await kiosk.on("BorrowToolsScreen")
            yield st, kiosk


@asynccontextmanager
async def started_again(st: SimStation, port: int) -> AsyncIterator[Daemon]:
    restarted = Daemon(st.config, port=port)
    try:
        await restarted.start()
        yield restarted
    finally:
        await restarted.stop()


async def test_the_station_restarting_screen_recovers_by_itself(tmp_path: Path) -> None:
    async with at_the_tools(tmp_path) as (st, kiosk):
        port = st.daemon.bound_port
        await st.daemon.stop()
        await kiosk.on("RestartingScreen")
        await kiosk.sees("系统正在重启")
        await kiosk.sees("请稍等片刻，恢复后将自动回到首页。")
        await kiosk.sees("如需帮助请致电 0755-12345678")
        async with started_again(st, port):
            await kiosk.home()
            await kiosk.tap("#tile-borrow")
            await kiosk.sees("电钻")


async def test_a_help_phone_changed_by_the_office_reaches_the_screen(tmp_path: Path) -> None:
    """apply_settings hands the daemon a new help phone (tests/station/remote); the daemon
    tells the connected touchscreen, which shows it from then on."""
    async with at_the_tools(tmp_path) as (st, kiosk):
        assert st.daemon.station is not None
        st.daemon.station.live.set_facts(help_phone="0755-88886666")
        await wait_api(
            _true(lambda: kiosk.app.info.help_phone == "0755-88886666"), what="the new phone"
        )
        await st.daemon.stop()
        await kiosk.on("RestartingScreen")
        await kiosk.sees("如需帮助请致电 0755-88886666")


async def test_a_broken_stream_keeps_the_person_but_a_quick_restart_does_not(
    tmp_path: Path,
) -> None:
    """A stream that drops while the daemon stays up (a missed ping on a busy Pi) must not end
    the person's session; a daemon that restarted faster than the UI noticed must."""
    async with at_the_tools(tmp_path) as (st, kiosk):
        stream = kiosk.app.stream
        first = stream.connection
        assert first is not None
        first.transport.abort()
        await wait_api(_true(lambda: stream.connection not in (None, first)), what="the retry")
        await kiosk.sees("电钻")
        assert kiosk.screen.__class__.__name__ == "BorrowToolsScreen"
        port = st.daemon.bound_port
        await st.daemon.stop()
        async with started_again(st, port):
            await kiosk.home()


def _true(check):
    async def run() -> bool:
        return bool(check())

    return run


async def test_home_shows_whether_the_rest_area_is_in_use(tmp_path: Path) -> None:
    from gpiozero.pins.mock import MockFactory

    data = station_data(tmp_path)
    data["occupancy"] = {"pir_pin": 17, "hold_s": 0.5, "poll_ms": 50}
    pins = MockFactory()
    daemon = Daemon(parse_config(data, "test"), pin_factory=pins, port=0)
    try:
        await daemon.start()
        st = SimStation(daemon=daemon, config=daemon.config)
        app = build_app(st, monotonic=FakeMonotonic())
        async with app.run_test(size=(100, 30)) as pilot:
            kiosk = Kiosk(app, pilot, st)
            await kiosk.home()
            await kiosk.sees("休息区：空闲")
            pins.pin(17).drive_high()  # someone walks in
            await kiosk.sees("休息区：有人")
            pins.pin(17).drive_low()
            await kiosk.sees("休息区：空闲")
    finally:
        await daemon.stop()
        pins.reset()


async def test_a_wrong_kiosk_token_is_said_on_the_restarting_screen(station) -> None:
    from ui.app import StationApp, StationInfo
    from ui.client import LiveStream, StationClient
    from ui.settings import UiConfig

    wrong = "not-the-kiosk-token-000000"
    app = StationApp(
        StationClient(station.url, wrong),
        LiveStream(station.url, wrong, reconnect_max_s=0.5),
        UiConfig(),
        StationInfo(name_zh="站", name_en="Station", help_phone=""),
    )
    async with app.run_test(size=(80, 24)) as pilot:
        kiosk = Kiosk(app, pilot, station)
        await kiosk.on("RestartingScreen")
        await kiosk.sees("此触摸屏未获授权（令牌不对），请联系工作人员。")
        assert not app.connected


async def test_news_arriving_while_the_app_shuts_down_is_dropped(station) -> None:
    """The app closes its screens before it cancels its workers; the stream or an API call
    finishing in that gap found no screen and failed the whole app (seen in CI)."""
    app = build_app(station)
    async with app.run_test(size=(80, 24)) as pilot:
        await Kiosk(app, pilot, station).home()
    assert not app.screen_stack
    app._stream_state(False)
    app._stream_message({"kind": "snapshot", "lockers": [], "daemon": "other"})
    app.daemon_lost()
    app.go_home()
    assert not app.screen_stack


async def test_a_courier_idle_three_minutes_at_an_open_door_still_gets_the_code(
    kiosk: Kiosk, idle_clock
) -> None:
    """Time belongs to the person: the idle prompt comes and goes, but nobody is sent Home
    while the door is open; the receipt with the pickup code then gets its own idle time."""
    st = kiosk.station
    await kiosk.tap("#tile-storage")
    await kiosk.tap("#choice-phone")
    await kiosk.tap("#confirm")
    await kiosk.on("FlowScreen")
    await kiosk.until(lambda: kiosk.screen.state == "open", what="the door open")
    locker = kiosk.screen.locker
    for _ in range(3):  # three idle minutes, each with the prompt counting down to nothing
        idle_clock.advance(61)
        await kiosk.on("StillThereScreen")
        await kiosk.sees("还需要时间吗？")
        idle_clock.advance(16)
        await kiosk.on("FlowScreen")
    assert kiosk.screen.state == "open"
    st.sim.close_door(int(locker[1:]))
    await kiosk.until(lambda: kiosk.screen.query("#receipt-code"), what="the pickup code")
    code = kiosk.screen.query_one("#receipt-code").value
    assert len(code) == 8 and code.isdigit()
    # The receipt stays for the idle time and the prompt; a tap on the prompt keeps it.
    idle_clock.advance(61)
    await kiosk.on("StillThereScreen")
    await kiosk.tap("#still-countdown")
    await kiosk.on("FlowScreen")
    assert kiosk.screen.query_one("#receipt-code").value == code
    idle_clock.advance(61)
    await kiosk.on("StillThereScreen")
    idle_clock.advance(16)
    await kiosk.home()
