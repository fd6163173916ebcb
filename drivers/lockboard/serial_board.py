"""SerialLockBoard: the LockBoard port for an RS485 board speaking "cu" or "dip8" on a bus.

The board knows its protocol's frames and its address; the bus knows timing and the adapter.
Errors are translated into the port's two answers, by whether the frame went out:
- nothing sent (adapter gone, back-off, busy line) -> BoardUnavailable, also for an unlock,
  which then certainly did not fire;
- sent but not answered (timeout, noise only, adapter lost mid-exchange) -> BoardUnavailable
  for a status read, UnlockUncertain for an unlock, which is never re-sent; except on a board
  known to answer unlocks with nothing (answers.py), where the unlock is complete once its
  frame is on the wire and the station watches the door.

A cu unlock never makes the bus blind: it waits only `unlock_wait_s` for its answer. It goes
ahead of every status read waiting for the bus, and the board's doors are read right after
it in the same turn of the bus (one job on its thread, so the door is seen open within one
exchange); an answer that comes later is still recognised (and learnt from) when it turns up
during that read, and an acknowledgement naming the unlock's channel heard there confirms the
unlock (late on a loaded machine is not lost). The unlock returns that reading, or the
answer's own doors when the board answered with a status frame. On a board known to
acknowledge, a status frame in the unlock's wait is a poll's late answer, not the unlock's
(answers.py says when such a board is learnt again). A status read that timed out
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
from drivers.lockboard.serial_bus import (
    BusDown,
    BusRegistry,
    Exchange,
    NoAnswer,
    ScanFn,
    SerialBus,
)
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
        self._late_heard: Any = None
        """The last late unlock answer recognised (read by the unlock's own job)."""
        self._stale_status: Any = None
        """A status frame of this board heard in an unlock's wait that did not answer it."""

        self._id = board_id
        self._bus = bus
        self._channels = channels
        self._feedback: Feedback = feedback
        self._item_sensors = item_sensors
        self._where = f"board '{board_id}' ({protocol} address {address} on {bus.port})"
        wire = self._wire
        self._status_exchange = Exchange(
            wire.status_request,
            wire.scan,
            lambda f: wire.status_bits(f) is not None,
            answer_s=answer_s,
            observe=self._late_answer,
        )
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

    def expect_unlock(self) -> Callable[[], None]:
        """port.AnnouncesUnlocks: the unlock goes ahead of this bus's reads not yet started."""
        return self._bus.expect_urgent()

    async def unlock(
        self, channel: int, before_send: Callable[[], None] | None = None
    ) -> BoardStatus | None:
        """Fire one lock once; see the module docstring for what each error means.

        `before_send` runs on the bus's thread in the unlock's own turn, just before the frame
        (the audit's commit: no extra trip between threads). Returns the board's doors read
        right after (or the answer's own, for a status frame), None if that read failed.
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
        self._late_until = time.monotonic() + self._late_window_s()  # again once sent

        def answers_unlock(frame: Any) -> bool:  # on the bus's thread, as each frame comes
            shape = wire.unlock_answer_shape(frame, channel)
            return shape == "ack" or (shape == "status" and self.answers.takes_status)

        unlock = Exchange(
            request,
            wire.scan,
            answers_unlock,
            answer_s=self._unlock_wait_s,
            observe=self._status_in_wait,
        )
        try:
            frame, trouble, reading = await self._bus.job(
                partial(self._unlock_and_read, unlock, channel, before_send), urgent=True
            )
        except BusDown as exc:
            raise BoardUnavailable(f"{self._where}: unlock of channel {channel}: {exc}") from exc
        if trouble is not None:
            log.warning("%s: unlock of channel %d unconfirmed: %s", self._where, channel, trouble)
            raise UnlockUncertain(
                f"{self._where}: unlock of channel {channel} was sent but not confirmed "
                f"({trouble}); it may have fired: watch the door, do not re-send",
                self._status_from(reading) if reading is not None else None,
            ) from trouble
        if frame is not None and wire.unlock_answer_shape(frame, channel) == "status":
            return self._status_from(frame)
        return self._status_from(reading) if reading is not None else None

    def _late_window_s(self) -> float:
        """How long after an unlock's frame its answer may still come."""
        return self._unlock_wait_s + (self._answer_s or self._bus.answer_s)

    def _unlock_and_read(
        self,
        unlock: Exchange,
        channel: int,
        before_send: Callable[[], None] | None,
        bus: SerialBus,
    ) -> tuple[Any, NoAnswer | None, Any]:
        """On the bus's thread: the unlock, then at once the board's doors (unless the answer
        was a status frame), as one job. (answer or None, the unlock's NoAnswer when its
        silence leaves it uncertain or None, status frame or None)."""
        if before_send is not None:
            before_send()
        # The late-answer window counts from the frame, not from before the wait for the bus
        # and the audit's commit (a slow fsync on a loaded machine would have used it up).
        self._late_until = time.monotonic() + self._late_window_s()
        self._late_heard = None
        self._stale_status = None
        frame: Any = None
        trouble: NoAnswer | None = None
        try:
            if self.answers.waits:
                frame = bus.exchange_now(unlock)
            else:
                bus.send_now(unlock.request)
        except NoAnswer as exc:
            if self._stale_status is not None:  # not silent: a status frame, no ack
                self.answers.status_instead()
            else:
                self.answers.silent()
            # Judged now: the read below may teach "none", which says nothing of this unlock.
            trouble = exc if self.answers.silence_is_uncertain else None
        if frame is not None:
            shape = self._wire.unlock_answer_shape(frame, None)
            assert shape is not None  # the bus only returns frames the match accepted
            self.answers.heard(shape)
            self._late_until = 0.0
            if shape == "status":
                return frame, None, None
        reading = self._read_on_bus(bus)
        late = self._late_heard
        if (
            trouble is not None
            and late is not None
            and self._wire.unlock_answer_shape(late, channel) == "ack"
        ):
            # This unlock's own acknowledgement, late for its wait but heard before the
            # read-back's answer (no other unlock of this board can be outstanding): confirmed.
            trouble = None
        return frame, trouble, reading

    def _read_on_bus(self, bus: SerialBus) -> Any:
        """On the bus's thread: one status read, None when it brought no reading."""
        late_before = bus.stats.late_answers
        reading = bus.read_now(self._status_exchange, self._id)
        if reading is not None and bus.stats.late_answers == late_before:
            self.answers.board_alive()
        return reading

    def _status_in_wait(self, frame: Any) -> bool:
        """A frame heard in an unlock's wait that does not answer it: this board's status
        frame there (the board is known to acknowledge) is recognised as late, not stray: a
        timed-out poll's answer, or the board now answering unlocks with status (answers.py)."""
        if self._wire.status_bits(frame) is None:
            return False
        log.info("%s: status frame in an unlock's wait, taken as a late poll answer", self._where)
        self._stale_status = frame
        return True

    def _late_answer(self, frame: Any) -> bool:
        """A stray frame heard during a status read: is it an earlier unlock's late answer?"""
        if time.monotonic() > self._late_until:
            return False
        shape = self._wire.unlock_answer_shape(frame, None)
        if shape is None or (shape == "status" and not self.answers.takes_status):
            return False  # on a board known to acknowledge, a status frame answers a poll
        log.info("%s: late unlock answer (%s)", self._where, shape)
        self.answers.heard(shape)
        self._late_until = 0.0
        self._late_heard = frame
        return True

    async def read_status(self) -> BoardStatus:
        exchange = self._status_exchange
        late_before = self._bus.stats.late_answers
        try:
            frame = await self._bus.transact(
                exchange.request,
                exchange.scan,
                exchange.match,
                answer_s=exchange.answer_s,
                observe=exchange.observe,
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
