"""Storage and charging lockers: deposits and their pickups; its Home tile."""

from __future__ import annotations

from textual.screen import Screen

from ui.screens.tiles import Tile


def _storage() -> Screen:
    from ui.screens.deposits.storage import StorageMenuScreen

    return StorageMenuScreen()


TILES = (Tile("storage", "home.storage", "home.storage.hint", _storage),)
