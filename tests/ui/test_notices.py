"""Notices and promotions from the office to the kiosk's Home strip, end to end.

Central publishes a bundle with notices for the fleet, for this station only and for another
station; a real daemon on simulated boards syncs it; the touchscreen, at the panel's smallest
and largest grids in both languages, shows this station's notices in rotation, highest
priority first (a promotion with its merchant's name), shows one in full when tapped, and drops
an expired one by itself as its clock passes the end. Home's count of showings goes to the
daemon as `notice_shown` events, up the sync, and into the office's report.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from central.app import create_app
from central.auth import new_token, token_hash
from central.bundles import bundle_body
from central.server import BackgroundServer
from central.storage.base import EventQuery
from central.storage.sqlite import SQLiteStorage
from tests.simstation import SimStation, running_station
from tests.ui.conftest import station_data, stock
from tests.ui.kiosk import Kiosk, api_get, build_app
from wire.bundle import parse_bundle

NOW = time.time()
PROMO = "好邻居超市：凭本站借用记录，矿泉水第二瓶半价，本周日前有效。谢谢支持社区服务站！"
PROMO_EN = "Haolinju: second bottle of water half price with a loan record here, until Sunday."


class Wall:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@dataclass
class Office:
    storage: SQLiteStorage
    url: str
    office: str
    station: SimStation


def bundle() -> dict[str, Any]:
    return {
        "notices": [
            {"id": "heat", "text": "高温天气，请多喝水", "text_en": "Hot day: drink water"},
            {
                "id": "promo-haolinju",
                "text": PROMO,
                "text_en": PROMO_EN,
                "merchant": "好邻居超市",
                "priority": 5,
                "stations": ["TEST-0001"],
                "ends_at": NOW + 3600,
            },
            {"id": "elsewhere", "text": "别的站的通知", "stations": ["WEST-02"]},
            {"id": "later", "text": "明天的活动", "starts_at": NOW + 86_400},
        ]
    }


@pytest.fixture
async def office(tmp_path: Path) -> AsyncIterator[Office]:
    storage = SQLiteStorage(tmp_path / "central.db")
    token = new_token()
    storage.add_station("TEST-0001", "test station", token_hash(token), NOW)
    office = new_token()
    storage.add_office_token("office", token_hash(office), NOW)
    body, digest = bundle_body(parse_bundle(bundle()))
    storage.publish_bundle(body, digest, [], NOW)
    with BackgroundServer(create_app(storage)) as server:
        data = station_data(tmp_path)
        data["sync"] = {"url": server.url, "token": token, "interval_s": 0.2}
        async with running_station(data) as st:
            await stock(st)
            await st.wait_for(lambda: st.daemon.station.sync.current_bundle() is not None, 20)
            yield Office(storage, server.url, office, st)
    storage.close()


async def test_the_station_lists_its_notices_and_counts_showings(office: Office) -> None:
    st = office.station
    notices = await api_get(st, "/api/v1/notices", role="kiosk")
    assert [n["id"] for n in notices] == ["promo-haolinju", "heat", "later"]
    async with st.client("kiosk") as kiosk, st.client("staff") as staff:
        r = await kiosk.post("/api/v1/notices/elsewhere/shown", json={"count": 3})
        assert r.status_code == 404  # not this station's
        r = await kiosk.post("/api/v1/notices/heat/shown", json={"count": 0})
        assert r.status_code == 422
        r = await kiosk.post("/api/v1/notices/heat/shown", json={"count": 5000})
        assert r.status_code == 422
        r = await staff.post("/api/v1/notices/heat/shown", json={"count": 3})
        assert r.status_code == 403  # only the screen reports showings


@pytest.mark.parametrize(
    ("size", "language"), [((66, 13), "zh"), ((66, 13), "en"), ((85, 18), "zh"), ((85, 18), "en")]
)
async def test_home_rotates_shows_in_full_and_drops_expired(
    office: Office, size: tuple[int, int], language: str
) -> None:
    st = office.station
    wall = Wall()
    # the strip turns when the test says (its timer would race the taps on a loaded machine)
    app = build_app(st, wall=wall, language=language, notice_cycle_s=600)
    async with app.run_test(size=size) as pilot:
        k = Kiosk(app, pilot, st)
        await k.home()
        merchant = "好邻居超市"
        await k.sees(merchant)  # the promotion has the highest priority: shown first
        notice = k.screen.query_one("#notice")
        assert notice.region.width >= size[0] - 4 and notice.region.y < size[1]

        await k.tap("#notice")
        await k.on("NoticeScreen")
        full = PROMO if language == "zh" else PROMO_EN
        # the whole text is on screen, wrapped (no word of it cut off)
        assert "".join(full.split()) in "".join(k.text.split())
        assert ("商家优惠" if language == "zh" else "Offer from") in k.text
        assert ("有效期至" if language == "zh" else "Until") in k.text
        await k.tap("#back")
        await k.on("HomeScreen")

        # the rotation: the heat notice has its turn, "later" never (not yet), nor "elsewhere"
        home = k.screen
        home._next_notice()
        await k.sees("Hot day" if language == "en" else "高温天气")
        home._next_notice()
        await k.sees(merchant)
        # the promotion's hour is over: it goes by itself at its next turn
        wall.now = NOW + 3601
        home._next_notice()
        await k.sees("Hot day" if language == "en" else "高温天气")
        for _ in range(3):
            home._next_notice()
            assert merchant not in k.text
        home.report_shows()
        await k.until(lambda: _reported(st), what="notice_shown events")


def _reported(st: SimStation) -> bool:
    rows = st.daemon.station.store.query("SELECT payload FROM events WHERE type = 'notice_shown'")
    return len(rows) == 2


async def test_showings_reach_the_office_report(office: Office) -> None:
    st = office.station
    async with st.client("kiosk") as kiosk:
        for notice, count in (("promo-haolinju", 12), ("heat", 4), ("promo-haolinju", 3)):
            r = await kiosk.post(f"/api/v1/notices/{notice}/shown", json={"count": count})
            assert r.status_code == 204, r.text

    def synced() -> bool:
        rows = office.storage.events(EventQuery(station="TEST-0001", type="notice_shown"))
        return len(rows) == 3

    await st.wait_for(synced, 20)
    today = datetime.fromtimestamp(NOW, ZoneInfo("Asia/Shanghai")).date().isoformat()
    async with httpx.AsyncClient(base_url=office.url) as http:
        r = await http.get(
            "/api/v1/reports/notices",
            params={"from": today, "to": today},
            headers={"Authorization": f"Bearer {office.office}"},
        )
    assert r.status_code == 200, r.text
    rows = [(x["station"], x["notice"], x["shows"]) for x in r.json()["rows"]]
    assert rows == [
        ("TEST-0001", "promo-haolinju", 15),
        ("TEST-0001", "heat", 4),
        ("*", "promo-haolinju", 15),
        ("*", "heat", 4),
    ]
