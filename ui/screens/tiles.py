"""The Home tiles, one list: each service folder under ui/screens/ offers its own.

A tile opens the first screen of its flow. The screen is imported when the tile is tapped, not
when Home starts, so the kiosk comes up without loading every service's screens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual.screen import Screen


@dataclass(frozen=True, slots=True)
class Tile:
    name: str
    title: str
    """Catalogue key of the tile's headline (ui/i18n.py)."""
    hint: str
    """Catalogue key of the line under it."""
    opens: Callable[[], Screen]


def home_tiles() -> tuple[Tile, ...]:
    """Every service's tiles, in the order Home shows them: register a new service here."""
    from ui.screens import deposits, lending, lostfound, pickup

    return (*pickup.TILES, *lending.TILES, *lostfound.TILES, *deposits.TILES)
