"""`station doctor --scan PORT`: find the lock boards on an adapter by status reads only.

For a technician facing a board of unknown speed and address: each protocol is asked at its
common baud rates and at each address for its status (the one command that moves nothing).
Nothing is ever unlocked and no coil is written, so a scan is safe on a station in service
(stop the daemon first: the port is opened exclusively). A board answers at one speed only,
so once a protocol is heard at a speed its other speeds are not tried.

What an unlock is answered with cannot be known without unlocking: cu boards get
`unlock_answer = "auto"`, which learns it at the first unlock and shows it in `station doctor`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from drivers.lockboard import dip8
from drivers.lockboard.modbus_board import ModbusLockBoard
from drivers.lockboard.port import BoardUnavailable
from drivers.lockboard.serial_board import SerialLockBoard
from drivers.lockboard.serial_bus import BusDown, NoAnswer, SerialBus
from drivers.lockboard.spec import BusTiming, ModbusBoardSpec

BAUDS = {"cu": (19200, 9600), "dip8": (9600, 19200), "modbus": (9600, 19200, 4800, 38400)}
ADDRESSES = {"cu": range(0, 16), "dip8": range(0, 32), "modbus": range(1, 33)}
ANSWER_S = 0.15
"""Each status read's window: boards answer a status read in tens of milliseconds."""


@dataclass(frozen=True, slots=True)
class Found:
    protocol: str
    baud: int
    address: int
    channels: int
    unlock_answer: str
    """How the board answers unlocks, as far as a scan can tell."""
    extra: dict[str, Any]
    """Further config lines (e.g. where a Modbus board's feedback is read)."""

    def config_lines(self, port: str, board_id: str) -> list[str]:
        lines = [
            "[[boards]]",
            f'id = "{board_id}"',
            f'protocol = "{self.protocol}"',
            f'port = "{port}"',
            f"baud = {self.baud}",
            f"address = {self.address}",
            f"channels = {self.channels}",
        ]
        if self.protocol == "cu":
            lines.append('unlock_answer = "auto"   # learnt at the first unlock (station doctor)')
        for key, value in self.extra.items():
            lines.append(f'{key} = "{value}"' if isinstance(value, str) else f"{key} = {value}")
        return lines


def _timing() -> BusTiming:
    return BusTiming.from_ms(int(ANSWER_S * 1000), quiet_ms=10, reconnect_max_s=0.5)


async def _cu(bus: SerialBus, address: int) -> Found | None:
    board = SerialLockBoard(f"scan-cu-{address}", bus, "cu", address, 16, "closed")
    try:
        await board.read_status()
    except BoardUnavailable:
        return None
    return Found("cu", bus.baud, address, 16, "learnt at the first unlock", {})


def _dip8_any_groups(buf: bytes) -> tuple[list[Any], bytes]:
    """A read-all answer's length says how many status bytes (8 channels each) it carries."""
    for groups in range(1, 7):
        items, tail = dip8.scan_answers(buf, groups=groups)
        if any(isinstance(i, dip8.ReadAllAnswer) for i in items):
            return items, tail
    return [], buf[-64:]


async def _dip8(bus: SerialBus, address: int) -> Found | None:
    try:
        frame = await bus.transact(
            dip8.encode_status(address),
            _dip8_any_groups,
            lambda f: isinstance(f, dip8.ReadAllAnswer) and f.board == address,
        )
    except (BusDown, NoAnswer):
        return None
    return Found("dip8", bus.baud, address, len(frame.channels), "acknowledgement", {})


async def _modbus(bus: SerialBus, address: int) -> Found | None:
    """Discrete inputs, else input registers; the largest count the board does not refuse."""
    for inputs in ("discrete", "input_register"):
        best = 0
        for count in (8, 16, 32):
            spec = ModbusBoardSpec(
                f"scan-mb-{address}",
                bus.port,
                bus.baud,
                address,
                count,
                inputs=inputs,
                unlock="flash",  # a "coil" board would switch its coils off before reading
            )
            try:
                await ModbusLockBoard(spec, bus).read_status()
            except BoardUnavailable as exc:
                if "refused" not in str(exc) and best == 0:
                    return None  # silence: nobody at this address
                break
            best = count
        if best:
            extra = {"inputs": inputs, "modbus_unlock": "coil"}
            return Found("modbus", bus.baud, address, best, "echo of the write", extra)
    return None


PROBES: dict[str, Callable[[SerialBus, int], Any]] = {"cu": _cu, "dip8": _dip8, "modbus": _modbus}


async def scan_port(
    port: str,
    protocols: Sequence[str] = ("cu", "dip8", "modbus"),
    progress: Callable[[str], None] | None = None,
) -> list[Found]:
    """Every board that answers a status read on `port`, by protocol, baud and address."""
    found: list[Found] = []
    for protocol in protocols:
        for baud in BAUDS[protocol]:
            bus = SerialBus(port, baud, _timing())
            try:
                span = ADDRESSES[protocol]
                if progress:
                    progress(f"{protocol} at {baud} baud, addresses {span[0]}..{span[-1]}")
                here = [f for a in span if (f := await PROBES[protocol](bus, a))]
            finally:
                await bus.close()
            if here:
                found += here
                break  # a board answers at one speed: the others need not be tried
    return found


def format_scan(port: str, found: list[Found]) -> str:
    lines = [f"scan of {port} (status reads only: nothing was unlocked)"]
    if not found:
        lines.append(
            "  no board answered at any protocol, speed or address tried: check the board's "
            "power, the RS485 A/B wires (try swapping them) and the adapter"
        )
        return "\n".join(lines)
    for f in found:
        lines.append(
            f"  {f.protocol:6} {f.baud:>6} baud  address {f.address:<3} {f.channels:>2} channels"
            f"  unlocks answered: {f.unlock_answer}"
        )
    lines += ["", "config lines to paste into the station's config:"]
    for n, f in enumerate(found):
        lines += ["", *f.config_lines(port, f"B{n}")]
    return "\n".join(lines)


def scan_main(port: str) -> int:
    found = asyncio.run(scan_port(port, progress=lambda s: print(f"trying {s} ...", flush=True)))
    print(format_scan(port, found))
    return 0 if found else 1
