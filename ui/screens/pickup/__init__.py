"""Picking up with a code (a deposit or an approved lost-item claim); its Home tile."""

from __future__ import annotations

from textual.screen import Screen

from ui.screens.tiles import Tile


def _pickup() -> Screen:
    from ui.screens.pickup.code import PickupCodeScreen

    return PickupCodeScreen()


TILES = (Tile("pickup", "home.pickup", "home.pickup.hint", _pickup),)
