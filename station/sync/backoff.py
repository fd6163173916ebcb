"""Capped exponential back-off with full jitter.

Full jitter (a wait drawn uniformly from zero to the exponential ceiling) spreads a fleet that
lost central at the same moment, so hundreds of stations do not come back in lock-step and
knock it over again.
"""

from __future__ import annotations

import random


class Backoff:
    def __init__(self, base_s: float, cap_s: float, rng: random.Random | None = None) -> None:
        self.base_s = base_s
        self.cap_s = cap_s
        self.failures = 0
        self._rng = rng or random.Random()

    def ceiling(self) -> float:
        """The longest the next wait may be."""
        return min(self.cap_s, self.base_s * 2 ** min(self.failures, 62))

    def next_delay(self) -> float:
        """Count one more failure and draw the wait before the next try."""
        delay = self._rng.uniform(0, self.ceiling())
        self.failures += 1
        return delay

    def slow_delay(self) -> float:
        """For failures a retry will not fix soon (a revoked token): near the cap, jittered."""
        self.failures += 1
        return self._rng.uniform(self.cap_s / 2, self.cap_s)

    def reset(self) -> None:
        self.failures = 0
