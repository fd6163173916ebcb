"""OutputRelay against mock pins: active level, start state, close."""

from __future__ import annotations

from gpiozero.pins.mock import MockFactory

from drivers.gpio.relay import OutputRelay


def test_active_low_relay(pins: MockFactory) -> None:
    relay = OutputRelay(12, active_high=False, pin_factory=pins)
    pin = pins.pin(12)
    assert not relay.is_on and pin.state is True
    relay.on()
    assert relay.is_on and pin.state is False
    relay.off()
    assert not relay.is_on and pin.state is True
    relay.close()


def test_active_high_relay(pins: MockFactory) -> None:
    relay = OutputRelay(13, active_high=True, pin_factory=pins)
    pin = pins.pin(13)
    assert pin.state is False
    relay.on()
    assert pin.state is True
    relay.close()
    assert relay.closed and not relay.is_on


def test_close_leaves_the_relay_off_and_is_idempotent(pins: MockFactory) -> None:
    relay = OutputRelay(12, pin_factory=pins)
    relay.on()
    pin = pins.pin(12)
    pin.clear_states()
    relay.close()
    assert [s.state for s in pin.states][:2] == [False, True]
    relay.close()
    relay.off()
    assert "GPIO12" in repr(relay)
