"""Every shape a cu board may answer an unlock with, through the real driver on a pty.

Status frame, acknowledgement, nothing, and late: each configured and learnt ("auto"), and in
each a door opened briefly right after its unlock is seen open by the status read that
follows at once (the bus is never blind for a second answer window).
"""

from __future__ import annotations

import asyncio
import time

import pytest

from drivers.lockboard import serial_bus
from drivers.lockboard.answers import SILENT_TO_LEARN, STATUS_TO_RELEARN
from drivers.lockboard.port import BoardStatus, BoardUnavailable, DoorReading, UnlockUncertain
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
    else:  # acknowledged: the board's doors are read right after, in the same turn of the bus
        assert isinstance(fresh, BoardStatus) and fresh.doors[3] is OPEN
        heard = [type(r.command).__name__ for r in sim.received()]
        assert heard == ["UnlockCommand", "StatusCommand"]
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
        fresh = await board.unlock(channel)  # sent, then the doors read at once
        assert fresh is not None and fresh.doors[channel] is OPEN
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
        fresh = await board.unlock(channel)
        assert fresh is not None and fresh.doors[channel] is OPEN
        assert (await board.read_status()).doors[channel] is OPEN
    assert sim.unlocks() == SILENT_TO_LEARN + 2


async def test_a_learnt_shape_given_back_at_start_is_used_at_once(
    make_sim: MakeSim, buses: BusRegistry
) -> None:
    sim = make_sim("cu", [SimBoardSpec(0, unlock_answer="none")])
    board = cu_board(sim, buses, learned_answer="none")
    fresh = await board.unlock(5)
    assert fresh is not None and fresh.doors[5] is OPEN
    assert board.bus.stats.timeouts == 0  # it never waited for an answer


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
    await board.unlock(1)  # sent without waiting: its ack comes during a read that follows
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
    except UnlockUncertain as exc:  # an unknown board's late answer: the door is watched
        if exc.reading is not None:  # read right after the unlock all the same
            seen.append(exc.reading.doors[4])
    seen.append((await board.read_status()).doors[4])  # the read that follows at once
    assert OPEN in seen


async def test_an_unlock_goes_ahead_of_polls_waiting_for_the_bus(
    make_sim: MakeSim, buses: BusRegistry
) -> None:
    """Three boards on one bus: while board 0's status read is on the wire, boards 1 and 2
    queue their polls, then board 0 is unlocked. The read on the wire finishes (it cannot be
    called back); the unlock and its read-back go next, before the waiting polls."""
    sim = make_sim("cu", [SimBoardSpec(a, unlock_answer="ack") for a in (0, 1, 2)])
    bus = buses.bus(sim.path, 19200, "b0")
    boards = [
        SerialLockBoard(f"b{a}", bus, "cu", a, 16, "closed", unlock_answer="ack") for a in (0, 1, 2)
    ]
    await boards[0].read_status()  # the port is open and the line quiet
    sim.clear_received()
    sim.set_answer_delay(0.15)  # long enough for everyone to queue behind the first read
    on_wire = asyncio.create_task(boards[0].read_status())
    while not sim.received():  # noqa: ASYNC110 - the simulator hears in its own thread
        await asyncio.sleep(0.005)
    sim.set_answer_delay(0.0)  # the first read's answer is already on its way, late
    polls = [asyncio.create_task(b.read_status()) for b in boards[1:]]
    await asyncio.sleep(0.02)  # both polls now wait for the bus
    fresh = await boards[0].unlock(7)
    await asyncio.gather(on_wire, *polls)
    order = [(type(r.command).__name__, r.command.board) for r in sim.received()]
    assert order == [
        ("StatusCommand", 0),
        ("UnlockCommand", 0),
        ("StatusCommand", 0),
        ("StatusCommand", 1),
        ("StatusCommand", 2),
    ]
    assert fresh is not None and fresh.doors[7] is OPEN


async def test_an_announced_unlock_goes_ahead_of_a_poll_not_yet_started(
    make_sim: MakeSim, buses: BusRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unlock's request is still being handled when the board's poll comes due: announced
    (as the API does on the request's arrival), the poll waits instead of taking the bus for
    a whole exchange, and the unlock and its read-back go first."""
    monkeypatch.setattr(serial_bus, "URGENT_NOTICE_S", 60.0)  # no expiry on a loaded machine
    sim = make_sim("cu", [SimBoardSpec(0, unlock_answer="ack")])
    board = cu_board(sim, buses, "ack")
    await board.read_status()  # the port is open and the line quiet
    sim.clear_received()
    release = board.expect_unlock()
    poll = asyncio.create_task(board.read_status())
    await asyncio.sleep(0.05)  # long enough for the poll to reach the bus's thread
    assert sim.received() == []  # held back, not sent
    fresh = await board.unlock(5)
    await poll
    release()  # the request ends: nothing left to release
    order = [type(r.command).__name__ for r in sim.received()]
    assert order == ["UnlockCommand", "StatusCommand", "StatusCommand"]
    assert fresh is not None and fresh.doors[5] is OPEN


async def test_a_notice_released_or_never_followed_does_not_hold_polls(
    make_sim: MakeSim, buses: BusRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request refused before its unlock releases its notice: the poll goes at once (a
    leaked notice would hold it a minute here). One whose request never ends holds a poll at
    most URGENT_NOTICE_S, and never starves the board's polls."""
    sim = make_sim("cu", [SimBoardSpec(0, unlock_answer="ack")])
    board = cu_board(sim, buses, "ack")
    monkeypatch.setattr(serial_bus, "URGENT_NOTICE_S", 60.0)
    release = board.expect_unlock()
    poll = asyncio.create_task(board.read_status())
    await asyncio.sleep(0.02)
    release()
    assert (await asyncio.wait_for(poll, 10)).doors[1] is CLOSED
    monkeypatch.setattr(serial_bus, "URGENT_NOTICE_S", 0.05)
    board.expect_unlock()  # never followed, never released
    for _ in range(3):
        assert (await asyncio.wait_for(board.read_status(), 10)).doors[1] is CLOSED
    assert [type(r.command).__name__ for r in sim.received()].count("UnlockCommand") == 0


async def test_a_cancelled_wait_for_the_bus_gives_up_its_place(
    make_sim: MakeSim, buses: BusRegistry
) -> None:
    sim = make_sim("cu", [SimBoardSpec(a) for a in (0, 1)])
    bus = buses.bus(sim.path, 19200, "b0")
    first, second = (SerialLockBoard(f"b{a}", bus, "cu", a, 16, "closed") for a in (0, 1))
    sim.set_answer_delay(0.1)
    on_wire = asyncio.create_task(first.read_status())
    while not sim.received():  # noqa: ASYNC110 - the simulator hears in its own thread
        await asyncio.sleep(0.005)
    sim.set_answer_delay(0.0)
    waiting = asyncio.create_task(second.read_status())
    await asyncio.sleep(0.02)
    waiting.cancel()
    await on_wire
    sim.set_answer_delay(0.0)
    assert (await second.read_status()).doors[1] is CLOSED  # the bus was handed on, not lost


@pytest.mark.parametrize("audit_s", [0.0, 0.5])
async def test_an_acknowledgement_late_for_its_wait_but_heard_in_the_read_back_confirms(
    make_sim: MakeSim, buses: BusRegistry, audit_s: float
) -> None:
    """A loaded machine: every answer comes 150 ms late, past the unlock's 100 ms wait but well
    within a status read's window. The acknowledgement turns up while the read-back that
    follows in the same turn of the bus runs (before its own answer): the unlock is confirmed,
    not uncertain, and never re-sent. Its window counts from the frame, not from before a slow
    audit commit (`audit_s`) that held the frame back."""
    sim = make_sim("cu", [SimBoardSpec(0, unlock_answer="ack")])
    board = cu_board(sim, buses, "ack")
    await board.read_status()  # the port is open and the line quiet
    sim.set_answer_delay(0.15)
    fresh = await board.unlock(6, before_send=lambda: time.sleep(audit_s))
    assert fresh is not None and fresh.doors[6] is OPEN
    assert board.bus.stats.late_answers == 1
    assert sim.unlocks(6) == 1
    assert [type(r.command).__name__ for r in sim.received()][-2:] == [
        "UnlockCommand",
        "StatusCommand",
    ]


@pytest.mark.parametrize("mode", ["learnt", "configured"])
async def test_a_late_poll_answer_in_an_unlocks_wait_is_not_an_acknowledging_boards_answer(
    make_sim: MakeSim, buses: BusRegistry, mode: str
) -> None:
    """A poll times out; its status frame (the doors before the unlock) comes during the next
    unlock's wait, just before the acknowledgement. On a board known to acknowledge, it is
    the poll's late answer: never the unlock's answer, never its reading, and it teaches
    nothing."""
    sim = make_sim("cu", [SimBoardSpec(0, unlock_answer="ack")])
    learnt: list[str] = []
    if mode == "learnt":
        board = cu_board(sim, buses, learned_answer="ack", on_learned=learnt.append)
    else:
        board = cu_board(sim, buses, "ack", on_learned=learnt.append)
    assert (await board.read_status()).doors[3] is CLOSED
    sim.hold_status_answer()
    with pytest.raises(BoardUnavailable):
        await board.read_status()  # timed out: its answer is on its way, late
    fresh = await board.unlock(3)
    assert fresh is None or fresh.doors[3] is OPEN  # the stale "closed" is not its reading
    assert board.answers.expected == "ack"
    assert learnt == []
    assert board.bus.stats.late_answers == 1  # recognised as the poll's late answer
    assert (await board.read_status()).doors[3] is OPEN
    assert sim.unlocks(3) == 1


async def test_an_acknowledging_board_that_now_answers_with_status_is_learnt_again(
    make_sim: MakeSim, buses: BusRegistry
) -> None:
    """A board learnt as "ack" (a replaced board, new firmware) now answers unlocks with its
    status frame: STATUS_TO_RELEARN such unlocks in a row, none acknowledged, teach "status";
    until then each is uncertain, read back all the same."""
    sim = make_sim("cu", [SimBoardSpec(0, unlock_answer="status")])
    learnt: list[str] = []
    board = cu_board(sim, buses, learned_answer="ack", on_learned=learnt.append)
    for channel in range(1, STATUS_TO_RELEARN + 1):
        with pytest.raises(UnlockUncertain) as caught:
            await board.unlock(channel)
        assert caught.value.reading is not None and caught.value.reading.doors[channel] is OPEN
        await board.read_status()
    assert learnt == ["status"]
    assert "status (learnt)" in board.answers.describe()
    fresh = await board.unlock(9)  # its status frame is its answer now
    assert fresh is not None and fresh.doors[9] is OPEN
    assert [type(r.command).__name__ for r in sim.received()][-1] == "UnlockCommand"
    assert sim.unlocks() == STATUS_TO_RELEARN + 1


async def test_an_acknowledgement_between_status_answered_unlocks_keeps_the_board_ack(
    make_sim: MakeSim, buses: BusRegistry
) -> None:
    """Only consecutive unlocks answered by status teach it: one acknowledged unlock between
    them (a late poll answer was all the first one heard) starts the count again."""
    sim = make_sim("cu", [SimBoardSpec(0, unlock_answer="status")])
    learnt: list[str] = []
    board = cu_board(sim, buses, learned_answer="ack", on_learned=learnt.append)
    channel = 0
    for _ in range(STATUS_TO_RELEARN):
        for shape in ["status"] * (STATUS_TO_RELEARN - 1) + ["ack"]:
            sim.set_unlock_answer(shape)  # type: ignore[arg-type]
            channel += 1
            try:
                await board.unlock(channel)
            except UnlockUncertain:
                assert shape == "status"
            await board.read_status()
    assert learnt == []
    assert board.answers.expected == "ack"
