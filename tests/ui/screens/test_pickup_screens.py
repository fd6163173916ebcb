"""The pickup screens and the resident steps this work changed, at the panels' grids: every
button usable (tests/ui/layout.py `problems`), in both languages; and the pickup's refusals,
which never offer a retry that cannot succeed."""

from __future__ import annotations

import pytest
from textual.widgets import Digits

from tests.simstation import SimStation
from tests.ui.kiosk import (
    FakeMonotonic,
    Kiosk,
    api_get,
    api_post,
    build_app,
    door,
    events,
    wait_api,
)
from tests.ui.layout import problems

GRIDS = [(66, 13), (85, 18)]


async def fits(kiosk: Kiosk, bad: list[str]) -> None:
    """Check the screen on top at each grid, and go back to the first."""
    for size in GRIDS:
        await kiosk.pilot.resize_terminal(*size)
        await kiosk.pilot.pause()
        await kiosk.settled()
        bad.extend(problems(kiosk))
    await kiosk.pilot.resize_terminal(*GRIDS[0])
    await kiosk.pilot.pause()


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_the_changed_screens_fit_the_panels(station: SimStation, language: str) -> None:
    app = build_app(station, monotonic=FakeMonotonic(), language=language)
    async with app.run_test(size=GRIDS[0]) as pilot:
        kiosk = Kiosk(app, pilot, station)
        bad: list[str] = []
        await kiosk.home()
        await fits(kiosk, bad)
        await kiosk.tap("#tile-pickup")
        await kiosk.on("PickupCodeScreen")
        await fits(kiosk, bad)
        await kiosk.keypad("12345678")
        await kiosk.on("ErrorScreen")
        await fits(kiosk, bad)
        await kiosk.tap("#home")
        await kiosk.home()
        for tile, screen, choice, then in (
            ("#tile-storage", "StorageMenuScreen", "#choice-bag", "DepositSizeScreen"),
            ("#tile-lost", "LostMenuScreen", "#choice-handin", "CategoryScreen"),
            ("#tile-borrow", "BorrowToolsScreen", "#choice-T-SAW-1", "ApprovalNoticeScreen"),
        ):
            await kiosk.tap(tile)
            await kiosk.on(screen)
            await fits(kiosk, bad)
            await kiosk.tap(choice)
            await kiosk.on(then)
            await fits(kiosk, bad)
            kiosk.app.go_home()
            await kiosk.home()
        await kiosk.tap("#tile-lost")
        await kiosk.tap("#choice-handin")
        await kiosk.tap("#choice-keys")
        await kiosk.on("ColourScreen")
        await fits(kiosk, bad)
        kiosk.app.go_home()
        await kiosk.home()
        await kiosk.tap("#tile-borrow")
        await kiosk.tap("#choice-T-DRILL-1")
        await kiosk.on("PhoneScreen")
        await fits(kiosk, bad)
        assert not bad, "\n".join(bad)


async def test_wrong_codes_count_down_then_pause_the_screen_without_a_retry(
    kiosk: Kiosk,
) -> None:
    st = kiosk.station
    await kiosk.tap("#tile-storage")
    await kiosk.tap("#choice-phone")
    await kiosk.tap("#confirm")
    await kiosk.on("FlowScreen")
    locker = kiosk.screen.flow["locker"]
    await kiosk.until(lambda: kiosk.screen.state == "open", what="the door open")
    st.sim.close_door(int(locker[1:]))
    await kiosk.until(lambda: kiosk.screen.query("#receipt-code"), what="the code")
    code = kiosk.screen.query_one("#receipt-code", Digits).value
    await kiosk.tap("#done")
    await kiosk.home()

    wrong = f"{(int(code) + 1) % 10**8:08d}"
    await kiosk.tap("#tile-pickup")
    for left in (4, 3, 2, 1):
        await kiosk.on("PickupCodeScreen")
        await kiosk.keypad(wrong)
        await kiosk.on("ErrorScreen")
        await kiosk.sees(f"取件码不正确，还可以再试 {left} 次。")
        await kiosk.tap("#retry")
    await kiosk.on("PickupCodeScreen")
    await kiosk.keypad(wrong)
    await kiosk.on("ErrorScreen")
    await kiosk.sees("取件码错误次数过多，本屏暂停取件")
    await kiosk.sees("已通知工作人员")
    assert "#retry" not in [f"#{b.id}" for b in kiosk.screen.query("Button")]
    alarms = await api_get(st, "/api/v1/alarms")
    guessing = [a["subject"] for a in alarms if a["type"] == "guessing"]
    assert guessing == ["codes@kiosk:test-kiosk"]
    # the deposit's own code is untouched: still waiting, still active
    [waiting] = await api_get(st, "/api/v1/pickups")
    assert (waiting["locker"], waiting["code_status"]) == (locker, "active")


async def test_staff_give_a_new_code_from_the_maintenance_screen(kiosk: Kiosk) -> None:
    """A courier whose code was never seen: staff replace it (the station keeps no code in
    the clear, so a new one is the way to show a code again); the new code opens the door."""
    from tests.ui.test_maintenance import login, section

    st = kiosk.station
    flow = await api_post(st, "/api/v1/deposits", {"kind": "phone_charge"}, role="kiosk")
    locker = flow["locker"]
    await wait_api(lambda: _door_is(st, locker, "open"), what="door open")
    st.sim.close_door(int(locker[1:]))
    await wait_api(lambda: _waiting(st), what="the code issued")  # nobody saw it

    await login(kiosk)
    await kiosk.on("MaintenanceScreen")
    await section(kiosk, "storage")
    await kiosk.sees(f"{locker} · 寄存 · 取件码有效至")
    await kiosk.tap(f"#reissue-code-{locker}")
    await kiosk.on("ReasonScreen")
    await kiosk.sees("旧码将失效")
    await kiosk.tap("#choice-not_shown")
    await kiosk.on("CodeIssuedScreen")
    await kiosk.sees("新取件码")
    code = kiosk.screen.query_one("#issued-code", Digits).value
    assert len(code) == 8
    [reissued] = await events(st, "code_reissued")
    assert reissued["actor"].startswith("staff:") and code not in str(reissued)
    async with st.client("kiosk") as client:
        r = await client.post("/api/v1/pickups", json={"code": code})
    assert r.status_code == 202 and r.json()["locker"] == locker, r.text


async def _door_is(st: SimStation, locker: str, state: str) -> bool:
    return await door(st, locker) == state


async def _waiting(st: SimStation) -> bool:
    return bool(await api_get(st, "/api/v1/pickups"))
