"""The panel table: deploy/kiosk/foot.ini, docs/ui.md and the grids the layout walks use
(tests/ui/test_layout_walks.py, which checks every screen at each of them) are one table."""

from __future__ import annotations

import re
from pathlib import Path

from tests.ui.layout import PANEL_GRIDS


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
