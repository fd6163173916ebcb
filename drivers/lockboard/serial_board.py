"""SerialLockBoard: the LockBoard port for an RS485 board speaking "cu" or "dip8" on a bus.

The board knows its protocol's frames and its address; the bus knows timing and the adapter.
Errors are translated into the port's two answers, by whether the frame went out:
- nothing sent (adapter gone, back-off, busy line) -> BoardUnavailable, also for an unlock,
  which then certainly did not fire;
- sent but not answered (timeout, noise only, adapter lost mid-exchange) -> BoardUnavailable
  for a status read, UnlockUncertain for an unlock, which is never re-sent; except on a board
  known to answer unlocks with nothing (answers.py), where the unlock is complete once its
  frame is on the wire and the station watches the door.

A cu unlock never makes the bus blind: it waits only `unlock_wait_s` for its answer, then the
bus is free for the status read the station sends at once; an answer that comes later is
still recognised (and learnt from) when it turns up during that read. An unlock answered with
a status frame returns that frame's doors as a fresh reading. A status read that timed out
holds off only its own board's next read for one answer window (its late answer would look
exactly like the next one's); its bus-mates go on at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from drivers.lockboard import cu, dip8
from drivers.lockboard.answers import Shape, UnlockAnswers
from drivers.lockboard.feedback import Feedback, readings_for_bits
from drivers.lockboard.port import BoardStatus, BoardUnavailable, UnlockUncertain
from drivers.lockboard.serial_bus import BusDown, BusRegistry, NoAnswer, ScanFn, SerialBus
from drivers.lockboard.spec import SerialBoardSpec, UnlockAnswer, WireProtocol

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Wire:
    """One protocol's frames for one board address."""

    unlock_request: Callable[[int], bytes]
    status_request: bytes
    scan: ScanFn
    unlock_answer_shape: Callable[[Any, int | None], Literal["status", "ack"] | None]
    """The shape of the frame if it answers an unlock of this board (of `channel`, or of any
    channel for None), else None."""
    status_bits: Callable[[Any], tuple[tuple[bool, ...], tuple[bool, ...] | None] | None]
    """(lock bits, item bits or None) if the frame is this board's status answer, else None."""


def _cu_wire(address: int) -> _Wire:
    def unlock_answer_shape(frame: Any, channel: int | None) -> Literal["status", "ack"] | None:
        if isinstance(frame, cu.UnlockAnswer) and frame.board == address:
            return "ack" if channel is None or frame.lock == channel else None
        if isinstance(frame, cu.StatusAnswer) and frame.board == address:
            return "status"
        return None

    def status_bits(frame: Any) -> tuple[tuple[bool, ...], tuple[bool, ...] | None] | None:
        if isinstance(frame, cu.StatusAnswer) and frame.board == address:
            return frame.locks, frame.items
        return None

    return _Wire(
        unlock_request=partial(cu.encode_unlock, address),
        status_request=cu.encode_status(address),
        scan=cu.scan_answers,
        unlock_answer_shape=unlock_answer_shape,
        status_bits=status_bits,
    )


def _dip8_wire(address: int, channels: int) -> _Wire:
    def unlock_answer_shape(frame: Any, channel: int | None) -> Literal["status", "ack"] | None:
        if (
            isinstance(frame, dip8.UnlockAnswer)
            and frame.board == address
            and (channel is None or frame.channel == channel)
        ):
            return "ack"
        return None

    def status_bits(frame: Any) -> tuple[tuple[bool, ...], tuple[bool, ...] | None] | None:
        if isinstance(frame, dip8.ReadAllAnswer) and frame.board == address:
            return frame.channels, None
        return None

    return _Wire(
        unlock_request=partial(dip8.encode_unlock, address),
        status_request=dip8.encode_status(address),
        scan=partial(dip8.scan_answers, groups=dip8.groups_for(channels)),
        unlock_answer_shape=unlock_answer_shape,
        status_bits=status_bits,
    )


class SerialLockBoard:
    """One addressed board on a shared bus; implements drivers.lockboard.port.LockBoard."""

    def __init__(
        self,
        board_id: str,
        bus: SerialBus,
        protocol: WireProtocol,
        address: int,
        channels: int,
        feedback: Feedback,
        item_sensors: bool = False,
        *,
        answer_s: float | None = None,
        unlock_answer: UnlockAnswer = "auto",
        unlock_wait_s: float = 0.12,
        learned_answer: Shape | None = None,
        on_learned: Callable[[Shape], None] | None = None,
    ) -> None:
        if protocol == "cu":
            if not 0 <= address <= cu.MAX_BOARD or not 1 <= channels <= cu.MAX_LOCKS:
                raise ValueError(
                    f"board '{board_id}': protocol 'cu' has addresses 0..{cu.MAX_BOARD} and "
                    f"1..{cu.MAX_LOCKS} channels (got address {address}, {channels} channels)"
                )
            self._wire = _cu_wire(address)
            self.answers = UnlockAnswers(unlock_answer, learned_answer, on_learned)
            self._unlock_wait_s = unlock_wait_s
        else:
            if unlock_answer not in ("auto", "ack"):
                raise ValueError(f"board '{board_id}': dip8 boards always acknowledge an unlock")
            self._wire = _dip8_wire(address, channels)
            self.answers = UnlockAnswers("ack")
            self._unlock_wait_s = answer_s if answer_s is not None else bus.answer_s
        self._answer_s = answer_s
        self._late_until = 0.0
        """Until then, a frame answering an earlier unlock is recognised as its late answer."""

        self._id = board_id
        self._bus = bus
        self._channels = channels
        self._feedback: Feedback = feedback
        self._item_sensors = item_sensors
        self._where = f"board '{board_id}' ({protocol} address {address} on {bus.port})"
        bus.attach(board_id)

    @property
    def board_id(self) -> str:
        return self._id

    @property
    def channels(self) -> int:
        return self._channels

    @property
    def bus(self) -> SerialBus:
        return self._bus

    async def unlock(self, channel: int) -> BoardStatus | None:
        """Fire one lock once; see the module docstring for what each error means.

        Returns the board's doors when its answer was a status frame, else None.
        """
        if not 1 <= channel <= self._channels:
            raise ValueError(f"{self._where} has channels 1..{self._channels}, not {channel}")
        wire = self._wire
        request = wire.unlock_request(channel)
        outstanding = self._late_until - time.monotonic()
        if outstanding > 0 and self.answers.waits:
            # An earlier unlock's answer may still come, in the same bytes as this one's would:
            # let its window pass (status reads go on meanwhile) so it never confirms this one.
            await asyncio.sleep(outstanding)
        # An answer may come up to a whole answer window after the unlock's own wait.
        self._late_until = (
            time.monotonic() + self._unlock_wait_s + (self._answer_s or self._bus.answer_s)
        )
        try:
            if not self.answers.waits:
                await self._bus.send(request)
                return None
            frame = await self._bus.transact(
                request,
                wire.scan,
                lambda f: wire.unlock_answer_shape(f, channel) is not None,
                answer_s=self._unlock_wait_s,
            )
        except BusDown as exc:
            raise BoardUnavailable(f"{self._where}: unlock of channel {channel}: {exc}") from exc
        except NoAnswer as exc:
            self.answers.silent()
            if not self.answers.silence_is_uncertain:
                return None
            log.warning("%s: unlock of channel %d unconfirmed: %s", self._where, channel, exc)
            raise UnlockUncertain(
                f"{self._where}: unlock of channel {channel} was sent but not confirmed ({exc}); "
                "it may have fired: watch the door, do not re-send"
            ) from exc
        shape = wire.unlock_answer_shape(frame, channel)
        assert shape is not None  # the bus only returns frames the match accepted
        self.answers.heard(shape)
        self._late_until = 0.0
        return self._status_from(frame) if shape == "status" else None

    def _late_answer(self, frame: Any) -> bool:
        """A stray frame heard during a status read: is it an earlier unlock's late answer?"""
        if time.monotonic() > self._late_until:
            return False
        shape = self._wire.unlock_answer_shape(frame, None)
        if shape is None:
            return False
        log.info("%s: late unlock answer (%s)", self._where, shape)
        self.answers.heard(shape)
        self._late_until = 0.0
        return True

    async def read_status(self) -> BoardStatus:
        wire = self._wire
        late_before = self._bus.stats.late_answers
        try:
            frame = await self._bus.transact(
                wire.status_request,
                wire.scan,
                lambda f: wire.status_bits(f) is not None,
                answer_s=self._answer_s,
                observe=self._late_answer,
                hold_off=self._id,
            )
        except (BusDown, NoAnswer) as exc:
            raise BoardUnavailable(f"{self._where}: status: {exc}") from exc
        if self._bus.stats.late_answers == late_before:
            self.answers.board_alive()
        return self._status_from(frame)

    def _status_from(self, frame: Any) -> BoardStatus:
        bits = self._wire.status_bits(frame)
        assert bits is not None  # only status frames get here
        locks, items = bits
        doors = readings_for_bits(locks, self._channels, self._feedback)
        if self._item_sensors and items is not None:
            return BoardStatus(doors, {ch: items[ch - 1] for ch in range(1, self._channels + 1)})
        return BoardStatus(doors)

    async def close(self) -> None:
        await self._bus.detach(self._id)


def open_board(
    spec: SerialBoardSpec, buses: BusRegistry, on_learned: Callable[[Shape], None] | None = None
) -> SerialLockBoard:
    """Build the board a spec describes, on the bus its port shares with its bus-mates.

    Nothing is opened yet: the port opens at the first exchange, so a station whose adapter is
    missing at start still starts, with the board offline until the adapter appears.
    """
    bus = buses.bus(spec.port, spec.baud, spec.id)
    return SerialLockBoard(
        spec.id,
        bus,
        spec.protocol,
        spec.address,
        spec.channels,
        spec.feedback,
        spec.item_sensor,
        answer_s=spec.answer_s,
        unlock_answer=spec.unlock_answer,
        unlock_wait_s=spec.unlock_wait_s,
        learned_answer=spec.learned_answer,
        on_learned=on_learned,
    )
