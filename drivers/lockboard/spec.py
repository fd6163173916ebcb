"""The small specs the lock-board drivers take: what a board and its bus are, in driver terms.

The drivers import nothing of the station: the station maps its checked config onto these
records (station/doors/boards.py), tests and tools build them directly. Each holds only what its
driver needs, already in the driver's units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from drivers.lockboard.feedback import Feedback

WireProtocol = Literal["cu", "dip8"]
"""A byte protocol spoken on an RS485 line."""

UnlockAnswer = Literal["auto", "status", "ack", "none"]
"""What a board sends back to an unlock: a status frame, a short acknowledgement, nothing; or
"auto", learnt from what the board does."""


@dataclass(frozen=True, slots=True)
class BusTiming:
    """How one bus waits: for answers, for a quiet line, for an adapter to come back."""

    answer_s: float
    """How long a board may take to answer, where its own spec does not say."""
    quiet_floor_s: float
    """The shortest silence that counts as a resynchronised line, whatever the baud (a USB
    adapter hands bytes over in bursts some milliseconds apart)."""
    quiet_chars: int
    """Silence, in character times at the bus's baud, that counts as a resynchronised line."""
    reconnect_min_s: float
    reconnect_max_s: float

    @classmethod
    def from_ms(
        cls, answer_ms: int, quiet_ms: int, reconnect_max_s: float, quiet_chars: int = 10
    ) -> BusTiming:
        return cls(
            answer_s=answer_ms / 1000,
            quiet_floor_s=quiet_ms / 1000,
            quiet_chars=quiet_chars,
            reconnect_min_s=min(0.1, reconnect_max_s),
            reconnect_max_s=reconnect_max_s,
        )

    def quiet_s(self, baud: int) -> float:
        """A few character times (10 bits each, 8N1) at this baud, never under the floor."""
        return max(self.quiet_floor_s, self.quiet_chars * 10 / baud)


def wire_time_s(n_bytes: int, baud: int) -> float:
    """How long n bytes take on an 8N1 line."""
    return n_bytes * 10 / baud


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
    answer_s: float | None = None
    """How long this board may take to answer; None = the bus's default."""
    unlock_answer: UnlockAnswer = "auto"
    """cu only: what answers an unlock (dip8 boards always acknowledge)."""
    unlock_wait_s: float = 0.12
    """cu only: how long an unlock waits for its answer before the bus moves on to a status
    read; an answer later than this is still recognised when it arrives."""
    learned_answer: Literal["status", "ack", "none"] | None = None
    """An "auto" board's shape as learnt before (the station keeps it across restarts)."""


@dataclass(frozen=True, slots=True)
class ModbusBoardSpec:
    """One Modbus RTU relay/IO board (slave) on an adapter that speaks only Modbus."""

    id: str
    port: str
    baud: int
    address: int
    """Slave address, 1..247."""
    channels: int
    feedback: Feedback = "closed"
    """What a set input (or a non-zero register) means for this board's wiring."""
    unlock: Literal["coil", "flash"] = "coil"
    """"coil": the driver switches the relay on and off itself; "flash": the board's own
    pulse function, so a crash between on and off can never leave a coil energised."""
    coil_base: int = 0
    """Coil address of channel 1."""
    flash_base: int = 0x0200
    """Address the pulse function is written to for channel 1."""
    flash_function: Literal[5, 6] = 5
    """Which write carries the pulse time (100 ms units): single coil or single register."""
    pulse_ms: int = 500
    inputs: Literal["discrete", "input_register"] = "discrete"
    """Where the door feedback is read."""
    input_base: int = 0
    """Input address of channel 1."""
    answer_s: float | None = None
