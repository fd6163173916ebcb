"""GpioLockBoard against gpiozero mock pins: relay pulses, active levels, reed switches."""

from __future__ import annotations

import asyncio
import time

import pytest
from gpiozero.pins.mock import MockFactory

from drivers.gpio.lockboard import GpioBankSpec, GpioLockBoard
from drivers.lockboard.port import BoardUnavailable, DoorReading, LockBoard
from station.clock import FakeClock

RELAYS = [17, 27]
REEDS = [5, 6]


def board_config(**overrides: object) -> GpioBankSpec:
    values: dict[str, object] = {
        "id": "g1",
        "relay_pins": RELAYS,
        "sensor_pins": REEDS,
        "pulse_ms": 100,
        "debounce_ms": 50,
    }
    values.update(overrides)
    return GpioBankSpec(**values)  # type: ignore[arg-type]


def relay_energised(pins: MockFactory, pin: int, active_high: bool = False) -> bool:
    return pins.pin(pin).state == active_high


async def test_is_a_lockboard(pins: MockFactory) -> None:
    board = GpioLockBoard(board_config(), pin_factory=pins)
    assert isinstance(board, LockBoard)
    assert board.board_id == "g1"
    assert board.channels == 2
    await board.close()


async def test_relays_start_off_active_low(pins: MockFactory) -> None:
    board = GpioLockBoard(board_config(), pin_factory=pins)
    for pin in RELAYS:
        assert pins.pin(pin).state is True, "an active-low relay is off with its pin high"
    await board.close()


async def test_unlock_pulses_for_pulse_ms_then_off(pins: MockFactory) -> None:
    board = GpioLockBoard(board_config(pulse_ms=100), pin_factory=pins)
    pin = pins.pin(RELAYS[0])
    pin.clear_states()
    started = time.monotonic()
    task = asyncio.create_task(board.unlock(1))
    await asyncio.sleep(0.03)
    assert relay_energised(pins, RELAYS[0]), "the relay is on during the pulse"
    assert not relay_energised(pins, RELAYS[1]), "only the door asked for fires"
    await task
    elapsed = time.monotonic() - started
    assert not relay_energised(pins, RELAYS[0])
    # states: initial (off=high), on (low), off (high); the last timestamp is the on-time.
    assert [s.state for s in pin.states] == [True, False, True]
    on_time = pin.states[-1].timestamp
    assert 0.1 <= on_time < 0.6, on_time
    assert elapsed >= 0.1
    await board.close()


async def test_active_high_relay(pins: MockFactory) -> None:
    board = GpioLockBoard(board_config(relay_active_high=True, pulse_ms=50), pin_factory=pins)
    pin = pins.pin(RELAYS[1])
    assert pin.state is False
    pin.clear_states()
    await board.unlock(2)
    assert [s.state for s in pin.states] == [False, True, False]
    assert pin.states[-1].timestamp >= 0.05
    await board.close()


async def test_cancelled_unlock_turns_the_relay_off(pins: MockFactory) -> None:
    board = GpioLockBoard(board_config(pulse_ms=2000), pin_factory=pins)
    task = asyncio.create_task(board.unlock(1))
    await asyncio.sleep(0.05)
    assert relay_energised(pins, RELAYS[0])
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not relay_energised(pins, RELAYS[0])
    await board.close()


async def test_close_during_a_pulse_turns_the_relay_off(pins: MockFactory) -> None:
    board = GpioLockBoard(board_config(pulse_ms=2000), pin_factory=pins)
    task = asyncio.create_task(board.unlock(2))
    await asyncio.sleep(0.05)
    assert relay_energised(pins, RELAYS[1])
    await board.close()
    # Closing released the pin with the relay off and cut the pulse short.
    assert pins.pin(RELAYS[1]).state is True
    with pytest.raises(BoardUnavailable, match="closed during an unlock"):
        await asyncio.wait_for(task, timeout=1)
    assert pins.pin(RELAYS[1]).state is True
    with pytest.raises(BoardUnavailable):
        await board.unlock(2)
    with pytest.raises(BoardUnavailable):
        await board.read_status()


async def test_two_unlocks_of_one_door_do_not_overlap(pins: MockFactory) -> None:
    board = GpioLockBoard(board_config(pulse_ms=60), pin_factory=pins)
    pin = pins.pin(RELAYS[0])
    pin.clear_states()
    await asyncio.gather(board.unlock(1), board.unlock(1))
    # Two full pulses with an off between them, not one merged pulse cut short.
    assert [s.state for s in pin.states] == [True, False, True, False, True]
    assert pin.states[2].timestamp >= 0.06
    assert pin.states[4].timestamp >= 0.06
    await board.close()


async def test_bad_channel_is_refused(pins: MockFactory) -> None:
    board = GpioLockBoard(board_config(), pin_factory=pins)
    with pytest.raises(ValueError, match=r"channels 1\.\.2; got 3"):
        await board.unlock(3)
    await board.close()


async def test_door_readings_from_reed_switches(pins: MockFactory) -> None:
    clock = FakeClock()
    board = GpioLockBoard(board_config(), pin_factory=pins, monotonic=clock.monotonic)
    # Pull-ups hold both inputs high: switch open, door open. Not reported until it settles.
    assert (await board.read_status()).doors == {}
    clock.advance(0.05)
    assert (await board.read_status()).doors == {1: DoorReading.OPEN, 2: DoorReading.OPEN}
    pins.pin(REEDS[0]).drive_low()  # magnet at the switch: door 1 closed
    clock.advance(0.06)
    assert (await board.read_status()).doors == {1: DoorReading.CLOSED, 2: DoorReading.OPEN}
    pins.pin(REEDS[0]).drive_high()
    clock.advance(0.06)
    assert (await board.read_status()).doors[1] is DoorReading.OPEN
    await board.close()


async def test_bouncy_input_does_not_flip_the_reading(pins: MockFactory) -> None:
    clock = FakeClock()
    board = GpioLockBoard(board_config(debounce_ms=50), pin_factory=pins, monotonic=clock.monotonic)
    reed = pins.pin(REEDS[1])
    reed.drive_low()
    clock.advance(1)
    assert (await board.read_status()).doors[2] is DoorReading.CLOSED
    # A knock on the door: the contact chatters for 12 ms and settles closed again.
    for _ in range(6):
        reed.drive_high()
        clock.advance(0.001)
        reed.drive_low()
        clock.advance(0.001)
    assert (await board.read_status()).doors[2] is DoorReading.CLOSED
    clock.advance(0.1)
    assert (await board.read_status()).doors[2] is DoorReading.CLOSED
    # The door opens with bounce: the reading changes only once the input has held for 50 ms.
    for _ in range(3):
        reed.drive_high()
        clock.advance(0.002)
        reed.drive_low()
        clock.advance(0.002)
    reed.drive_high()
    clock.advance(0.03)
    assert (await board.read_status()).doors[2] is DoorReading.CLOSED
    clock.advance(0.02)
    assert (await board.read_status()).doors[2] is DoorReading.OPEN
    await board.close()


async def test_bounce_between_polls_is_seen_through_edges(pins: MockFactory) -> None:
    clock = FakeClock()
    board = GpioLockBoard(board_config(), pin_factory=pins, monotonic=clock.monotonic)
    clock.advance(1)
    assert (await board.read_status()).doors[1] is DoorReading.OPEN
    reed = pins.pin(REEDS[0])
    reed.drive_low()
    clock.advance(0.01)
    reed.drive_high()  # back open 10 ms later: a glitch, not a closed door
    clock.advance(0.02)
    assert (await board.read_status()).doors[1] is DoorReading.OPEN
    await board.close()


async def test_without_sensor_pins_no_door_is_reported(pins: MockFactory) -> None:
    board = GpioLockBoard(board_config(sensor_pins=[]), pin_factory=pins)
    assert not board.senses_doors
    status = await board.read_status()
    assert status.doors == {}, "doors without reed switches are unknown, never guessed"
    await board.unlock(1)
    await board.close()


async def test_zero_debounce_reports_at_once(pins: MockFactory) -> None:
    clock = FakeClock()
    board = GpioLockBoard(board_config(debounce_ms=0), pin_factory=pins, monotonic=clock.monotonic)
    assert (await board.read_status()).doors == {1: DoorReading.OPEN, 2: DoorReading.OPEN}
    pins.pin(REEDS[0]).drive_low()
    assert (await board.read_status()).doors[1] is DoorReading.CLOSED
    await board.close()


async def test_close_releases_every_pin(pins: MockFactory) -> None:
    board = GpioLockBoard(board_config(), pin_factory=pins)
    await board.close()
    await board.close()
    # The pins are free again: a new board can take them.
    again = GpioLockBoard(board_config(), pin_factory=pins)
    await again.close()


def test_a_bank_without_relays_or_with_odd_sensors_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one relay pin"):
        GpioBankSpec(id="b", relay_pins=[])
    with pytest.raises(ValueError, match="one per relay pin"):
        GpioBankSpec(id="b", relay_pins=[5, 6], sensor_pins=[7])


def test_a_pin_in_use_fails_without_leaking_the_others(pins: MockFactory) -> None:
    first = GpioLockBoard(board_config(), pin_factory=pins)
    other = board_config(id="g2", relay_pins=[22, 27], sensor_pins=[])
    with pytest.raises(Exception, match="27"):
        GpioLockBoard(other, pin_factory=pins)
    asyncio.run(first.close())
    # GPIO22 was released when the second board failed half-built.
    third_cfg = board_config(id="g3", relay_pins=[22, 23], sensor_pins=[])
    third = GpioLockBoard(third_cfg, pin_factory=pins)
    asyncio.run(third.close())
