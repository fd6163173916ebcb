"""The small specs the lock-board drivers take: what a board and its bus are, in driver terms.

The drivers import nothing of the station: the station maps its checked config onto these
records (station/boards.py), tests and tools build them directly. Each holds only what its
driver needs, already in the driver's units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from drivers.lockboard.feedback import Feedback

WireProtocol = Literal["cu", "dip8"]
"""A byte protocol spoken on an RS485 line."""


@dataclass(frozen=True, slots=True)
class BusTiming:
    """How one bus waits: for answers, for a quiet line, for an adapter to come back."""

    answer_s: float
    """How long a board may take to answer."""
    quiet_s: float
    """Silence that counts as a resynchronised line."""
    late_s: float
    """After a timeout, bytes heard this long afterwards are taken as a late answer."""
    reconnect_min_s: float
    reconnect_max_s: float

    @classmethod
    def from_ms(cls, answer_ms: int, quiet_ms: int, reconnect_max_s: float) -> BusTiming:
        answer = answer_ms / 1000
        return cls(
            answer_s=answer,
            quiet_s=quiet_ms / 1000,
            late_s=answer,
            reconnect_min_s=min(0.1, reconnect_max_s),
            reconnect_max_s=reconnect_max_s,
        )


@dataclass(frozen=True, slots=True)
class SerialBoardSpec:
    """One addressed board on an RS485 adapter."""

    id: str
    protocol: WireProtocol
    port: str
    """Serial device (a /dev/serial/by-id/... path, a udev symlink or a simulator's pty link)."""
    baud: int
    address: int
    channels: int
    feedback: Feedback = "closed"
    """What a set feedback bit means for this board's wiring."""
    item_sensor: bool = False
    """The board reports 'item present' per compartment (cu boards with infrared sensors)."""
