"""Every button's words fit inside it at the smallest screen, in both languages.

Chinese characters take two cells: a label that fits in English may not in Chinese, and the
other way round. Walk the screens at 80x24 and check each visible button's lines.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.widgets import Button

from tests.simstation import SimStation
from tests.ui.kiosk import STAFF_NO, STAFF_PIN, FakeMonotonic, Kiosk, build_app, visible
from tests.ui.layout import PANEL_GRIDS


def overflowing(kiosk: Kiosk) -> list[str]:
    """Buttons whose label is not shown whole (cut, or wrapped past the button's height)."""
    bad = []
    for button in kiosk.screen.query(Button):
        if not visible(button):
            continue
        shown = "".join(button.render_line(y).text for y in range(button.region.height))
        words = "".join(str(button.label).split())
        if words not in "".join(shown.split()):
            bad.append(f"{type(kiosk.screen).__name__} #{button.id}: {str(button.label)!r}")
    return bad


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_labels_fit_at_80x24(station: SimStation, language: str) -> None:
    app = build_app(station, monotonic=FakeMonotonic(), language=language)
    async with app.run_test(size=(80, 24)) as pilot:
        kiosk = Kiosk(app, pilot, station)
        bad: list[str] = []

        async def look(screen: str) -> None:
            await kiosk.on(screen)
            bad.extend(overflowing(kiosk))

        await look("HomeScreen")
        for tile, screen in (
            ("#tile-borrow", "BorrowToolsScreen"),
            ("#tile-lost", "LostMenuScreen"),
            ("#tile-storage", "StorageMenuScreen"),
        ):
            await kiosk.tap(tile)
            await look(screen)
            await kiosk.tap("#back")
            await kiosk.home()
        await kiosk.tap("#tile-lost")
        await kiosk.tap("#choice-handin")
        await look("CategoryScreen")
        await kiosk.tap("#choice-keys")
        await look("ColourScreen")
        await kiosk.tap("#choice-black")
        await look("PlaceScreen")
        await kiosk.tap("#choice-place-0")
        await look("FinderPhoneScreen")
        await kiosk.tap("#back")
        await kiosk.tap("#back")
        await kiosk.tap("#back")
        await kiosk.tap("#back")
        await kiosk.tap("#back")
        await kiosk.home()
        await kiosk.tap("#staff")
        await kiosk.keypad(STAFF_NO)
        await kiosk.tap("#next")
        await kiosk.keypad(STAFF_PIN)
        await kiosk.tap("#next")
        await look("MaintenanceScreen")
        for section in ("alarms", "tools", "lost", "supplies", "storage", "sync", "selftest"):
            await kiosk.tap(f"#sec-{section}")
            await kiosk.settled()
            bad.extend(overflowing(kiosk))
        await kiosk.tap("#sec-doors")
        await kiosk.settled()
        await kiosk.tap("#door-A03")
        await look("DoorActionScreen")
        assert not bad, "\n".join(bad)


def test_the_panel_table_is_the_tested_grids() -> None:
    """foot.ini's and docs/ui.md's panel tables give exactly the panel grids of the layout
    helpers (tests/ui/layout.py)."""
    root = Path(__file__).resolve().parents[2]
    foot = (root / "deploy/kiosk/foot.ini").read_text()
    docs = (root / "docs/ui.md").read_text()
    cells = r"^#\s+\d+ inch .* (\d+) x (\d+)\s+\d\.\d mm$"
    in_foot = [tuple(map(int, g)) for g in re.findall(cells, foot, re.M)]
    assert in_foot == PANEL_GRIDS
    table = docs[docs.index("| panel |") :].split("\n\n")[0]
    cells_column = [row.split("|")[5].strip() for row in table.splitlines()[2:]]
    assert [tuple(map(int, c.split("x"))) for c in cells_column] == PANEL_GRIDS
