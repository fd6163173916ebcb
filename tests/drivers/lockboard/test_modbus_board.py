"""ModbusLockBoard over real pyserial against the Modbus RTU slave simulator on a pty."""

from __future__ import annotations

import asyncio
import time

import pytest

from drivers.lockboard import modbus
from drivers.lockboard.modbus_board import ModbusLockBoard, open_modbus_board
from drivers.lockboard.port import BoardUnavailable, DoorReading, LockBoard, UnlockUncertain
from drivers.lockboard.serial_bus import BusRegistry
from drivers.lockboard.spec import ModbusBoardSpec
from drivers.sim.lockboard import LockBoardSimulator, SimBoardSpec

from .conftest import MakeSim

OPEN, CLOSED = DoorReading.OPEN, DoorReading.CLOSED


def modbus_board(
    sim: LockBoardSimulator, buses: BusRegistry, address: int = 1, **kwargs: object
) -> ModbusLockBoard:
    values: dict[str, object] = {"channels": 8, "pulse_ms": 100}
    values.update(kwargs)
    spec = ModbusBoardSpec(f"M{address}", sim.path, 9600, address, **values)  # type: ignore[arg-type]
    return open_modbus_board(spec, buses)


async def eventually_readable(
    board: ModbusLockBoard, within: float = 3.0
) -> dict[int, DoorReading]:
    deadline = time.monotonic() + within
    while True:
        try:
            return (await board.read_status()).doors
        except BoardUnavailable:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


async def test_a_coil_pulse_opens_the_door_and_leaves_the_coil_off(
    make_sim: MakeSim, buses: BusRegistry
) -> None:
    sim = make_sim("modbus", [SimBoardSpec(1, channels=8)])
    board = modbus_board(sim, buses)
    assert isinstance(board, LockBoard)
    assert (await board.read_status()).doors == dict.fromkeys(range(1, 9), CLOSED)
    await board.unlock(3)
    assert sim.is_open(3) and not sim.coil_on(3)
    assert (await board.read_status()).doors[3] is OPEN
    writes = [rx.command for rx in sim.received() if isinstance(rx.command, modbus.WriteSingle)]
    assert [(w.address, w.value) for w in writes] == [(2, 0xFF00), (2, 0x0000)]
    assert sim.unlocks(3) == 1


async def test_every_coil_is_switched_off_before_the_first_read(
    make_sim: MakeSim, buses: BusRegistry
) -> None:
    sim = make_sim("modbus", [SimBoardSpec(1, channels=8)])
    sim_coils = modbus.encode_write_coil(1, 4, True)  # left on by a crash before the restart
    board = modbus_board(sim, buses)
    bus = board.bus
    await bus.transact(sim_coils, modbus.scan_answers, lambda f: isinstance(f, modbus.WriteSingle))
    assert sim.coil_on(5)
    await board.read_status()
    assert not sim.coil_on(5)
    assert isinstance(sim.received()[1].command, modbus.WriteCoils)


@pytest.mark.parametrize("function", [5, 6])
async def test_the_boards_own_pulse_function_is_one_write(
    make_sim: MakeSim, buses: BusRegistry, function: int
) -> None:
    sim = make_sim("modbus", [SimBoardSpec(2, channels=4, flash_base=0x0200)])
    board = modbus_board(
        sim, buses, 2, channels=4, unlock="flash", flash_function=function, pulse_ms=500
    )
    await board.unlock(4)
    assert sim.is_open(4)
    (write,) = [rx.command for rx in sim.received()]
    assert write == modbus.WriteSingle(2, function, 0x0203, 5)  # 500 ms in 100 ms units


async def test_input_registers_offsets_and_polarity(make_sim: MakeSim, buses: BusRegistry) -> None:
    sim = make_sim(
        "modbus", [SimBoardSpec(7, channels=4, feedback="open", coil_base=16, input_base=32)]
    )
    board = modbus_board(
        sim,
        buses,
        7,
        channels=4,
        feedback="open",
        coil_base=16,
        inputs="input_register",
        input_base=32,
    )
    await board.unlock(2)
    doors = (await board.read_status()).doors
    assert doors == {1: CLOSED, 2: OPEN, 3: CLOSED, 4: CLOSED}


async def test_a_wrong_address_in_the_config_is_a_refusal_that_says_so(
    make_sim: MakeSim, buses: BusRegistry
) -> None:
    sim = make_sim("modbus", [SimBoardSpec(1, channels=4)])
    board = modbus_board(sim, buses, channels=4, input_base=100)
    with pytest.raises(BoardUnavailable, match=r"refused .illegal data address.*config"):
        await board.read_status()


async def test_jammed_and_forced_doors(make_sim: MakeSim, buses: BusRegistry) -> None:
    sim = make_sim("modbus", [SimBoardSpec(1, channels=8)])
    board = modbus_board(sim, buses)
    sim.set_jammed(2)
    await board.unlock(2)  # the board pulses, the latch does not move
    assert (await board.read_status()).doors[2] is CLOSED
    sim.force_open(6)
    assert (await board.read_status()).doors[6] is OPEN
    assert sim.unlocks(6) == 0


async def test_a_silent_board_is_unavailable_and_an_unlock_uncertain_never_resent(
    make_sim: MakeSim, buses: BusRegistry
) -> None:
    sim = make_sim("modbus", [SimBoardSpec(1, channels=8)])
    board = modbus_board(sim, buses)
    await board.read_status()
    sim.set_silent()
    with pytest.raises(BoardUnavailable, match=r"no answer within 300 ms"):
        await board.read_status()
    with pytest.raises(UnlockUncertain, match="may have fired"):
        await board.unlock(3)
    assert sim.unlocks(3) == 1 and sim.is_open(3)
    # The on was heard (and the off too): it never re-sends the on, it always sends the off.
    ons = [
        rx.command
        for rx in sim.received()
        if isinstance(rx.command, modbus.WriteSingle) and rx.command.value == modbus.COIL_ON
    ]
    assert len(ons) == 1
    sim.set_silent(False)
    assert (await eventually_readable(board))[3] is OPEN
    assert not sim.coil_on(3)  # the lost off was made good before the next read


async def test_a_late_answer_is_never_taken_for_the_next_read(
    make_sim: MakeSim, buses: BusRegistry
) -> None:
    sim = make_sim("modbus", [SimBoardSpec(1, channels=8)])
    board = modbus_board(sim, buses)
    await board.read_status()
    sim.set_answer_delay(0.4)  # "all closed", too late
    with pytest.raises(BoardUnavailable, match="no answer"):
        await board.read_status()
    sim.set_answer_delay(0)
    sim.force_open(1)
    assert (await board.read_status()).doors[1] is OPEN


async def test_garbage_on_the_line_is_skipped(make_sim: MakeSim, buses: BusRegistry) -> None:
    sim = make_sim("modbus", [SimBoardSpec(1, channels=8)])
    board = modbus_board(sim, buses)
    sim.set_answer_prefix(b"\x00\xff\x01\x05")
    await board.unlock(5)
    assert (await board.read_status()).doors[5] is OPEN
    sim.set_answer_prefix(b"")
    sim.inject_garbage(bytes(range(256)))
    await asyncio.sleep(0.05)
    sim.close_door(5)
    assert (await eventually_readable(board))[5] is CLOSED
    assert board.bus.stats.noise_bytes > 0


async def test_unplug_fails_fast_and_replug_recovers(make_sim: MakeSim, buses: BusRegistry) -> None:
    sim = make_sim("modbus", [SimBoardSpec(1, channels=8)])
    board = modbus_board(sim, buses)
    await board.unlock(1)
    sim.unplug()
    with pytest.raises(BoardUnavailable, match=r"adapter gone|cannot open"):
        await board.read_status()
    with pytest.raises(BoardUnavailable, match="nothing sent"):
        await board.unlock(2)
    sim.replug()
    doors = await eventually_readable(board)
    assert doors[1] is OPEN and doors[2] is CLOSED
    assert sim.unlocks(2) == 0


async def test_modbus_and_cu_boards_never_share_an_adapter(
    make_sim: MakeSim, buses: BusRegistry
) -> None:
    sim = make_sim("modbus", [SimBoardSpec(1, channels=8)])
    modbus_board(sim, buses)
    with pytest.raises(ValueError, match="one protocol family per adapter"):
        buses.bus(sim.path, 9600, "cu-board")


async def test_a_cancelled_unlock_still_switches_its_coil_off(
    make_sim: MakeSim, buses: BusRegistry
) -> None:
    sim = make_sim("modbus", [SimBoardSpec(1, channels=8)])
    board = modbus_board(sim, buses, pulse_ms=3000)
    await board.read_status()
    unlock = asyncio.create_task(board.unlock(4))
    for _ in range(100):
        if sim.coil_on(4):
            break
        await asyncio.sleep(0.02)
    assert sim.coil_on(4)
    unlock.cancel()
    with pytest.raises(asyncio.CancelledError):
        await unlock
    assert not sim.coil_on(4)
