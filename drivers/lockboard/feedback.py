"""What a lock's feedback bit means, decided in one place for every protocol and the simulator.

Boards report a raw bit per lock; whether a set bit means "door closed" or "door open" depends on
how the lock's feedback switch is wired, so it is a per-board setting (`feedback` in the config),
never a guess in a codec.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from drivers.lockboard.port import DoorReading

Feedback = Literal["closed", "open"]


def reading_for_bit(bit: bool, feedback: Feedback) -> DoorReading:
    set_means = DoorReading.CLOSED if feedback == "closed" else DoorReading.OPEN
    clear_means = DoorReading.OPEN if feedback == "closed" else DoorReading.CLOSED
    return set_means if bit else clear_means


def readings_for_bits(
    bits: Sequence[bool], channels: int, feedback: Feedback
) -> dict[int, DoorReading]:
    """Doors 1..channels from raw bits (index 0 = channel 1); bits beyond `channels` are unused."""
    if len(bits) < channels:
        raise ValueError(f"{len(bits)} feedback bits cannot describe {channels} channels")
    return {ch: reading_for_bit(bits[ch - 1], feedback) for ch in range(1, channels + 1)}


def bit_for_reading(reading: DoorReading, feedback: Feedback) -> bool:
    """The bit a board reports for a door in this state (what the simulator puts on the wire)."""
    return (reading == DoorReading.CLOSED) == (feedback == "closed")
