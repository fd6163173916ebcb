"""Borrowing and returning tools: the lending service's screens and its Home tiles."""

from __future__ import annotations

from textual.screen import Screen

from ui.screens.tiles import Tile


def _borrow() -> Screen:
    from ui.screens.lending.tools import BorrowToolsScreen

    return BorrowToolsScreen()


def _return() -> Screen:
    from ui.screens.lending.tools import ReturnToolsScreen

    return ReturnToolsScreen()


TILES = (
    Tile("borrow", "home.borrow", "home.borrow.hint", _borrow),
    Tile("return", "home.return", "home.return.hint", _return),
)
