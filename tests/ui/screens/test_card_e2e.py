"""End to end through the real daemon and UI, with the pty card reader behind the real pyserial
backend: a staff badge logs staff in (with the PIN), staff register a member who sets a PIN and
binds a card, and the member borrows a tool with 3 taps from Home plus the card. The PIN reset
and the deactivation are in the usage log; no card number is anywhere."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from drivers.sim.reader import SerialReaderSim
from station.people.cards import CardOwner
from tests.simstation import SimStation
from tests.ui.kiosk import STAFF_NO, STAFF_PIN, FakeMonotonic, Kiosk, build_app, door, events
from tests.ui.reader import present, reader_station

CARD = "0012345678"
BADGE = "QR-Mq7-xT42"
NEW_PHONE = "13700001234"
NEW_PIN = "604817"


@pytest.fixture
async def card_station(tmp_path: Path) -> AsyncIterator[tuple[SimStation, SerialReaderSim]]:
    async with reader_station(tmp_path) as pair:
        yield pair


async def test_badge_login_register_bind_and_borrow_by_card(card_station: Any) -> None:
    st, sim = card_station
    services = st.daemon.station.services
    await services.members.cards.bind(
        BADGE, CardOwner("staff", STAFF_NO), f"staff:{STAFF_NO}", "cli"
    )
    app = build_app(st, monotonic=FakeMonotonic())
    async with app.run_test(size=(85, 18)) as pilot:
        kiosk = Kiosk(app, pilot, st)
        await kiosk.home()

        # The badge stands for the staff number; the PIN is still asked.
        await kiosk.tap("#staff")
        await kiosk.on("StaffNumberScreen")
        await kiosk.sees("请刷工作证，或输入工号")
        await present(st, sim, BADGE)
        await kiosk.on("StaffPinScreen")
        await kiosk.keypad(STAFF_PIN)
        await kiosk.tap("#next")
        await kiosk.on("MaintenanceScreen")

        # Register: the resident types number and PIN twice, staff confirm, then bind a card.
        await kiosk.tap("#sec-members")
        await kiosk.tap("#member-register")
        await kiosk.on("MemberPhoneScreen")
        await kiosk.keypad(NEW_PHONE)
        await kiosk.tap("#next")
        for _ in range(2):
            await kiosk.on("NewPinScreen")
            await kiosk.keypad(NEW_PIN)
            await kiosk.tap("#next")
        await kiosk.on("ConfirmRegisterScreen")
        await kiosk.tap("#confirm")
        await kiosk.on("DoneScreen")
        await kiosk.tap("#bind")
        await kiosk.on("MemberCardScreen")
        await kiosk.tap("#bind")
        await kiosk.on("PresentCardScreen")
        await present(st, sim, CARD)
        await kiosk.on("MemberCardScreen")
        await kiosk.sees("137****1234 · 正常 · 1 张卡")
        await kiosk.tap("#back")
        await kiosk.on("MaintenanceScreen")
        await kiosk.tap("#back")
        await kiosk.home()

        # Borrow with the card: 3 taps from Home plus the card.
        kiosk.count_taps()
        await kiosk.tap("#tile-borrow")
        await kiosk.on("BorrowToolsScreen")
        await kiosk.tap("#choice-T-DRILL-1")
        await kiosk.on("PhoneScreen")
        await kiosk.sees("请刷卡，或输入手机号")
        await present(st, sim, CARD)
        await kiosk.on("BorrowConfirmScreen")
        await kiosk.sees("137****1234")
        await kiosk.tap("#confirm")
        await kiosk.on("FlowScreen")
        assert kiosk.taps == 3
        await kiosk.sees("柜门 A03 已打开")
        assert await door(st, "A03") == "open"
        st.sim.close_door(3)
        await kiosk.sees("借用成功")
        await kiosk.tap("#done")
        await kiosk.home()

        # An unknown card at the phone screen: told so, with what to do.
        await kiosk.tap("#tile-borrow")
        await kiosk.tap("#choice-T-LADDER-1")
        await kiosk.on("PhoneScreen")
        await present(st, sim, "0099887766")
        await kiosk.on("ErrorScreen")
        await kiosk.sees("这张卡还没有登记")
        await kiosk.sees("工作人员")

    member_id = (await st.daemon.station.services.members.lookup(NEW_PHONE)).id
    await services.members.reset_pin(member_id, "385720", f"staff:{STAFF_NO}")
    await services.members.set_status(member_id, "suspended", "moved", f"staff:{STAFF_NO}")
    logged = await events(
        st, "card_bound", "loan_started", "member_pin_reset", "member_status_changed"
    )
    assert [e["type"] for e in logged] == [
        "card_bound",
        "card_bound",
        "loan_started",
        "member_pin_reset",
        "member_status_changed",
    ]
    assert logged[1]["actor"] == f"staff:{STAFF_NO}" and logged[2]["actor"].endswith("/1234")
    everything = str(await events(st)) + "".join(
        p.read_bytes().decode("latin-1") for p in st.config.station.data_dir.glob("station.db*")
    )
    for secret in (CARD, BADGE, NEW_PHONE, NEW_PIN):
        assert secret not in everything
