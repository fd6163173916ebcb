"""Building the lock boards a config describes: RS485 boards, GPIO banks and simulators.

A `sim` board is a simulator serving the real byte protocol on a pseudo-terminal, driven by the
same SerialLockBoard as a real board: the demo and the tests exercise the real driver.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from drivers.lockboard.port import LockBoard
from drivers.lockboard.serial_board import open_board
from drivers.lockboard.serial_bus import BusRegistry
from drivers.sim.lockboard import LockBoardSimulator, start_sim_boards
from station.config import BoardConfig, StationConfig


@dataclass
class BoardSet:
    drivers: dict[str, LockBoard] = field(default_factory=dict)
    simulators: dict[str, LockBoardSimulator] = field(default_factory=dict)
    """Simulators by board id, so the demo and tests can shut doors and inject faults."""
    buses: BusRegistry | None = None

    async def close(self) -> None:
        for driver in self.drivers.values():
            await driver.close()
        if self.buses is not None:
            await self.buses.close()
        for sim in self.simulators.values():
            sim.stop()


async def build_boards(config: StationConfig, *, pin_factory: Any = None) -> BoardSet:
    boards = BoardSet(buses=BusRegistry(config.timeouts))
    assert boards.buses is not None
    try:
        sim_paths = _start_simulators(config, boards)
        for bc in config.boards:
            if bc.protocol == "gpio":
                from drivers.gpio.lockboard import GpioLockBoard

                boards.drivers[bc.id] = GpioLockBoard(bc, pin_factory=pin_factory)
            elif bc.protocol == "sim":
                boards.drivers[bc.id] = open_board(bc, boards.buses, port=sim_paths[bc.id])
            else:
                boards.drivers[bc.id] = open_board(bc, boards.buses)
    except Exception:
        await boards.close()
        raise
    return boards


def _start_simulators(config: StationConfig, boards: BoardSet) -> dict[str, str]:
    """Start one simulator per simulated bus and return each sim board's port.

    `sim` boards that name the same `port` are two addresses on one bus, as the config allows:
    they need one simulator behind that port (a second one would find the port taken), so
    their faults (garbage, a late board, an unplugged adapter) hit their bus-mates as on a
    real RS485 line.
    """
    by_wire_baud: dict[int | None, list[BoardConfig]] = {}
    for bc in config.boards:
        if bc.protocol == "sim":
            baud = bc.effective_baud if bc.sim_wire_time else None
            by_wire_baud.setdefault(baud, []).append(bc)
    paths: dict[str, str] = {}
    for baud, configs in by_wire_baud.items():
        sims, started = start_sim_boards(configs, wire_baud=baud)
        by_path = {sim.path: sim for sim in sims}
        for bc in configs:
            boards.simulators[bc.id] = by_path[started[bc.id]]
        paths.update(started)
    return paths
