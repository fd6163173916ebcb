"""ModbusLockBoard: the LockBoard port for a Modbus RTU relay/IO board on a shared bus.

The same bus as the cu and dip8 boards (serial_bus.py: one command in flight, quiet-line
resync, replug, the same error translation), so Modbus boards get the same alarms and the
same discipline. What differs is what an unlock is:
- "flash": one write of the board's own pulse function; the board switches the relay off.
- "coil": coil on, the pulse, coil off. The off is sent whatever happened to the on (its answer
  may have been lost while the relay did switch) and even if the caller is cancelled; an off
  that fails leaves the board marked, and every later exchange first switches all its coils
  off. All coils are switched off before the board's first status read, too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from drivers.lockboard import modbus
from drivers.lockboard.feedback import readings_for_bits
from drivers.lockboard.port import BoardStatus, BoardUnavailable, UnlockUncertain
from drivers.lockboard.serial_bus import BusDown, BusRegistry, NoAnswer, SerialBus
from drivers.lockboard.spec import ModbusBoardSpec

log = logging.getLogger(__name__)


class ModbusLockBoard:
    def __init__(self, spec: ModbusBoardSpec, bus: SerialBus) -> None:
        if not modbus.MIN_ADDRESS <= spec.address <= modbus.MAX_ADDRESS:
            raise ValueError(f"board '{spec.id}': modbus slave address is 1..247")
        if spec.channels < 1:
            raise ValueError(f"board '{spec.id}': at least one channel")
        self._spec = spec
        self._bus = bus
        self._scan = partial(modbus.scan_answers, addresses=frozenset({spec.address}))
        self._coils_dirty = spec.unlock == "coil"
        """Coils may be on (never cleared since start, or an off was lost): clear them first."""
        self._where = f"board '{spec.id}' (modbus slave {spec.address} on {bus.port})"
        bus.attach(spec.id)

    @property
    def board_id(self) -> str:
        return self._spec.id

    @property
    def channels(self) -> int:
        return self._spec.channels

    @property
    def bus(self) -> SerialBus:
        return self._bus

    def expect_unlock(self) -> Callable[[], None]:
        """port.AnnouncesUnlocks: the unlock goes ahead of this bus's reads not yet started."""
        return self._bus.expect_urgent()

    def describe_unlock(self) -> str:
        s = self._spec
        if s.unlock == "flash":
            return f"pulse function {s.flash_function} at 0x{s.flash_base:04X}+channel-1"
        return f"coil on/off at {s.coil_base}+channel-1, {s.pulse_ms} ms"

    async def _ask(self, request: bytes, match: Any, what: str, **kw: Any) -> Any:
        """One exchange; a refusal (exception response) is BoardUnavailable: nothing was done."""
        address = self._spec.address

        def accept(frame: Any) -> bool:
            if isinstance(frame, modbus.Refused) and frame.board == address:
                return True
            return match(frame)

        frame = await self._bus.transact(
            request, self._scan, accept, answer_s=self._spec.answer_s, **kw
        )
        if isinstance(frame, modbus.Refused):
            raise BoardUnavailable(
                f"{self._where}: {what} refused ({modbus.describe_refusal(frame.code)}); "
                "check the board's coil and input addresses in the config"
            )
        return frame

    def _echo(self, function: int, address: int) -> Any:
        board = self._spec.address
        return lambda f: (
            isinstance(f, modbus.WriteSingle)
            and f.board == board
            and f.function == function
            and f.address == address
        )

    async def _write(self, function: int, address: int, value: int, what: str) -> None:
        request = modbus.encode_write_single(self._spec.address, function, address, value)
        # A write is a lock being driven: it goes ahead of the polls waiting for the bus.
        await self._ask(request, self._echo(function, address), what, urgent=True)

    async def _all_coils_off(self) -> None:
        s = self._spec
        request = modbus.encode_write_coils(s.address, s.coil_base, [False] * s.channels)
        await self._ask(
            request,
            lambda f: isinstance(f, modbus.WriteCoilsAnswer) and f.board == s.address,
            "switching all coils off",
        )
        self._coils_dirty = False

    def _check(self, channel: int) -> None:
        if not 1 <= channel <= self._spec.channels:
            raise ValueError(f"{self._where} has channels 1..{self._spec.channels}, not {channel}")

    async def unlock(self, channel: int, before_send: Callable[[], None] | None = None) -> None:
        """Fire one lock once: the board's pulse function, or coil on, pulse, coil off."""
        self._check(channel)
        s = self._spec
        if before_send is not None:
            await asyncio.to_thread(before_send)
        try:
            if s.unlock == "flash":
                units = max(1, round(s.pulse_ms / 100))
                await self._write(s.flash_function, s.flash_base + channel - 1, units, "pulse")
                return
            await self._clear_before_unlock(channel)
            await self._coil_pulse(channel)
        except BusDown as exc:
            raise BoardUnavailable(f"{self._where}: unlock of channel {channel}: {exc}") from exc
        except NoAnswer as exc:
            log.warning("%s: unlock of channel %d unconfirmed: %s", self._where, channel, exc)
            raise UnlockUncertain(
                f"{self._where}: unlock of channel {channel} was sent but not confirmed ({exc}); "
                "it may have fired: watch the door, do not re-send"
            ) from exc

    async def _clear_before_unlock(self, channel: int) -> None:
        """All coils off before the first pulse; its failure means the unlock was not sent."""
        if not self._coils_dirty:
            return
        try:
            await self._all_coils_off()
        except (NoAnswer, BusDown) as exc:
            raise BoardUnavailable(
                f"{self._where}: unlock of channel {channel} not sent: switching all coils off "
                f"first failed ({exc})"
            ) from exc

    async def _coil_pulse(self, channel: int) -> None:
        s = self._spec
        address = s.coil_base + channel - 1
        on = modbus.COIL_ON
        try:
            await self._write(modbus.FC_WRITE_COIL, address, on, "coil on")
            await asyncio.sleep(s.pulse_ms / 1000)
        finally:
            # Shielded: a cancelled caller must never leave the coil energised.
            off = asyncio.ensure_future(self._coil_off(address))
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(off)

    async def _coil_off(self, address: int) -> None:
        try:
            await self._write(modbus.FC_WRITE_COIL, address, modbus.COIL_OFF, "coil off")
        except (BusDown, NoAnswer, BoardUnavailable) as exc:
            self._coils_dirty = True
            log.error(
                "%s: coil %d off not confirmed (%s); retrying at once", self._where, address, exc
            )

    async def read_status(self) -> BoardStatus:
        s = self._spec
        try:
            if self._coils_dirty:
                await self._all_coils_off()
            frame = await self._ask(
                modbus.encode_read(s.address, s.inputs, s.input_base, s.channels),
                lambda f: (
                    isinstance(f, modbus.InputsAnswer)
                    and f.board == s.address
                    and f.kind == s.inputs
                ),
                "reading the inputs",
                hold_off=s.id,
            )
        except (BusDown, NoAnswer) as exc:
            raise BoardUnavailable(f"{self._where}: status: {exc}") from exc
        values = frame.values
        if len(values) < s.channels:
            raise BoardUnavailable(
                f"{self._where}: {len(values)} inputs in the answer, {s.channels} expected"
            )
        bits = [v != 0 for v in values[: s.channels]]
        return BoardStatus(readings_for_bits(bits, s.channels, s.feedback))

    async def close(self) -> None:
        await self._bus.detach(self._spec.id)


def open_modbus_board(spec: ModbusBoardSpec, buses: BusRegistry) -> ModbusLockBoard:
    """Build the board on the bus its port shares (nothing is opened until the first exchange)."""
    return ModbusLockBoard(spec, buses.bus(spec.port, spec.baud, spec.id, family="modbus"))
