"""Every shape a cu board may answer an unlock with, through the real driver on a pty.

Status frame, acknowledgement, nothing, and late: each configured and learnt ("auto"), and in
each a door opened briefly right after its unlock is seen open by the status read that
follows at once (the bus is never blind for a second answer window).
"""

from __future__ import annotations

import asyncio

import pytest

from drivers.lockboard.answers import SILENT_TO_LEARN
from drivers.lockboard.port import BoardStatus, DoorReading, UnlockUncertain
from drivers.lockboard.serial_board import SerialLockBoard
from drivers.lockboard.serial_bus import BusRegistry
from drivers.sim.lockboard import LockBoardSimulator, SimBoardSpec

from .conftest import MakeSim

OPEN, CLOSED = DoorReading.OPEN, DoorReading.CLOSED


def cu_board(
    sim: LockBoardSimulator, buses: BusRegistry, mode: str = "auto", **kwargs: object
) -> SerialLockBoard:
    bus = buses.bus(sim.path, 19200, "b")
    return SerialLockBoard(
        "b",
        bus,
        "cu",
        0,
        16,
        "closed",
        unlock_answer=mode,
        unlock_wait_s=0.1,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("shape", ["status", "ack"])
@pytest.mark.parametrize("mode", ["auto", "configured"])
async def test_an_answering_board_is_confirmed_and_learnt(
    make_sim: MakeSim, buses: BusRegistry, shape: str, mode: str
) -> None:
    sim = make_sim("cu", [SimBoardSpec(0, unlock_answer=shape)])  # type: ignore[arg-type]
    learnt: list[str] = []
    board = cu_board(sim, buses, "auto" if mode == "auto" else shape, on_learned=learnt.append)
    fresh = await board.unlock(3)
    if shape == "status":
        assert isinstance(fresh, BoardStatus)
        assert fresh.doors[3] is OPEN and fresh.doors[4] is CLOSED  # a reading of the board
    else:
        assert fresh is None
    assert board.answers.expected == shape
    assert learnt == ([shape] if mode == "auto" else [])
    assert (await board.read_status()).doors[3] is OPEN
    assert board.bus.stats.timeouts == 0


async def test_a_board_configured_as_none_is_never_uncertain(
    make_sim: MakeSim, buses: BusRegistry
) -> None:
    sim = make_sim("cu", [SimBoardSpec(0, unlock_answer="none")])
    board = cu_board(sim, buses, "none")
    for channel in (1, 2, 3):
        assert await board.unlock(channel) is None
        assert (await board.read_status()).doors[channel] is OPEN
    assert sim.unlocks() == 3
    assert board.bus.stats.timeouts == 0  # it never even waited for an answer


async def test_a_silent_board_is_learnt_as_none_then_never_uncertain(
    make_sim: MakeSim, buses: BusRegistry
) -> None:
    sim = make_sim("cu", [SimBoardSpec(0, unlock_answer="none")])
    learnt: list[str] = []
    board = cu_board(sim, buses, on_learned=learnt.append)
    for channel in range(1, SILENT_TO_LEARN + 1):
        with pytest.raises(UnlockUncertain):
            await board.unlock(channel)  # not known yet: could be a lost answer
        await board.read_status()  # the board is alive: it simply does not answer unlocks
    assert learnt == ["none"]
    assert "none (learnt)" in board.answers.describe()
    for channel in (8, 9):
        assert await board.unlock(channel) is None
        assert (await board.read_status()).doors[channel] is OPEN
    assert sim.unlocks() == SILENT_TO_LEARN + 2


async def test_a_learnt_shape_given_back_at_start_is_used_at_once(
    make_sim: MakeSim, buses: BusRegistry
) -> None:
    sim = make_sim("cu", [SimBoardSpec(0, unlock_answer="none")])
    board = cu_board(sim, buses, learned_answer="none")
    assert await board.unlock(5) is None
    assert (await board.read_status()).doors[5] is OPEN


async def test_a_late_answer_is_recognised_during_the_status_read_that_follows(
    make_sim: MakeSim, buses: BusRegistry
) -> None:
    sim = make_sim("cu", [SimBoardSpec(0, unlock_answer="ack", unlock_delay_s=0.2)])
    board = cu_board(sim, buses)
    with pytest.raises(UnlockUncertain):
        await board.unlock(2)
    doors = (await board.read_status()).doors  # goes out at once: the bus is not blind
    assert doors[2] is OPEN
    for _ in range(20):
        if board.bus.stats.late_answers:
            break
        await asyncio.sleep(0.05)
        await board.read_status()
    assert board.bus.stats.late_answers == 1
    assert board.answers.expected == "ack"


async def test_a_board_learnt_as_none_that_starts_answering_is_learnt_again(
    make_sim: MakeSim, buses: BusRegistry
) -> None:
    sim = make_sim("cu", [SimBoardSpec(0, unlock_answer="ack")])
    board = cu_board(sim, buses, learned_answer="none")
    assert await board.unlock(1) is None  # sent without waiting: its ack comes during the read
    for _ in range(10):
        await board.read_status()
        if board.answers.expected == "ack":
            break
    assert board.answers.expected == "ack"


@pytest.mark.parametrize(
    ("shape", "delay"), [("status", 0.0), ("ack", 0.0), ("none", 0.0), ("ack", 0.2)]
)
@pytest.mark.parametrize("open_s", [0.3, 1.0])
async def test_a_door_open_briefly_right_after_its_unlock_is_seen_open(
    make_sim: MakeSim, buses: BusRegistry, shape: str, delay: float, open_s: float
) -> None:
    spec = SimBoardSpec(0, unlock_answer=shape, unlock_delay_s=delay, auto_close_s=open_s)  # type: ignore[arg-type]
    sim = make_sim("cu", [spec])
    board = cu_board(sim, buses, "none" if shape == "none" else "auto")
    seen: list[DoorReading] = []
    try:
        fresh = await board.unlock(4)
        if fresh is not None:
            seen.append(fresh.doors[4])
    except UnlockUncertain:
        pass  # an unknown board's late answer: the door is watched all the same
    seen.append((await board.read_status()).doors[4])  # the read that follows at once
    assert OPEN in seen
