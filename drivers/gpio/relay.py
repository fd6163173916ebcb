"""An output relay on one GPIO pin: the fan or light contactor, or a door's lock coil.

Most cheap relay modules switch on when their input is pulled low, so the active level is a
setting rather than an assumption; the relay always starts off whatever the level.
"""

from __future__ import annotations

import contextlib
from typing import Any

from gpiozero import GPIODeviceClosed, OutputDevice


class OutputRelay:
    """One relay: on(), off(), and is_on, with the pin's active level hidden from callers."""

    def __init__(self, pin: int, *, active_high: bool = False, pin_factory: Any = None) -> None:
        self.pin = pin
        self.active_high = active_high
        self._device = OutputDevice(
            pin, active_high=active_high, initial_value=False, pin_factory=pin_factory
        )

    @property
    def is_on(self) -> bool:
        if self._device.closed:
            return False
        return bool(self._device.value)

    @property
    def closed(self) -> bool:
        return self._device.closed

    def on(self) -> None:
        self._device.on()

    def off(self) -> None:
        """Switch off; on a closed relay this is a no-op, since closing already left it off."""
        with contextlib.suppress(GPIODeviceClosed):
            self._device.off()

    def close(self) -> None:
        """Leave the relay off and release the pin; safe to call twice."""
        if self._device.closed:
            return
        self.off()
        self._device.close()

    def __repr__(self) -> str:
        level = "active-high" if self.active_high else "active-low"
        return f"OutputRelay(GPIO{self.pin}, {level}, {'on' if self.is_on else 'off'})"
