"""A PIR motion sensor (HC-SR501 style) on one GPIO pin.

The sensor's output stays high for its own hold time after motion, then goes blind for about
3 s; it sees movement, never a person sitting still (that is the radar's job). The station
polls it a few times a second, so motion is latched between polls: a pulse that rose and fell
between two polls is still reported once, never silently lost.
"""

from __future__ import annotations

import threading
from typing import Any

from gpiozero import MotionSensor


class Pir:
    """Wraps gpiozero's MotionSensor with a latch that `poll()` reads and clears."""

    def __init__(self, pin: int, *, sample_rate: float = 20.0, pin_factory: Any = None) -> None:
        self.pin = pin
        self._lock = threading.Lock()
        self._latched = False
        # queue_len=1: the sensor's own hold time already smooths its output.
        self._sensor = MotionSensor(
            pin, queue_len=1, sample_rate=sample_rate, pin_factory=pin_factory
        )
        self._sensor.when_motion = self._on_motion

    def _on_motion(self) -> None:
        with self._lock:
            self._latched = True

    @property
    def motion(self) -> bool:
        """Motion right now (as of the sensor's last sample)."""
        return bool(self._sensor.motion_detected)

    def poll(self) -> bool:
        """Motion now, or at any moment since the previous poll."""
        now = self.motion
        with self._lock:
            seen = self._latched or now
            self._latched = False
        return seen

    def wait_for(self, motion: bool, timeout: float) -> bool:
        """Block until the sampled level equals `motion` (used by tests and the self-test)."""
        if motion:
            return bool(self._sensor.wait_for_motion(timeout))
        return bool(self._sensor.wait_for_no_motion(timeout))

    @property
    def closed(self) -> bool:
        return self._sensor.closed

    def close(self) -> None:
        if not self._sensor.closed:
            self._sensor.close()
