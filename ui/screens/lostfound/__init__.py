"""Lost and found: handing in, browsing and claiming; its Home tile."""

from __future__ import annotations

from textual.screen import Screen

from ui.screens.tiles import Tile


def _lost() -> Screen:
    from ui.screens.lostfound.lost import LostMenuScreen

    return LostMenuScreen()


TILES = (Tile("lost", "home.lost", "home.lost.hint", _lost),)
