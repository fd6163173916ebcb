"""`station ui --web` in Debian's Chromium at the panels' 800x480 and 1280x800.

A stocked simulated station runs in a process of its own (tests/ui/station_proc.py), the web
UI in another (`python -m ui --web`, textual-serve on loopback), and headless Chromium opens
the page as a Chromium kiosk would: the page must name the app by its title from the catalogue,
its terminal must start and fill the window, and the screenshot must show Home: each of the
four service tiles' colours over a good part of the screen (the terminal is drawn on a canvas,
so its words are not in the DOM; docs/screenshots/web-home-*.png show them). A screenshot per
size is kept with the test's output (tmp_path); with STATION_UPDATE_SCREENSHOTS=1 it is also
copied to docs/screenshots/web-home-<size>.png (a test run must not change tracked files).
Only loopback is reached: anything else the page asks for (the Google font textual-serve's
page names) is refused, as on a kiosk without internet.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import tomli_w

from tests.chromium import colour_shares, launch, needs_chromium
from tests.simstation import TOKENS
from tests.ui.conftest import station_data
from tests.ui.station_proc import ROOT, start

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
pytest.importorskip("textual_serve", reason="textual-serve is the [web] extra")
pytestmark = needs_chromium

SIZES = [(800, 480), (1280, 800)]
DOCS = ROOT / "docs" / "screenshots"
TILES = ["#0b6e4f", "#1b5e99", "#7a3fa0", "#9a5a00"]
"""Home's service tiles (ui/theme.tcss #tile-borrow, -return, -lost, -storage)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def web_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("web")
    station = start(directory / "station")
    data = station_data(directory / "station")
    port = _free_port()
    data["ui"] = {
        "daemon_url": station.url,
        "token": TOKENS["kiosk"],
        "web_bind": "127.0.0.1",
        "web_port": port,
    }
    config = directory / "station.toml"
    config.write_text(tomli_w.dumps(data), encoding="utf-8")
    log = (directory / "web.log").open("w")
    web = subprocess.Popen(
        [sys.executable, "-m", "ui", "--web", "--config", str(config)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert web.poll() is None, (directory / "web.log").read_text()
            assert time.monotonic() < deadline, "the web UI did not answer within 60 s"
            time.sleep(0.2)
        yield url
    finally:
        web.terminate()
        try:
            web.wait(timeout=10)
        except subprocess.TimeoutExpired:
            web.kill()
        log.close()
        station.stop()


@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_the_web_ui_shows_home_in_chromium(
    web_url: str, tmp_path: Path, width: int, height: int
) -> None:
    outside: list[str] = []
    with playwright_api.sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": width, "height": height})

        def only_loopback(route) -> None:
            if route.request.url.startswith(web_url):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        page.route("**/*", only_loopback)
        page.goto(web_url)
        page.wait_for_function(
            "() => document.body.classList.contains('-first-byte')", timeout=60_000
        )
        assert "共享益站" in page.inner_text(".intro-dialog .intro")
        box = page.locator("#terminal").bounding_box()
        assert box is not None and box["width"] > 0.95 * width and box["height"] > 0.95 * height
        shares: dict[str, float] = {}
        for _ in range(60):  # the app starts in a process of its own: Home comes when it can
            png = page.screenshot()
            shares = colour_shares(browser, png, TILES)
            if all(share > 0.04 for share in shares.values()):
                break
            page.wait_for_timeout(500)
        browser.close()
    shot = tmp_path / f"web-home-{width}x{height}.png"
    shot.write_bytes(png)
    assert all(share > 0.04 for share in shares.values()), shares
    if os.environ.get("STATION_UPDATE_SCREENSHOTS") == "1":
        shutil.copyfile(shot, DOCS / shot.name)
    assert not [u for u in outside if "fonts.googleapis.com" not in u], outside
