"""Pir against a mock pin: motion, the latch between polls, close."""

from __future__ import annotations

from gpiozero.pins.mock import MockFactory

from drivers.gpio.pir import Pir


def test_motion_follows_the_pin(pins: MockFactory) -> None:
    pir = Pir(4, sample_rate=100, pin_factory=pins)
    pin = pins.pin(4)
    assert not pir.motion
    pin.drive_high()
    assert pir.wait_for(True, timeout=2)
    assert pir.poll() is True
    pin.drive_low()
    assert pir.wait_for(False, timeout=2)
    assert pir.poll() is False
    pir.close()
    assert pir.closed


def test_a_pulse_between_polls_is_latched(pins: MockFactory) -> None:
    pir = Pir(4, sample_rate=100, pin_factory=pins)
    pin = pins.pin(4)
    assert pir.poll() is False
    pin.drive_high()
    assert pir.wait_for(True, timeout=2)
    pin.drive_low()
    assert pir.wait_for(False, timeout=2)
    assert pir.poll() is True, "motion that came and went since the last poll is reported"
    assert pir.poll() is False, "and reported only once"
    pir.close()


def test_close_is_idempotent_and_frees_the_pin(pins: MockFactory) -> None:
    pir = Pir(4, pin_factory=pins)
    pir.close()
    pir.close()
    assert pir.closed
    again = Pir(4, pin_factory=pins)
    assert not again.closed
    again.close()
