"""The dashboard's report page in Debian's headless Chromium, driven by Playwright.

A month of simulated use at three stations goes in through the real ingest endpoint; the page
must ask for the office token, list the stations, show last month's summary with the same
numbers as the API, switch views, redraw for two stations per week, and download the XLSX
through the browser. A screenshot is kept with the test's output; with
STATION_UPDATE_SCREENSHOTS=1 it is also copied to docs/screenshots/reports.png.
"""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from central.app import create_app
from central.auth import new_token, token_hash
from central.server import BackgroundServer
from central.settings import CentralSettings
from central.storage.sqlite import SQLiteStorage
from tests.central import reportkit as kit
from tests.central.test_reports import FIRST, NOW
from tests.chromium import launch, needs_chromium

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
openpyxl = pytest.importorskip("openpyxl", reason="openpyxl is installed with central")

pytestmark = needs_chromium
DOCS_SHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "reports.png"


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    storage = SQLiteStorage(tmp_path_factory.mktemp("central") / "central.db")
    rng = random.Random(3)
    tokens = {}
    for sid, name in kit.STATIONS.items():
        tokens[sid] = new_token()
        storage.add_station(sid, name, token_hash(tokens[sid]), NOW - 40 * 86_400)
    office = new_token()
    storage.add_office_token("office", token_hash(office), NOW)
    app = create_app(storage, CentralSettings(), clock=lambda: NOW)
    with BackgroundServer(app) as server, httpx.Client(base_url=server.url, timeout=60) as http:
        for sid in kit.STATIONS:
            events = kit.wire(sid, kit.simulate(rng, sid, FIRST - timedelta(days=1), 32))
            for i in range(0, len(events), 500):
                kit.post_batch(http, tokens[sid], sid, i, events[i : i + 500])
        yield {"url": server.url, "office": office, "http": http}
    storage.close()


def test_report_page_shows_the_month_and_downloads_it(
    central: dict[str, Any], tmp_path: Path
) -> None:
    auth = {"Authorization": f"Bearer {central['office']}"}
    api = central["http"].get("/api/v1/reports", headers=auth).json()
    summary = next(v for v in api["views"] if v["name"] == "summary")["rows"]
    outside: list[str] = []
    with playwright_api.sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1500, "height": 1100}, accept_downloads=True)
        page.on(
            "request",
            lambda r: outside.append(r.url) if not r.url.startswith(central["url"]) else None,
        )
        # the browser's "now" is today, not the test's December: choose November explicitly
        page.goto(f"{central['url']}/dashboard/reports")
        page.wait_for_selector("#login-form", state="visible")
        page.fill("#token", central["office"])
        page.click("#login-form button[type=submit]")
        page.wait_for_selector("#stations input[value='WEST-02']")
        page.fill("#from", "2026-11-01")
        page.fill("#to", "2026-11-30")
        page.click("#choose button[type=submit]")
        page.wait_for_function("document.body.dataset.loaded === '2026-11-01/2026-11-30/month'")

        rows = page.locator("#table tbody tr")
        assert rows.count() == 4
        header = page.locator("#table thead th").all_inner_texts()
        assert "服务人次 people served" in header
        served_col = header.index("服务人次 people served")
        for i, row in enumerate(summary):
            cells = rows.nth(i).locator("td").all_inner_texts()
            assert cells[3] == row["station"]
            assert cells[served_col] == str(row["served"])
        assert "fleet" in (rows.nth(3).get_attribute("class") or "")
        bars = page.locator("#chart-hours .point").count()
        assert bars >= 12  # people are served in at least the daytime hours

        shot = tmp_path / "reports.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 40_000
        if os.environ.get("STATION_UPDATE_SCREENSHOTS") == "1":
            shutil.copyfile(shot, DOCS_SHOT)

        page.click("#views button[data-view='tools']")
        assert "T-DRILL" in page.inner_text("#table")

        # two stations, per week: six week rows (the first and last are one day) x three
        page.select_option("#period", "week")
        page.check("#stations input[value='EAST-01']")
        page.check("#stations input[value='SOUTH-03']")
        page.click("#views button[data-view='summary']")
        page.click("#choose button[type=submit]")
        page.wait_for_function("document.body.dataset.loaded === '2026-11-01/2026-11-30/week'")
        page.click("#views button[data-view='summary']")
        text = page.inner_text("#table tbody")
        assert "WEST-02" not in text and "EAST-01" in text
        assert page.locator("#table tbody tr").count() == 6 * 3

        with page.expect_download() as info:
            page.click("#xlsx")
        saved = tmp_path / "report.xlsx"
        info.value.save_as(saved)
        book = openpyxl.load_workbook(saved)
        assert book.sheetnames == ["summary", "tools", "hours", "supplies", "notices"]
        assert book["summary"].max_row == 1 + 6 * 3
        browser.close()
    assert outside == [], f"the page fetched from elsewhere: {outside}"
