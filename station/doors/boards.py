"""Building the lock boards a config describes: RS485 boards, GPIO banks and simulators.

The drivers take their own small specs (drivers/lockboard/spec.py, GpioBankSpec,
SimBoardRequest) and know nothing of the station's config: this module is where the checked
config is mapped onto them, once. A `sim` board is a simulator serving the real byte protocol
on a pseudo-terminal, driven by the same SerialLockBoard as a real board: the demo and the tests
exercise the real driver.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

from drivers.lockboard.answers import Shape
from drivers.lockboard.port import LockBoard
from drivers.lockboard.serial_board import open_board
from drivers.lockboard.serial_bus import BusRegistry
from drivers.lockboard.spec import BusTiming, ModbusBoardSpec, SerialBoardSpec
from station.config import PROTOCOL_ANSWER_MS, BoardConfig, StationConfig, Timeouts

if TYPE_CHECKING:  # each backend is imported where a board of its kind is built: a station
    # on cu boards never loads pymodbus, gpiozero or the simulator
    from drivers.gpio.lockboard import GpioBankSpec
    from drivers.sim.lockboard import LockBoardSimulator, SimBoardRequest

log = logging.getLogger(__name__)

ANSWERS_FILE = "lockboard-answers.json"


def bus_timing(timeouts: Timeouts) -> BusTiming:
    answer_ms = timeouts.answer_ms or PROTOCOL_ANSWER_MS["cu"]
    return BusTiming.from_ms(
        answer_ms, timeouts.quiet_ms, timeouts.reconnect_max_s, timeouts.quiet_chars
    )


class LearnedAnswers:
    """What each "auto" board was learnt to answer to an unlock, kept across restarts.

    A small JSON file in the data directory, so a board learnt as silent is not uncertain again
    after every restart, and `station doctor` can say what each board answers.
    """

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / ANSWERS_FILE
        self._shapes: dict[str, Shape] = {}
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            log.warning(
                "%s unreadable (%s): boards learn their unlock answers again", self.path, exc
            )
            return
        if isinstance(raw, dict):
            self._shapes = {str(k): v for k, v in raw.items() if v in get_args(Shape)}

    def get(self, board_id: str) -> Shape | None:
        return self._shapes.get(board_id)

    def all(self) -> dict[str, Shape]:
        return dict(self._shapes)

    def learned(self, board_id: str, shape: Shape) -> None:
        log.info("board %s answers unlocks with: %s (learnt)", board_id, shape)
        self._shapes[board_id] = shape
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(self._shapes, indent=1, sort_keys=True), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("cannot keep what board %s answers in %s: %s", board_id, self.path, exc)


def serial_spec(
    bc: BoardConfig,
    port: str | None = None,
    timeouts: Timeouts | None = None,
    learned: Shape | None = None,
) -> SerialBoardSpec:
    """The driver's view of a cu, dip8 or sim board; a sim board needs its simulator's `port`."""
    protocol = bc.wire_protocol
    if protocol is None or protocol == "modbus":
        raise ValueError(f"board '{bc.id}': protocol '{bc.protocol}' is not a cu/dip8 board")
    return SerialBoardSpec(
        id=bc.id,
        protocol=protocol,
        port=_port(bc, port),
        baud=bc.effective_baud,
        address=bc.address,
        channels=bc.channels,
        feedback=bc.feedback,
        item_sensor=bc.item_sensor,
        answer_s=bc.effective_answer_ms(timeouts or Timeouts()) / 1000,
        unlock_answer=bc.unlock_answer,
        unlock_wait_s=bc.unlock_wait_ms / 1000,
        learned_answer=learned,
    )


def _port(bc: BoardConfig, port: str | None) -> str:
    path = port or (bc.port if bc.protocol != "sim" else None)
    if not path:
        raise ValueError(f"board '{bc.id}': no serial port (start the simulator for 'sim')")
    return path


def modbus_spec(
    bc: BoardConfig, port: str | None = None, timeouts: Timeouts | None = None
) -> ModbusBoardSpec:
    """The driver's view of a modbus board (or a sim board speaking modbus)."""
    if bc.wire_protocol != "modbus":
        raise ValueError(f"board '{bc.id}': protocol '{bc.protocol}' is not a modbus board")
    return ModbusBoardSpec(
        id=bc.id,
        port=_port(bc, port),
        baud=bc.effective_baud,
        address=bc.address,
        channels=bc.channels,
        feedback=bc.feedback,
        unlock=bc.modbus_unlock,
        coil_base=bc.coil_base,
        flash_base=bc.flash_base,
        flash_function=bc.flash_function,
        pulse_ms=bc.pulse_ms,
        inputs=bc.inputs,
        input_base=bc.input_base,
        answer_s=bc.effective_answer_ms(timeouts or Timeouts()) / 1000,
    )


def gpio_spec(bc: BoardConfig) -> GpioBankSpec:
    from drivers.gpio.lockboard import GpioBankSpec

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
    from drivers.sim.lockboard import SimBoardRequest, SimBoardSpec

    if bc.protocol != "sim":
        raise ValueError(f"board '{bc.id}' has protocol '{bc.protocol}', not 'sim'")
    spec = SimBoardSpec(
        address=bc.address,
        channels=bc.channels,
        feedback=bc.feedback,
        auto_close_s=bc.sim_auto_close_s,
        unlock_answer=bc.sim_unlock_answer,
        coil_base=bc.coil_base,
        flash_base=bc.flash_base,
        input_base=bc.input_base,
    )
    return SimBoardRequest(id=bc.id, protocol=bc.sim_protocol, board=spec, port=bc.port)


def open_bus_board(
    bc: BoardConfig,
    buses: BusRegistry,
    port: str | None = None,
    timeouts: Timeouts | None = None,
    answers: LearnedAnswers | None = None,
) -> LockBoard:
    """The driver of one board on a serial bus (cu, dip8, modbus, or a sim speaking one)."""
    if bc.wire_protocol == "modbus":
        from drivers.lockboard.modbus_board import open_modbus_board

        return open_modbus_board(modbus_spec(bc, port, timeouts), buses)
    learned = answers.get(bc.id) if answers is not None else None
    on_learned = None if answers is None else (lambda shape: answers.learned(bc.id, shape))
    return open_board(serial_spec(bc, port, timeouts, learned), buses, on_learned=on_learned)


@dataclass
class BoardSet:
    drivers: dict[str, LockBoard] = field(default_factory=dict)
    simulators: dict[str, LockBoardSimulator] = field(default_factory=dict)
    """Simulators by board id, so the demo and tests can shut doors and inject faults."""
    buses: BusRegistry | None = None
    answers: LearnedAnswers | None = None

    async def close(self) -> None:
        for driver in self.drivers.values():
            await driver.close()
        if self.buses is not None:
            await self.buses.close()
        for sim in self.simulators.values():
            sim.stop()


async def build_boards(config: StationConfig, *, pin_factory: Any = None) -> BoardSet:
    learned = LearnedAnswers(config.station.data_dir)
    boards = BoardSet(buses=BusRegistry(bus_timing(config.timeouts)), answers=learned)
    assert boards.buses is not None
    try:
        sim_paths = _start_simulators(config, boards)
        for bc in config.boards:
            if bc.protocol == "gpio":
                from drivers.gpio.lockboard import GpioLockBoard

                boards.drivers[bc.id] = GpioLockBoard(gpio_spec(bc), pin_factory=pin_factory)
            elif bc.wire_protocol == "modbus":
                from drivers.lockboard.modbus_board import open_modbus_board

                boards.drivers[bc.id] = open_modbus_board(
                    modbus_spec(bc, sim_paths.get(bc.id), config.timeouts), boards.buses
                )
            else:
                spec = serial_spec(bc, sim_paths.get(bc.id), config.timeouts, learned.get(bc.id))
                boards.drivers[bc.id] = open_board(
                    spec, boards.buses, on_learned=lambda shape, b=bc.id: learned.learned(b, shape)
                )
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
    if by_wire_baud:
        from drivers.sim.lockboard import start_sim_boards
    for baud, configs in by_wire_baud.items():
        sims, started = start_sim_boards([sim_request(bc) for bc in configs], wire_baud=baud)
        by_path = {sim.path: sim for sim in sims}
        for bc in configs:
            boards.simulators[bc.id] = by_path[started[bc.id]]
        paths.update(started)
    return paths
