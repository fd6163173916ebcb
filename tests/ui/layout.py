"""What a finger needs from every screen, checked at every panel grid.

`PANEL_GRIDS` is the table in deploy/kiosk/foot.ini and docs/ui.md (the cells the kiosk
terminal gives the UI on each panel); `GRIDS` adds the sizes of a desktop terminal. `problems`
lists, for the screen on top, every button that a person could not use: partly off the
screen, covered by something else, lower than 3 rows, whose centre does not reach it, or whose
words are cut; and every text that is off the screen or hidden under another widget.
`every_page` pages a paged list to its end and returns what it showed, so a test can check
that each locker, tool, supply and item is reachable.
"""

from __future__ import annotations

import asyncio
from typing import Any

from textual.widget import Widget
from textual.widgets import Button, Digits, Static

from tests.ui.kiosk import Kiosk, visible

PANEL_GRIDS = [(66, 13), (68, 13), (85, 18)]
"""7 inch 800x480, 7 inch 1024x600, 10 inch 1280x800 (deploy/kiosk/foot.ini)."""
GRIDS = [*PANEL_GRIDS, (80, 24), (100, 30)]
MIN_TARGET_ROWS = 3


def _reaches(kiosk: Kiosk, widget: Widget, x: int, y: int) -> bool:
    try:
        hit, _ = kiosk.app.get_widget_at(x, y)
    except Exception:  # nothing there (off the screen)
        return False
    return hit is widget or widget in hit.ancestors


def _name(kiosk: Kiosk, widget: Widget) -> str:
    size = kiosk.app.size
    label = str(widget.label) if isinstance(widget, Button) else ""
    return f"{size.width}x{size.height} {type(kiosk.screen).__name__} #{widget.id} {label!r}"


def problems(kiosk: Kiosk) -> list[str]:
    """Everything on the top screen a person could not read or hit (empty: all is well)."""
    width, height = kiosk.app.size
    bad: list[str] = []
    for widget in kiosk.screen.query("*"):
        if not visible(widget) or widget.region.area == 0:
            if isinstance(widget, Button) and visible(widget):
                bad.append(f"{_name(kiosk, widget)}: no room at all")
            continue
        r = widget.region
        if isinstance(widget, Button):
            if r.x < 0 or r.y < 0 or r.right > width or r.bottom > height:
                bad.append(f"{_name(kiosk, widget)}: off the screen at {r}")
                continue
            if r.height < MIN_TARGET_ROWS:
                bad.append(f"{_name(kiosk, widget)}: {r.height} rows high")
            right, bottom = r.right - 1, r.bottom - 1
            corners = [(r.x, r.y), (right, r.y), (r.x, bottom), (right, bottom)]
            centre = (r.x + r.width // 2, r.y + r.height // 2)
            if not _reaches(kiosk, widget, *centre):
                bad.append(f"{_name(kiosk, widget)}: a tap at its centre misses it")
            elif not all(_reaches(kiosk, widget, x, y) for x, y in corners):
                bad.append(f"{_name(kiosk, widget)}: partly covered")
            shown = "".join(widget.render_line(y).text for y in range(r.height))
            words = "".join(str(widget.label).split())
            if words not in "".join(shown.split()):
                bad.append(f"{_name(kiosk, widget)}: words cut, shows {shown.strip()!r}")
        elif isinstance(widget, Static | Digits) and not any(
            isinstance(a, Button) for a in widget.ancestors
        ):
            if r.y < 0 or r.bottom > height or r.right > width:
                bad.append(f"{_name(kiosk, widget)}: text off the screen at {r}")
            elif not _reaches(kiosk, widget, r.x, r.y) or not _reaches(
                kiosk, widget, r.x, r.bottom - 1
            ):
                bad.append(f"{_name(kiosk, widget)}: text covered")
    return bad


async def every_page(kiosk: Kiosk, item: str, next_button: str) -> list[str]:
    """Ids of the `item` buttons on every page, paging with `next_button` to the last one.

    A page is read after it is drawn; paging forward never needs more than the list's length
    in taps.
    """
    seen: list[str] = []
    for _ in range(100):
        await kiosk.redrawn()
        seen += [str(b.id) for b in kiosk.screen.query(item) if visible(b)]
        found = kiosk.screen.query(next_button)
        nxt = found.first() if found else None
        if nxt is None or not visible(nxt) or nxt.disabled:
            break
        await kiosk.tap(next_button)
    # Back to the first page, so the walk goes on from where a person starts.
    prev = next_button.replace("next", "prev")
    for _ in range(100):
        found = kiosk.screen.query(prev)
        if not found or not visible(found.first()) or found.first().disabled:
            break
        await kiosk.tap(prev)
        await kiosk.redrawn()
    return seen


def all_choice_keys(kiosk: Kiosk) -> list[str]:
    from ui.screens.common import ChoiceScreen, widget_id

    screen: Any = kiosk.screen
    assert isinstance(screen, ChoiceScreen), f"{type(screen).__name__}:\n{kiosk.text}"
    return [widget_id(c.key) for c in screen._choices]


async def lasting_problems(kiosk: Kiosk, rounds: int = 20) -> list[str]:
    """`problems` that outlast the screen's own refits. A list repages itself a refresh after
    a resize or a language change; on a loaded machine the frame in between can be what a
    first look sees, and no person ever sees it. What is still wrong after `rounds` redraws
    is reported."""
    found = problems(kiosk)
    for _ in range(rounds):
        if not found:
            break
        await kiosk.redrawn(rounds=3)
        await asyncio.sleep(0.05)
        found = problems(kiosk)
    return found


async def at_every_grid(kiosk: Kiosk, bad: list[str]) -> None:
    """`problems` of the screen on top at each grid in turn, then back at the grid it was at
    (a walk taps at one grid and lays each screen out at all of them: one walk, every grid)."""
    walk = kiosk.app.size
    for width, height in GRIDS:
        if (width, height) != walk:
            await kiosk.pilot.resize_terminal(width, height)
            await kiosk.settled()
        bad.extend(await lasting_problems(kiosk))
    await kiosk.pilot.resize_terminal(walk.width, walk.height)


async def look(kiosk: Kiosk, screen: str, bad: list[str]) -> None:
    """Wait for `screen`, then add its problems at every grid to `bad`."""
    await kiosk.on(screen)
    await kiosk.settled()
    await at_every_grid(kiosk, bad)
