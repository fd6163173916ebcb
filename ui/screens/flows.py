"""Where each Home tile leads: the first step of its flow."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ui.app import StationApp


def start_flow(app: StationApp, name: str) -> None:
    from ui.screens.deposits.storage import StorageMenuScreen
    from ui.screens.lending.tools import BorrowToolsScreen, ReturnToolsScreen
    from ui.screens.lostfound.lost import LostMenuScreen

    screens = {
        "borrow": BorrowToolsScreen,
        "return": ReturnToolsScreen,
        "lost": LostMenuScreen,
        "storage": StorageMenuScreen,
    }
    app.push_screen(screens[name]())
