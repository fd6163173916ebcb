"""What the touchscreen's start builds and loads (issue 21: start to Home within 2x bare Textual).

The start shows the restarting screen until the daemon answers, then Home; only the frame's,
Home's and that screen's rules (ui/theme.tcss) are loaded until another screen opens; every
screen is built with the breakpoint classes its first Resize would give it.
"""

from __future__ import annotations

from ui.app import StationApp
from ui.screens.base import FLOWS_CSS
from ui.screens.home import HomeScreen
from ui.screens.restarting import RestartingScreen

from .kiosk import Kiosk


def loaded(app: StationApp) -> set[str]:
    """The files and classes whose CSS the app's stylesheet holds now."""
    return {str(path) for path, _ in app.stylesheet.source}


async def test_home_is_built_once_and_the_flows_stylesheet_waits_for_a_flow(kiosk: Kiosk) -> None:
    app = kiosk.app
    assert [type(s) for s in app.screen_stack[1:]] == [HomeScreen]
    assert FLOWS_CSS not in loaded(app)
    await kiosk.tap("#tile-borrow")
    await kiosk.sees("电钻")
    assert FLOWS_CSS in loaded(app)
    await kiosk.tap("#back")
    await kiosk.home()
    assert [type(s) for s in app.screen_stack[1:]] == [HomeScreen]


async def test_a_screen_is_built_with_the_breakpoint_classes_its_resize_gives(kiosk: Kiosk) -> None:
    """At 100x30 Textual's Resize makes a screen -tall and -wide; built in the running app, the
    screen has them before it is mounted, and no other breakpoint class."""
    built = RestartingScreen()
    breakpoints = {"-tiny", "-short", "-tall", "-narrow", "-wide"}
    assert built.classes & breakpoints == {"-tall", "-wide"}
    assert kiosk.app.screen.classes & breakpoints == {"-tall", "-wide"}


def test_a_screen_built_outside_an_app_gets_its_classes_from_textual_later() -> None:
    assert not RestartingScreen().classes
