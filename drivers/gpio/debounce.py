"""Debounce in our own code: a reading changes only after the raw input has held still.

gpiozero's `bounce_time` is done by the pin library and is not simulated by mock pins, so the
station would run untested logic on the Pi. Doing it here, with the time passed in, makes the
same code run on a Pi and under a fake clock in tests.
"""

from __future__ import annotations

_EPSILON = 1e-9
"""Clock arithmetic in floats: 50 ms measured as 0.0499999 still counts as 50 ms."""


class Debouncer:
    """Tracks one input's raw level and the last level that stayed put for `stable_s`."""

    def __init__(self, stable_s: float, raw: bool, now: float) -> None:
        self.stable_s = stable_s
        self._raw = raw
        self._raw_since = now
        self._stable: bool | None = raw if stable_s <= 0 else None

    def observe(self, raw: bool, now: float) -> None:
        """Record the raw level seen at `now` (an edge callback or a poll)."""
        if raw != self._raw:
            self._raw = raw
            self._raw_since = now

    def value(self, now: float) -> bool | None:
        """The debounced level, or None while the input has not yet held still since start."""
        if now - self._raw_since >= self.stable_s - _EPSILON:
            self._stable = self._raw
        return self._stable
