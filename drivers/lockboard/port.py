"""The lock-board port: what the station needs from any backend that drives doors.

The station's locker service is written against this protocol only, as gpiozero devices are
written against a pin factory: the same service drives RS485 boards, GPIO relays and the
simulator. Backends never guess a door's state: a board that does not answer raises
BoardUnavailable and the service marks its doors unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable


class DoorReading(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class BoardUnavailable(Exception):
    """The board did not answer (timeout, bad frames, adapter gone): its doors are unknown."""


class UnlockUncertain(Exception):
    """An unlock was sent but not confirmed: the board may or may not have fired.

    Never answered by re-sending: the caller watches the door instead.
    """


@dataclass(frozen=True, slots=True)
class BoardStatus:
    """One status read: a reading for every channel the backend can sense (1-based)."""

    doors: dict[int, DoorReading]
    items: dict[int, bool] | None = None
    """Compartment 'item present' sensors where the board has them."""


@runtime_checkable
class LockBoard(Protocol):
    """One addressable board (or GPIO bank) with `channels` doors numbered from 1."""

    @property
    def board_id(self) -> str: ...

    @property
    def channels(self) -> int: ...

    async def unlock(self, channel: int) -> None:
        """Fire one lock once. Raises UnlockUncertain when the board's answer is missing."""
        ...

    async def read_status(self) -> BoardStatus:
        """Read every door. Raises BoardUnavailable when the board cannot be read now."""
        ...

    async def close(self) -> None:
        """Release the port or pins; the board is not used again."""
        ...
