"""The lock-board port: what the station needs from any backend that drives doors.

The station's locker service is written against this protocol only, as gpiozero devices are
written against a pin factory: the same service drives RS485 boards, GPIO relays and the
simulator. Backends never guess a door's state: a board that does not answer raises
BoardUnavailable and the service marks its doors unknown.
"""

from __future__ import annotations

from collections.abc import Callable
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

    Never answered by re-sending: the caller watches the door instead. `reading` is the
    board's doors read right after the unlock, where the backend read them (a door that opened
    briefly is seen in it).
    """

    def __init__(self, message: str, reading: BoardStatus | None = None) -> None:
        super().__init__(message)
        self.reading = reading


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

    async def unlock(
        self, channel: int, before_send: Callable[[], None] | None = None
    ) -> BoardStatus | None:
        """Fire one lock once. Raises UnlockUncertain when the board's answer is missing.

        `before_send` (blocking: it runs on a worker thread, e.g. the audit's commit) runs
        just before the command goes out; if it raises, nothing is sent and its error passes
        through. Returns the board's doors where the backend read them right after the unlock.
        """
        ...

    async def read_status(self) -> BoardStatus:
        """Read every door. Raises BoardUnavailable when the board cannot be read now."""
        ...

    async def close(self) -> None:
        """Release the port or pins; the board is not used again."""
        ...


@runtime_checkable
class AnnouncesUnlocks(Protocol):
    """A board on a shared bus that can be told an unlock is coming before it is called, so
    that a status read which has not started yet does not take the bus just ahead of it (the
    unlock would wait a whole exchange). GPIO banks have no bus and do not implement it."""

    def expect_unlock(self) -> Callable[[], None]:
        """Reads not yet started wait (briefly) for the unlock; returns the release for a
        caller that ends without unlocking."""
        ...
