"""SerialLockBoard over real pyserial against the simulator on a pty, through every fault."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from pathlib import Path

import pytest

from drivers.lockboard import cu, dip8
from drivers.lockboard.port import (
    BoardUnavailable,
    DoorReading,
    LockBoard,
    UnlockUncertain,
)
from drivers.lockboard.serial_board import SerialLockBoard, open_board
from drivers.lockboard.serial_bus import BusRegistry
from drivers.lockboard.spec import BusTiming, SerialBoardSpec
from drivers.sim.lockboard import LockBoardSimulator, SimBoardSpec

from .conftest import MakeSim

OPEN, CLOSED = DoorReading.OPEN, DoorReading.CLOSED
PROTOCOLS = pytest.mark.parametrize("protocol", ["cu", "dip8"])


def board_on(
    sim: LockBoardSimulator,
    buses: BusRegistry,
    *,
    address: int = 0,
    channels: int = 16,
    feedback: str = "closed",
    item_sensors: bool = False,
    board_id: str = "b",
) -> SerialLockBoard:
    bus = buses.bus(sim.path, 9600, board_id)
    return SerialLockBoard(
        board_id,
        bus,
        sim.protocol,
        address,
        channels,
        feedback,  # type: ignore[arg-type]
        item_sensors,
    )


async def eventually_readable(
    board: SerialLockBoard, within: float = 3.0
) -> dict[int, DoorReading]:
    deadline = time.monotonic() + within
    while True:
        try:
            return (await board.read_status()).doors
        except BoardUnavailable:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


# --- doors ------------------------------------------------------------------------------------


@PROTOCOLS
@pytest.mark.parametrize("feedback", ["closed", "open"])
async def test_unlock_opens_the_door_and_status_follows_it(
    make_sim: MakeSim, buses: BusRegistry, protocol: str, feedback: str
) -> None:
    sim = make_sim(protocol, [SimBoardSpec(1, channels=8, feedback=feedback)])  # type: ignore[arg-type]
    board = board_on(sim, buses, address=1, channels=8, feedback=feedback)
    assert isinstance(board, LockBoard)
    assert (await board.read_status()).doors == dict.fromkeys(range(1, 9), CLOSED)

    await board.unlock(3)
    assert sim.is_open(3)
    assert (await board.read_status()).doors[3] is OPEN

    sim.close_door(3)
    assert (await board.read_status()).doors == dict.fromkeys(range(1, 9), CLOSED)
    assert sim.unlocks(3) == 1


async def test_the_feedback_setting_decides_what_a_set_bit_means(
    make_sim: MakeSim, buses: BusRegistry
) -> None:
    # The board's switches are wired "set = open", but the config claims "set = closed".
    sim = make_sim("cu", [SimBoardSpec(0, channels=4, feedback="open")])
    wrong = board_on(sim, buses, channels=4, feedback="closed")
    assert (await wrong.read_status()).doors == dict.fromkeys(range(1, 5), OPEN)
    await wrong.close()
    right = board_on(sim, buses, channels=4, feedback="open", board_id="b2")
    assert (await right.read_status()).doors == dict.fromkeys(range(1, 5), CLOSED)


async def test_a_24_channel_dip8_board_reads_all_three_groups(
    make_sim: MakeSim, buses: BusRegistry
) -> None:
    sim = make_sim("dip8", [SimBoardSpec(5, channels=24)])
    board = board_on(sim, buses, address=5, channels=24)
    for channel in (2, 9, 20, 24):
        await board.unlock(channel)
    doors = (await board.read_status()).doors
    assert [ch for ch, reading in doors.items() if reading is OPEN] == [2, 9, 20, 24]


async def test_cu_item_sensors_are_reported_when_the_board_has_them(
    make_sim: MakeSim, buses: BusRegistry
) -> None:
    sim = make_sim("cu", [SimBoardSpec(0, channels=4)])
    sim.set_item(2, True)
    with_items = board_on(sim, buses, channels=4, item_sensors=True)
    assert (await with_items.read_status()).items == {1: False, 2: True, 3: False, 4: False}
    without = board_on(sim, buses, channels=4, board_id="plain")
    assert (await without.read_status()).items is None


@PROTOCOLS
async def test_a_forced_door_reads_open(
    make_sim: MakeSim, buses: BusRegistry, protocol: str
) -> None:
    sim = make_sim(protocol)
    board = board_on(sim, buses)
    sim.force_open(7)
    assert (await board.read_status()).doors[7] is OPEN
    assert sim.unlocks() == 0


async def test_unlocking_a_channel_the_board_lacks_is_refused(
    make_sim: MakeSim, buses: BusRegistry
) -> None:
    sim = make_sim("cu", [SimBoardSpec(0, channels=4)])
    board = board_on(sim, buses, channels=4)
    with pytest.raises(ValueError, match=r"has channels 1\.\.4, not 5"):
        await board.unlock(5)
    assert sim.received() == []


# --- faults -----------------------------------------------------------------------------------


@PROTOCOLS
async def test_a_jammed_lock_answers_but_the_door_stays_shut(
    make_sim: MakeSim, buses: BusRegistry, protocol: str
) -> None:
    sim = make_sim(protocol)
    board = board_on(sim, buses)
    sim.set_jammed(4)
    await board.unlock(4)  # the board acknowledges: the jam shows only at the door
    assert (await board.read_status()).doors[4] is CLOSED
    assert sim.unlocks(4) == 1


@PROTOCOLS
async def test_a_silent_board_is_unavailable_and_an_unlock_is_uncertain_and_never_resent(
    make_sim: MakeSim, buses: BusRegistry, timing: BusTiming, protocol: str
) -> None:
    sim = make_sim(protocol)
    board = board_on(sim, buses)
    sim.set_silent()
    with pytest.raises(BoardUnavailable, match="no answer within 300 ms"):
        await board.read_status()
    with pytest.raises(UnlockUncertain, match="may have fired"):
        await board.unlock(3)
    with pytest.raises(BoardUnavailable):
        await board.read_status()
    await asyncio.sleep(2 * timing.answer_s)
    assert sim.unlocks(3) == 1  # exactly one frame, though nobody confirmed it
    assert sim.unlocks() == 1
    assert sim.is_open(3)  # it did fire: which is why the station watches the door

    sim.set_silent(False)
    assert (await board.read_status()).doors[3] is OPEN
    assert sim.unlocks() == 1


@PROTOCOLS
async def test_a_late_answer_is_never_taken_for_the_next_commands_answer(
    make_sim: MakeSim, buses: BusRegistry, protocol: str
) -> None:
    sim = make_sim(protocol)
    board = board_on(sim, buses)
    sim.set_answer_delay(0.4)  # the timeout is 0.3 s: this answer says "door 1 closed", late
    with pytest.raises(BoardUnavailable, match="no answer"):
        await board.read_status()
    sim.set_answer_delay(0)
    sim.force_open(1)
    # Asked at once (after a quiet line, not a second answer window), while the late answer
    # is still on its way: the fresh answer comes first and is the one taken.
    assert (await board.read_status()).doors[1] is OPEN
    await asyncio.sleep(0.2)  # the late "closed" answer has arrived meanwhile
    assert (await board.read_status()).doors[1] is OPEN
    assert board.bus.stats.timeouts == 1

    # And when the late answer has already arrived before the next command.
    sim.set_answer_delay(0.4)
    with pytest.raises(BoardUnavailable):
        await board.read_status()
    sim.set_answer_delay(0)
    sim.close_door(1)
    await asyncio.sleep(0.3)
    assert (await board.read_status()).doors[1] is CLOSED


async def test_a_late_unlock_answer_does_not_confirm_the_next_unlock(
    make_sim: MakeSim, buses: BusRegistry
) -> None:
    sim = make_sim("dip8")
    board = board_on(sim, buses)
    sim.set_answer_delay(0.4)
    first = asyncio.create_task(board.unlock(2))
    while not sim.received():  # noqa: ASYNC110 - the simulator hears in its own thread
        await asyncio.sleep(0.005)
    sim.set_answer_delay(0)  # the read-back is answered before the unlock's late answer
    with pytest.raises(UnlockUncertain):
        await first
    sim.set_silent()
    sim.set_answer_delay(0)
    with pytest.raises(UnlockUncertain):
        await board.unlock(2)  # the late answer for channel 2 arrives now, but it is not this one's
    assert sim.unlocks(2) == 2


_NOISE = {
    # false starts, a truncated frame and a valid frame for another board on the bus
    "cu": bytes.fromhex("02 FF 35 02 10 35") + cu.encode_status_answer(5, [True] * 16),
    "dip8": bytes.fromhex("80 8A 00 80 01") + dip8.encode_status_answer(7, [True] * 16, 2),
}


@PROTOCOLS
async def test_garbage_on_the_line_is_skipped_and_the_bus_resynchronises(
    make_sim: MakeSim, buses: BusRegistry, protocol: str
) -> None:
    sim = make_sim(protocol)
    board = board_on(sim, buses)
    sim.set_answer_prefix(_NOISE[protocol])
    sim.force_open(2)
    assert (await board.read_status()).doors[2] is OPEN
    await board.unlock(5)
    assert (await board.read_status()).doors[5] is OPEN
    stats = board.bus.stats
    assert stats.noise_bytes > 0
    assert stats.stray_frames >= 1

    sim.set_answer_prefix(b"")
    sim.inject_garbage(bytes(range(256)))  # between commands, as from a noisy cable
    await asyncio.sleep(0.05)
    sim.close_door(2)
    assert (await board.read_status()).doors[2] is CLOSED
    assert sim.unlocks(5) == 1


async def test_a_line_that_never_goes_quiet_gets_no_command(make_sim: MakeSim) -> None:
    sim = make_sim("cu")
    # quiet_ms well above the babbler's period, even on a loaded machine
    buses = BusRegistry(BusTiming.from_ms(answer_ms=300, quiet_ms=100, reconnect_max_s=0.4))
    board = board_on(sim, buses)
    stop = threading.Event()

    def babble() -> None:
        while not stop.wait(0.005):
            sim.inject_garbage(b"\xff" * 8)

    babbler = threading.Thread(target=babble)
    babbler.start()
    try:
        sim.set_answer_prefix(b"\xff")  # noise inside an exchange arms the drain
        await board.read_status()
        with pytest.raises(BoardUnavailable, match="does not go quiet"):
            await board.read_status()
        with pytest.raises(BoardUnavailable, match="nothing sent"):
            await board.unlock(1)
        assert sim.unlocks() == 0
    finally:
        stop.set()
        babbler.join()
    sim.set_answer_prefix(b"")
    assert (await eventually_readable(board))[1] is CLOSED
    await buses.close()


@PROTOCOLS
async def test_unplug_fails_fast_and_replug_recovers_by_itself(
    make_sim: MakeSim, buses: BusRegistry, protocol: str
) -> None:
    sim = make_sim(protocol)
    board = board_on(sim, buses)
    await board.unlock(1)
    sim.unplug()

    started = time.monotonic()
    with pytest.raises(BoardUnavailable, match="adapter gone"):
        await board.read_status()
    with pytest.raises(BoardUnavailable, match="nothing sent"):
        await board.unlock(2)  # nothing went out, so this is certain: the door did not fire
    for _ in range(5):
        with pytest.raises(BoardUnavailable):
            await board.read_status()
    assert time.monotonic() - started < 0.5  # fails at once, no answer timeout per call

    sim.replug()
    doors = await eventually_readable(board)
    assert doors[1] is OPEN and doors[2] is CLOSED
    assert sim.unlocks(2) == 0
    assert board.bus.stats.disconnects == 1
    assert board.bus.stats.reconnects == 1


async def test_losing_the_adapter_mid_exchange_makes_the_unlock_uncertain(
    make_sim: MakeSim, buses: BusRegistry
) -> None:
    sim = make_sim("cu")
    board = board_on(sim, buses)
    await board.read_status()  # port open
    sim.set_answer_delay(0.25)
    unlock = asyncio.create_task(board.unlock(6))
    await asyncio.sleep(0.1)
    sim.unplug()
    with pytest.raises(UnlockUncertain, match=r"reading failed|no answer"):
        await unlock
    assert sim.unlocks(6) == 1


async def test_reopening_backs_off_exponentially_up_to_the_cap(
    buses: BusRegistry, tmp_path: Path
) -> None:
    bus = buses.bus(str(tmp_path / "no-such-adapter"), 9600, "b")
    board = SerialLockBoard("b", bus, "cu", 0, 16, "closed")
    waits: list[float] = []
    deadline = time.monotonic() + 1.6
    while time.monotonic() < deadline:
        with pytest.raises(BoardUnavailable) as err:
            await board.read_status()
        found = re.search(r"cannot open .*retrying in ([0-9.]+) s", str(err.value))
        if found:
            waits.append(float(found.group(1)))
        await asyncio.sleep(0.01)
    assert waits[:3] == [0.1, 0.2, 0.4]
    assert max(waits) == 0.4  # reconnect_max_s
    assert 4 <= len(waits) <= 7  # attempts are spaced, not made on every call


async def test_an_adapter_missing_at_start_is_picked_up_when_it_appears(
    buses: BusRegistry, tmp_path: Path
) -> None:
    link = tmp_path / "station-locks"
    spec = SerialBoardSpec("L", "dip8", str(link), 9600, address=2, channels=8)
    board = open_board(spec, buses)
    with pytest.raises(BoardUnavailable, match="cannot open"):
        await board.read_status()
    with LockBoardSimulator("dip8", [SimBoardSpec(2, channels=8)], link_path=link):
        assert await eventually_readable(board) == dict.fromkeys(range(1, 9), CLOSED)
        await board.close()


# --- sharing a bus ----------------------------------------------------------------------------


@PROTOCOLS
async def test_two_boards_share_one_bus(
    make_sim: MakeSim, buses: BusRegistry, protocol: str
) -> None:
    sim = make_sim(protocol, [SimBoardSpec(1, channels=8), SimBoardSpec(2, channels=16)])
    first = open_board(SerialBoardSpec("A", protocol, sim.path, 9600, 1, 8), buses)  # type: ignore[arg-type]
    second = open_board(SerialBoardSpec("B", protocol, sim.path, 9600, 2, 16), buses)  # type: ignore[arg-type]
    assert first.bus is second.bus

    await second.unlock(3)
    assert not sim.is_open(3, address=1)
    for _ in range(5):  # concurrent callers: the bus keeps one command in flight
        a, b = await asyncio.gather(first.read_status(), second.read_status())
        assert set(a.doors) == set(range(1, 9))
        assert a.doors[3] is CLOSED and b.doors[3] is OPEN

    sim.set_silent(address=1)
    with pytest.raises(BoardUnavailable):
        await first.read_status()
    assert (await second.read_status()).doors[3] is OPEN  # the other board is unaffected

    await first.close()
    assert not first.bus.closed  # still used by the second board
    await second.close()
    assert second.bus.closed
    with pytest.raises(BoardUnavailable, match="bus closed"):
        await second.read_status()


async def test_boards_on_one_port_must_agree_on_the_baud(
    make_sim: MakeSim, buses: BusRegistry
) -> None:
    sim = make_sim("cu", [SimBoardSpec(0), SimBoardSpec(1)])
    open_board(SerialBoardSpec("A", "cu", sim.path, 9600, 0, 16), buses)
    fast = SerialBoardSpec("B", "cu", sim.path, 19200, 1, 16)
    with pytest.raises(ValueError, match="already used at 9600 baud"):
        open_board(fast, buses)
