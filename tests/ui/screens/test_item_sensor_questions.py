"""The item sensors' two questions on the touchscreen, by taps only, in both languages, each
question checked at the kiosk grids (66x13 and 85x18; the way there is tapped at 100x30, as
the other flow tests do): a deposit closed empty, a pickup that leaves something behind."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from textual.widgets import Digits

from tests.simstation import SimStation, running_station
from tests.ui.conftest import station_data, stock
from tests.ui.kiosk import FakeMonotonic, Kiosk, api_get, build_app, visible
from tests.ui.layout import problems

TEXTS = {
    "zh": {"empty": "柜内似乎是空的", "released": "已释放", "left": "柜内还有物品"},
    "en": {"empty": "The locker looks empty", "released": "free again", "left": "still inside"},
}


@pytest.fixture
async def sensing(tmp_path: Path) -> AsyncIterator[SimStation]:
    data = station_data(tmp_path)
    data["boards"][0]["item_sensor"] = True
    async with running_station(data) as st:
        await stock(st)
        yield st


async def deposit_bag(kiosk: Kiosk) -> str:
    await kiosk.tap("#tile-storage")
    await kiosk.tap("#choice-bag")
    await kiosk.tap("#choice-size-S")
    await kiosk.on("FlowScreen")
    return str(kiosk.screen.flow["locker"])


async def wait_open(kiosk: Kiosk, locker: str) -> None:
    await kiosk.until(lambda: kiosk.screen.flow.get("state") == "open", what=f"{locker} open")


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("size", [(66, 13), (85, 18)])
async def test_a_deposit_closed_empty_asks_and_no_frees_the_locker(
    sensing: SimStation, language: str, size: tuple[int, int]
) -> None:
    app = build_app(sensing, monotonic=FakeMonotonic(), language=language)
    async with app.run_test(size=(100, 30)) as pilot:
        kiosk = Kiosk(app, pilot, sensing)
        await kiosk.home()
        locker = await deposit_bag(kiosk)
        await wait_open(kiosk, locker)
        sensing.sim.close_door(int(locker[1:]))  # nothing went in
        await kiosk.sees(TEXTS[language]["empty"])
        await pilot.resize_terminal(*size)
        await kiosk.settled()
        await kiosk.sees(TEXTS[language]["empty"])
        for choice in ("#choice-yes", "#choice-no"):
            assert visible(kiosk.screen.query_one(choice)), choice
        assert not visible(kiosk.screen.query_one("#answer-works"))
        assert problems(kiosk) == []
        await kiosk.tap("#choice-no")
        await kiosk.sees(TEXTS[language]["released"])
    deposits = await api_get(sensing, "/api/v1/deposits")
    assert [(d["locker"], d["status"]) for d in deposits] == [(locker, "cleared")]


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_a_pickup_that_leaves_the_bag_reminds_and_tells_staff(
    sensing: SimStation, language: str
) -> None:
    app = build_app(sensing, monotonic=FakeMonotonic(), language=language)
    async with app.run_test(size=(100, 30)) as pilot:
        kiosk = Kiosk(app, pilot, sensing)
        await kiosk.home()
        locker = await deposit_bag(kiosk)
        await wait_open(kiosk, locker)
        sensing.sim.set_item(int(locker[1:]), True)
        sensing.sim.close_door(int(locker[1:]))
        await kiosk.until(lambda: kiosk.screen.query("#receipt-code"), what="the code")
        code = kiosk.screen.query_one("#receipt-code", Digits).value
        await kiosk.tap("#done")
        await kiosk.home()
        await kiosk.tap("#tile-pickup")
        await kiosk.keypad(code)
        await kiosk.on("FlowScreen")
        await wait_open(kiosk, locker)
        sensing.sim.close_door(int(locker[1:]))  # the bag stays in
        await kiosk.sees(TEXTS[language]["left"])
        await pilot.resize_terminal(66, 13)
        await kiosk.settled()
        for choice in ("#choice-open_again", "#choice-leave_it"):
            assert visible(kiosk.screen.query_one(choice)), choice
        assert problems(kiosk) == []
        await kiosk.tap("#choice-leave_it")
        await kiosk.until(lambda: kiosk.screen.query("#done"), what="the receipt")
    alarms = await api_get(sensing, "/api/v1/alarms")
    assert [(a["type"], a["subject"]) for a in alarms if a["type"] == "item_left"] == [
        ("item_left", locker)
    ]
