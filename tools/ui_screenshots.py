"""Screenshots of the touchscreen for the docs: PNGs at the 7-inch panel's grid, both languages.

    .venv/bin/python tools/ui_screenshots.py [--size 66x13] [--out docs/screenshots]

A stocked simulated station runs in a process of its own (tests/ui/station_proc.py); the app
is driven by taps to Home, the keypad, an open door and the staff's door grid, exactly as the
snapshot tests walk there (their steps are reused), and each screen is exported by Textual as
SVG. Debian's Chromium then draws each SVG and saves it as PNG (CJK glyphs need
fonts-noto-cjk). Writes ui-<screen>-<lang>-<cols>x<rows>.png and prints each file it wrote.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.chromium import CHROMIUM, launch  # noqa: E402
from tests.ui import test_snapshots as walks  # noqa: E402
from tests.ui.kiosk import Kiosk, build_app  # noqa: E402
from tests.ui.station_proc import EXTRA_PHONES, RemoteStation, start  # noqa: E402


async def staff_doors(kiosk: Kiosk, variant: walks.Variant) -> None:
    """The maintenance screen's doors (paged at the small grids: the first page)."""
    await walks.staff_login(kiosk, variant)
    await kiosk.until(lambda: kiosk.screen.query(".door"), what="the door grid")


SCREENS = {
    "home": walks.at_home,
    "keypad": walks.phone_entered,
    "door": walks.door_open,
    "staff-doors": staff_doors,
}


def variants(size: tuple[int, int]) -> list[walks.Variant]:
    """One per language, each with a tool and members of its own (they share the station)."""
    return [
        walks.Variant("zh", size, "T-LADDER-1", "A01", EXTRA_PHONES[0], EXTRA_PHONES[3]),
        walks.Variant("en", size, "T-HAMMER-1", "A04", EXTRA_PHONES[1], EXTRA_PHONES[4]),
    ]


async def export(station: RemoteStation, screen: str, variant: walks.Variant) -> str:
    app = build_app(station, language=variant.language)
    async with app.run_test(size=variant.size) as pilot:
        kiosk = Kiosk(app, pilot, station)
        await kiosk.home()
        await SCREENS[screen](kiosk, variant)
        await kiosk.settled()
        await pilot.pause(0.3)
        return app.export_screenshot(title=f"{screen} {variant.language}")


_RUN = re.compile(r'textLength="([0-9.]+)"([^>]*)>([^<]*)</text>')


def wide_glyphs_fixed(svg: str) -> str:
    """Rich's SVG export sizes each run of text by its characters, not its cells, so Chinese
    (two cells a character) is squeezed into half its width; size each run by its cells."""
    from rich.cells import cell_len

    def fix(m: re.Match[str]) -> str:
        text = html.unescape(m[3])
        cells, chars = cell_len(text), len(text)
        if not chars or cells == chars:
            return m[0]
        width = float(m[1]) / chars * cells
        return f'textLength="{width:.1f}"{m[2]}>{m[3]}</text>'

    return _RUN.sub(fix, svg)


def to_png(svgs: dict[Path, str]) -> None:
    from playwright.sync_api import sync_playwright

    if CHROMIUM is None:
        raise SystemExit("Debian's chromium is needed to turn the SVGs into PNGs")
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(device_scale_factor=1)
        for path, svg in svgs.items():
            page.set_content(f"<html><body style='margin:0'>{wide_glyphs_fixed(svg)}</body></html>")
            page.locator("svg").first.screenshot(path=str(path))
            print(path)
        browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="66x13", help="terminal grid, columns x rows")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = parser.parse_args()
    cols, rows = (int(n) for n in args.size.split("x"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    svgs: dict[Path, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        station = start(Path(tmp))
        try:
            for variant in variants((cols, rows)):
                for screen in SCREENS:
                    name = f"ui-{screen}-{variant.language}-{cols}x{rows}.png"
                    svgs[out / name] = asyncio.run(export(station, screen, variant))
        finally:
            station.stop()
    to_png(svgs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
