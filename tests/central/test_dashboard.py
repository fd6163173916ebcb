"""The fleet dashboard in headless Chromium (Debian's), driven by Playwright.

Central runs on uvicorn with a week of history from four stations, delivered through the real
ingest endpoint: one station healthy, one with a door forced open, one silent for an hour
(offline) and one never connected. The page must load with nothing from the internet, ask
for the office token, show the stations with the offline one standing out, draw its charts,
and pick up a new alarm by itself. A screenshot is kept with the test's output; with
STATION_UPDATE_SCREENSHOTS=1 it is also copied to docs/screenshots/dashboard.png (a test run
must not change tracked files by itself).
"""

from __future__ import annotations

import gzip
import json
import os
import random
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from central.app import create_app
from central.auth import new_token, token_hash
from central.server import BackgroundServer
from central.settings import CentralSettings
from central.storage.sqlite import SQLiteStorage
from tests.chromium import launch, needs_chromium

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")

pytestmark = needs_chromium
DOCS_SHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "dashboard.png"
STATIONS = {
    "EAST-01": "东门站",
    "WEST-02": "西门站",
    "SOUTH-03": "南湖公园站",
    "NORTH-04": "北站",
}


class CentralClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Seeded:
    url: str
    office: str
    tokens: dict[str, str]
    clock: CentralClock
    seqs: dict[str, int]
    http: httpx.Client


def snapshot(station: str, at: float, *, forced: bool = False, lag: float = 3.0) -> dict:
    """A compact snapshot in the shape stations send (station/telemetry/service.py)."""
    alarms = []
    if forced:
        alarms.append(
            {
                "id": 7,
                "type": "forced_open",
                "subject": "A03",
                "state": "raised",
                "detail": "door A03 opened with no unlock",
                "raised_at": at - 300,
                "acked_at": None,
            }
        )
    return {
        "v": 1,
        "station": station,
        "name": STATIONS[station],
        "software": "0.1.0",
        "at": at,
        "clock_synced": True,
        "up_since": at - 86_400,
        "uptime_s": 86_400,
        "doors": {
            "total": 16,
            "open": 1 if forced else 0,
            "closed": 15 if forced else 16,
            "unknown": 0,
            "faulty": 0,
            "open_ids": ["A03"] if forced else [],
            "unknown_ids": [],
            "faulty_items": [],
            "boards_offline": [],
        },
        "alarms": {
            "open": len(alarms),
            "by_type": {"forced_open": len(alarms)},
            "items": alarms,
        },
        "occupancy": {
            "present": True,
            "state": "occupied" if station == "EAST-01" else "vacant",
            "since": at - 600,
            "today": {"date": "", "occupied_minutes": 42.0, "sessions": 5},
            "sensors_offline": [],
            "relays": {},
        },
        "tools": {"present": True, "out": 2, "overdue": 0, "overdue_items": []},
        "lost_found": {"present": True, "waiting": 1},
        "supplies": {"present": True, "low": 0, "uncounted": [], "items": []},
        "health": {
            "cpu_temp_c": 52.5,
            "disk_free_bytes": 20e9,
            "disk_total_bytes": 32e9,
            "rss_bytes": 80e6,
            "mem_available_bytes": 2.5e9,
            "clock_synced": True,
        },
        "sync": {"pending": 0, "lag_s": lag, "cursor": 1, "last_error": None},
    }


def history_events(
    rng: random.Random, start: float, days: int, station: str, until: float
) -> list[dict]:
    """A week of a station's day: rest-area sessions peaking at midday, loans, door openings."""
    events: list[dict] = []
    busy = {"EAST-01": 1.0, "WEST-02": 0.6, "SOUTH-03": 0.3}[station]
    for day in range(days):
        base = start + day * 86_400
        for hour in range(7, 22):
            if rng.random() < busy * (1.2 - abs(hour - 13) / 10):
                begin = base + hour * 3600 + rng.uniform(0, 1800)
                end = begin + rng.uniform(300, 1800)
                events.append(
                    {
                        "type": "occupancy_session",
                        "ts": end,
                        "payload": {"started_at": begin, "ended_at": end, "end_reason": "vacant"},
                    }
                )
        for _ in range(int(rng.uniform(1, 8) * busy) + 1):
            t = base + rng.uniform(8, 20) * 3600
            events.append({"type": "door_unlocked", "ts": t, "payload": {"reason": "loan"}})
            events.append({"type": "loan_started", "ts": t + 2, "payload": {"tool_id": "T1"}})
    return sorted((e for e in events if e["ts"] < until), key=lambda e: e["ts"])


def post(http: httpx.Client, token: str, body: dict) -> None:
    raw = gzip.compress(json.dumps(body).encode())
    r = http.post(
        "/api/v1/ingest",
        content=raw,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Encoding": "gzip",
            "Content-Type": "application/json",
        },
    )
    assert r.status_code == 200, r.text


def send(seeded: Seeded, station: str, events: list[dict], telemetry: dict) -> None:
    after = seeded.seqs[station]
    wire = []
    for i, e in enumerate(events, start=after + 1):
        wire.append(
            {
                "seq": i,
                "id": f"{station}-{i}",
                "type": e["type"],
                "ts": e["ts"],
                "ts_corrected": None,
                "mono": float(i),
                "boot_id": "b1",
                "clock_synced": True,
                "actor": "system",
                "locker": None,
                "payload": e["payload"],
            }
        )
    body = {"station": station, "after": after, "telemetry": telemetry, "events": wire}
    post(seeded.http, seeded.tokens[station], body)
    seeded.seqs[station] = after + len(events)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    now = time.time()
    clock = CentralClock(now - 86_400)
    storage = SQLiteStorage(tmp_path_factory.mktemp("central") / "central.db")
    tokens = {}
    for sid, name in STATIONS.items():
        tokens[sid] = new_token()
        storage.add_station(sid, name, token_hash(tokens[sid]), now - 8 * 86_400)
    office = new_token()
    storage.add_office_token("office", token_hash(office), now)
    settings = CentralSettings(offline_after_s=600, sample_every_s=1800)
    with (
        BackgroundServer(create_app(storage, settings, clock=clock)) as server,
        httpx.Client(base_url=server.url, timeout=30) as http,
    ):
        s = Seeded(server.url, office, tokens, clock, {sid: 0 for sid in STATIONS}, http)
        rng = random.Random(7)
        start = now - 7 * 86_400
        start -= start % 86_400 + 8 * 3600  # local (UTC+8) midnight a week ago
        for sid in ("EAST-01", "WEST-02", "SOUTH-03"):
            events = history_events(rng, start, 8, sid, until=now - 86_400)
            send(s, sid, events, snapshot(sid, clock.now))
        # a day of heartbeats every 40 minutes; SOUTH-03 falls silent an hour ago
        for step in range(36):
            clock.now = now - (35 - step) * 2400 - 30
            for sid in ("EAST-01", "WEST-02", "SOUTH-03"):
                if sid == "SOUTH-03" and clock.now > now - 3600:
                    continue
                lag = 3 + 40 * (sid == "WEST-02") * (1 + (step % 6 == 0) * 20)
                forced = sid == "EAST-01" and step > 30
                send(s, sid, [], snapshot(sid, clock.now, forced=forced, lag=lag))
        clock.now = now
        yield s
    storage.close()


def test_dashboard_shows_the_fleet_and_its_charts(seeded: Seeded, tmp_path: Path) -> None:
    outside: list[str] = []
    report = {
        "id": "ab" * 16,
        "station": "EAST-01",
        "version": "1.2.0",
        "from_version": "1.1.0",
        "status": "rolled_back",
        "detail": "not healthy within 120 s",
        "finished_at": seeded.clock.now,
    }
    r = seeded.http.post(
        "/api/v1/station/update-report",
        json=report,
        headers={"Authorization": f"Bearer {seeded.tokens['EAST-01']}"},
    )
    assert r.status_code == 200, r.text
    with playwright_api.sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1600, "height": 1400})
        page.on(
            "request",
            lambda r: outside.append(r.url) if not r.url.startswith(seeded.url) else None,
        )
        page.goto(f"{seeded.url}/dashboard?refresh=2")
        page.wait_for_selector("#login-form", state="visible")
        page.fill("#token", seeded.office)
        page.click("#login-form button[type=submit]")
        page.wait_for_selector("tr[data-station='NORTH-04']", timeout=15_000)

        rows = page.locator("#stations tbody tr")
        assert rows.count() == 4
        text = page.inner_text("#stations")
        for sid, name in STATIONS.items():
            assert sid in text and name in text
        south = page.locator("tr[data-station='SOUTH-03']")
        assert "status-offline" in (south.get_attribute("class") or "")
        assert "offline" in south.inner_text()
        background = south.locator("td").first.evaluate("e => getComputedStyle(e).backgroundColor")
        assert background == "rgb(253, 232, 234)"  # the offline row stands out in red
        assert "never" in page.locator("tr[data-station='NORTH-04']").inner_text()
        east = page.locator("tr[data-station='EAST-01']").inner_text()
        assert "door forced open" in east and "critical" in east
        assert "last 1.2.0: rolled_back (not healthy within 120 s)" in east
        assert "forced_open" in page.inner_text("#alarms")

        for chart in ("chart-occupancy", "chart-loans", "chart-sync"):
            svg = page.locator(f"#{chart} .main-svg").first
            box = svg.bounding_box()
            assert box and box["width"] > 300 and box["height"] > 200, chart
            traces = page.locator(f"#{chart} .trace").count()
            assert traces >= 3, (chart, traces)
        # the occupancy chart has real points: hours with use draw markers
        assert page.locator("#chart-occupancy .point").count() >= 24

        shot = tmp_path / "dashboard.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 50_000
        if os.environ.get("STATION_UPDATE_SCREENSHOTS") == "1":
            shutil.copyfile(shot, DOCS_SHOT)

        # live: a new alarm at WEST-02 shows up without reloading
        alarm = {
            "id": 9,
            "type": "door_jammed",
            "subject": "A07",
            "state": "raised",
            "detail": "door A07 did not open",
            "raised_at": seeded.clock.now,
            "acked_at": None,
        }
        telemetry = snapshot("WEST-02", seeded.clock.now)
        telemetry["alarms"] = {"open": 1, "by_type": {"door_jammed": 1}, "items": [alarm]}
        send(seeded, "WEST-02", [], telemetry)
        page.wait_for_function(
            "document.querySelector('#alarms').innerText.includes('door_jammed')",
            timeout=15_000,
        )
        browser.close()
    assert outside == [], f"the page fetched from elsewhere: {outside}"


def test_a_refused_token_asks_again(seeded: Seeded) -> None:
    with playwright_api.sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page()
        page.goto(f"{seeded.url}/dashboard")
        page.fill("#token", seeded.tokens["EAST-01"])  # a station's token, not the office's
        page.click("#login-form button[type=submit]")
        page.wait_for_function(
            "document.querySelector('#login-error').innerText.includes('Token refused')"
        )
        assert page.locator("#board").is_hidden()
        assert page.evaluate("sessionStorage.getItem('fleet-office-token')") is None
        browser.close()


def test_markup_from_a_station_stays_text(seeded: Seeded) -> None:
    """A station's alarm detail is shown as text, never run as HTML."""
    telemetry = snapshot("EAST-01", seeded.clock.now, forced=True)
    telemetry["alarms"]["items"][0]["detail"] = '<img src=x onerror="window.pwned=1">'
    send(seeded, "EAST-01", [], telemetry)
    with playwright_api.sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page()
        page.goto(f"{seeded.url}/dashboard")
        page.fill("#token", seeded.office)
        page.click("#login-form button[type=submit]")
        page.wait_for_function("document.querySelector('#alarms').innerText.includes('<img')")
        assert page.evaluate("window.pwned") is None
        assert page.locator("#alarms img").count() == 0
        browser.close()
