"""SerialLockBoard: the LockBoard port for an RS485 board speaking "cu" or "dip8" on a bus.

The board knows its protocol's frames and its address; the bus knows timing and the adapter.
Errors are translated into the port's two answers, by whether the frame went out:
- nothing sent (adapter gone, back-off, busy line) -> BoardUnavailable, also for an unlock,
  which then certainly did not fire;
- sent but not answered (timeout, noise only, adapter lost mid-exchange) -> BoardUnavailable
  for a status read, UnlockUncertain for an unlock, which is never re-sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from drivers.lockboard import cu, dip8
from drivers.lockboard.feedback import Feedback, readings_for_bits
from drivers.lockboard.port import BoardStatus, BoardUnavailable, UnlockUncertain
from drivers.lockboard.serial_bus import BusDown, BusRegistry, NoAnswer, ScanFn, SerialBus
from drivers.lockboard.spec import SerialBoardSpec, WireProtocol

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Wire:
    """One protocol's frames for one board address."""

    unlock_request: Callable[[int], bytes]
    status_request: bytes
    scan: ScanFn
    is_unlock_answer: Callable[[Any, int], bool]
    status_bits: Callable[[Any], tuple[tuple[bool, ...], tuple[bool, ...] | None] | None]
    """(lock bits, item bits or None) if the frame is this board's status answer, else None."""


def _cu_wire(address: int) -> _Wire:
    def is_unlock_answer(frame: Any, channel: int) -> bool:
        return (
            isinstance(frame, cu.UnlockAnswer) and frame.board == address and frame.lock == channel
        )

    def status_bits(frame: Any) -> tuple[tuple[bool, ...], tuple[bool, ...] | None] | None:
        if isinstance(frame, cu.StatusAnswer) and frame.board == address:
            return frame.locks, frame.items
        return None

    return _Wire(
        unlock_request=partial(cu.encode_unlock, address),
        status_request=cu.encode_status(address),
        scan=cu.scan_answers,
        is_unlock_answer=is_unlock_answer,
        status_bits=status_bits,
    )


def _dip8_wire(address: int, channels: int) -> _Wire:
    def is_unlock_answer(frame: Any, channel: int) -> bool:
        return (
            isinstance(frame, dip8.UnlockAnswer)
            and frame.board == address
            and frame.channel == channel
        )

    def status_bits(frame: Any) -> tuple[tuple[bool, ...], tuple[bool, ...] | None] | None:
        if isinstance(frame, dip8.ReadAllAnswer) and frame.board == address:
            return frame.channels, None
        return None

    return _Wire(
        unlock_request=partial(dip8.encode_unlock, address),
        status_request=dip8.encode_status(address),
        scan=partial(dip8.scan_answers, groups=dip8.groups_for(channels)),
        is_unlock_answer=is_unlock_answer,
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
    ) -> None:
        if protocol == "cu":
            if not 0 <= address <= cu.MAX_BOARD or not 1 <= channels <= cu.MAX_LOCKS:
                raise ValueError(
                    f"board '{board_id}': protocol 'cu' has addresses 0..{cu.MAX_BOARD} and "
                    f"1..{cu.MAX_LOCKS} channels (got address {address}, {channels} channels)"
                )
            self._wire = _cu_wire(address)
        else:
            self._wire = _dip8_wire(address, channels)
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

    async def unlock(self, channel: int) -> None:
        """Fire one lock once; see the module docstring for what each error means."""
        if not 1 <= channel <= self._channels:
            raise ValueError(f"{self._where} has channels 1..{self._channels}, not {channel}")
        wire = self._wire
        try:
            await self._bus.transact(
                wire.unlock_request(channel),
                wire.scan,
                lambda frame: wire.is_unlock_answer(frame, channel),
            )
        except BusDown as exc:
            raise BoardUnavailable(f"{self._where}: unlock of channel {channel}: {exc}") from exc
        except NoAnswer as exc:
            log.warning("%s: unlock of channel %d unconfirmed: %s", self._where, channel, exc)
            raise UnlockUncertain(
                f"{self._where}: unlock of channel {channel} was sent but not confirmed ({exc}); "
                "it may have fired: watch the door, do not re-send"
            ) from exc

    async def read_status(self) -> BoardStatus:
        wire = self._wire
        try:
            frame = await self._bus.transact(
                wire.status_request, wire.scan, lambda f: wire.status_bits(f) is not None
            )
        except (BusDown, NoAnswer) as exc:
            raise BoardUnavailable(f"{self._where}: status: {exc}") from exc
        bits = wire.status_bits(frame)
        assert bits is not None  # the bus only returns frames the match accepted
        locks, items = bits
        doors = readings_for_bits(locks, self._channels, self._feedback)
        if self._item_sensors and items is not None:
            return BoardStatus(doors, {ch: items[ch - 1] for ch in range(1, self._channels + 1)})
        return BoardStatus(doors)

    async def close(self) -> None:
        await self._bus.detach(self._id)


def open_board(spec: SerialBoardSpec, buses: BusRegistry) -> SerialLockBoard:
    """Build the board a spec describes, on the bus its port shares with its bus-mates.

    Nothing is opened yet: the port opens at the first exchange, so a station whose adapter is
    missing at start still starts, with the board offline until the adapter appears.
    """
    bus = buses.bus(spec.port, spec.baud, spec.id)
    return SerialLockBoard(
        spec.id, bus, spec.protocol, spec.address, spec.channels, spec.feedback, spec.item_sensor
    )
