"""The composition root's mapping of the station's config onto the drivers' own specs."""

from __future__ import annotations

import pytest

from drivers.lockboard.port import DoorReading
from drivers.lockboard.serial_board import open_board
from drivers.lockboard.serial_bus import BusRegistry
from drivers.sim.lockboard import start_sim_board
from station.config import BoardConfig, Timeouts
from station.doors.boards import bus_timing, gpio_spec, serial_spec, sim_request


async def test_a_sim_board_from_config_is_a_real_serial_board() -> None:
    config = BoardConfig(id="S", protocol="sim", sim_protocol="dip8", address=4, channels=8)
    buses = BusRegistry(bus_timing(Timeouts(answer_ms=300, quiet_ms=20)))
    sim, path = start_sim_board(sim_request(config))
    try:
        board = open_board(serial_spec(config, port=path), buses)
        await board.unlock(8)
        assert (await board.read_status()).doors[8] is DoorReading.OPEN
        await board.close()
    finally:
        await buses.close()
        sim.stop()


def test_serial_spec_carries_the_board_and_refuses_what_is_not_serial() -> None:
    cu = BoardConfig(id="C", protocol="cu", port="/dev/x", address=3, channels=8, feedback="open")
    spec = serial_spec(cu)
    assert (spec.protocol, spec.port, spec.address, spec.channels, spec.feedback) == (
        "cu",
        "/dev/x",
        3,
        8,
        "open",
    )
    gpio = BoardConfig(id="G", protocol="gpio", channels=1, relay_pins=[5])
    with pytest.raises(ValueError, match="not a cu/dip8 board"):
        serial_spec(gpio)
    with pytest.raises(ValueError, match="start the simulator"):
        serial_spec(BoardConfig(id="S", protocol="sim"))
    with pytest.raises(ValueError, match="not 'sim'"):
        sim_request(cu)
    with pytest.raises(ValueError, match="not a GPIO bank"):
        gpio_spec(cu)


def test_gpio_spec_carries_pins_and_pulse() -> None:
    bc = BoardConfig(
        id="G", protocol="gpio", channels=2, relay_pins=[5, 6], sensor_pins=[7, 8], pulse_ms=300
    )
    spec = gpio_spec(bc)
    assert spec.channels == 2
    assert tuple(spec.sensor_pins) == (7, 8)
    assert spec.pulse_ms == 300
