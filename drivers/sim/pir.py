"""A virtual PIR: drives the mock GPIO pin that the real Pir driver reads.

With gpiozero's MockFactory the test or demo holds the same pin object as the driver, so the
driver code under test is the one that runs on the Pi; only the electrons are simulated.
"""

from __future__ import annotations

import time

from gpiozero.pins.mock import MockFactory


class VirtualPir:
    def __init__(self, factory: MockFactory, pin: int) -> None:
        self.pin = pin
        self._pin = factory.pin(pin)

    @property
    def level(self) -> bool:
        return bool(self._pin.state)

    def motion(self) -> None:
        """The sensor sees movement: its output goes high (and stays so for its hold time)."""
        self._pin.drive_high()

    def quiet(self) -> None:
        """The sensor's hold time ran out: its output goes low."""
        self._pin.drive_low()

    def flicker(self, pulses: int, high_s: float = 0.02, low_s: float = 0.02) -> None:
        """Short pulses, as a PIR gives for a draught, sunlight on the lens or a passing cat."""
        for _ in range(pulses):
            self.motion()
            time.sleep(high_s)
            self.quiet()
            time.sleep(low_s)
