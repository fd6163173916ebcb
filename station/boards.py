"""Building the lock boards a config describes: RS485 boards, GPIO banks and simulators.

The drivers take their own small specs (drivers/lockboard/spec.py, GpioBankSpec,
SimBoardRequest) and know nothing of the station's config: this module is where the checked
config is mapped onto them, once. A `sim` board is a simulator serving the real byte protocol
on a pseudo-terminal, driven by the same SerialLockBoard as a real board: the demo and the tests
exercise the real driver.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from drivers.gpio.lockboard import GpioBankSpec
from drivers.lockboard.port import LockBoard
from drivers.lockboard.serial_board import open_board
from drivers.lockboard.serial_bus import BusRegistry
from drivers.lockboard.spec import BusTiming, SerialBoardSpec
from drivers.sim.lockboard import (
    LockBoardSimulator,
    SimBoardRequest,
    SimBoardSpec,
    start_sim_boards,
)
from station.config import BoardConfig, StationConfig, Timeouts


def bus_timing(timeouts: Timeouts) -> BusTiming:
    return BusTiming.from_ms(timeouts.answer_ms, timeouts.quiet_ms, timeouts.reconnect_max_s)


def serial_spec(bc: BoardConfig, port: str | None = None) -> SerialBoardSpec:
    """The driver's view of a cu, dip8 or sim board; a sim board needs its simulator's `port`."""
    protocol = bc.wire_protocol
    if protocol is None:
        raise ValueError(f"board '{bc.id}': protocol '{bc.protocol}' is not a serial board")
    path = port or (bc.port if bc.protocol != "sim" else None)
    if not path:
        raise ValueError(f"board '{bc.id}': no serial port (start the simulator for 'sim')")
    return SerialBoardSpec(
        id=bc.id,
        protocol=protocol,
        port=path,
        baud=bc.effective_baud,
        address=bc.address,
        channels=bc.channels,
        feedback=bc.feedback,
    )


def gpio_spec(bc: BoardConfig) -> GpioBankSpec:
    if bc.protocol != "gpio":
        raise ValueError(f"board '{bc.id}': protocol '{bc.protocol}' is not a GPIO bank")
    return GpioBankSpec(
        id=bc.id,
        relay_pins=tuple(bc.relay_pins),
        sensor_pins=tuple(bc.sensor_pins),
        relay_active_high=bc.relay_active_high,
        pulse_ms=bc.pulse_ms,
        debounce_ms=bc.debounce_ms,
    )


def sim_request(bc: BoardConfig) -> SimBoardRequest:
    if bc.protocol != "sim":
        raise ValueError(f"board '{bc.id}' has protocol '{bc.protocol}', not 'sim'")
    spec = SimBoardSpec(
        address=bc.address,
        channels=bc.channels,
        feedback=bc.feedback,
        auto_close_s=bc.sim_auto_close_s,
    )
    return SimBoardRequest(id=bc.id, protocol=bc.sim_protocol, board=spec, port=bc.port)


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
    boards = BoardSet(buses=BusRegistry(bus_timing(config.timeouts)))
    assert boards.buses is not None
    try:
        sim_paths = _start_simulators(config, boards)
        for bc in config.boards:
            if bc.protocol == "gpio":
                from drivers.gpio.lockboard import GpioLockBoard

                boards.drivers[bc.id] = GpioLockBoard(gpio_spec(bc), pin_factory=pin_factory)
            else:
                spec = serial_spec(bc, port=sim_paths.get(bc.id))
                boards.drivers[bc.id] = open_board(spec, boards.buses)
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
        sims, started = start_sim_boards([sim_request(bc) for bc in configs], wire_baud=baud)
        by_path = {sim.path: sim for sim in sims}
        for bc in configs:
            boards.simulators[bc.id] = by_path[started[bc.id]]
        paths.update(started)
    return paths
