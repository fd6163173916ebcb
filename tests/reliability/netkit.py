"""Helpers for the network and disk fault tests: a station sync driven through simulated time.

`SimulatedLink` plays the sync service's run loop with a fake clock: after each round it moves
the clock by the delay run() would have slept (the real back-off), and the station keeps
logging at a steady rate meanwhile. So a week of a down central takes seconds, and the number
of attempts per simulated hour is exactly what a station would make.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from station.clock import FakeClock
from station.store import Store, Tx
from station.sync.service import SyncRound, SyncService
from tests.station.sync.synckit import Central, station_log

HOUR = 3600.0
DAY = 24 * HOUR


@dataclass
class SimulatedLink:
    sync: SyncService
    clock: FakeClock
    store: Store
    event_every_s: float
    """The station logs one usage event this often (simulated)."""
    attempts_by_hour: Counter[int] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    _carry: float = 0.0
    _logged: int = 0

    async def run_for(self, seconds: float) -> SyncRound:
        """Rounds and waits as run() makes them, until `seconds` of simulated time passed."""
        start = self.clock.monotonic()
        outcome = SyncRound(ok=True)
        while self.clock.monotonic() - start < seconds:
            hour = int(self.clock.monotonic() // HOUR)
            outcome = await self.sync.sync_once()
            if outcome.posted or not outcome.ok:
                self.attempts_by_hour[hour] += 1
            if outcome.problem is not None:
                self.kinds[outcome.problem.kind] += 1
            delay = 0.0 if outcome.ok and outcome.more else self.sync.retry_delay(outcome)
            self.clock.advance(delay)
            await self.log_usage(delay)
        return outcome

    async def log_usage(self, elapsed: float) -> None:
        """The events the station made while `elapsed` seconds passed (doors, loans...)."""
        self._carry += elapsed
        n = int(self._carry // self.event_every_s)
        if n:
            self._carry -= n * self.event_every_s
            base = self._logged
            self._logged += n
            await self.store.write(lambda tx: _usage(tx, base, n))


def _usage(tx: Tx, base: int, n: int) -> None:
    for i in range(n):
        tx.append(
            "door_opened",
            actor="member:42",
            locker=f"A{(base + i) % 12 + 1:02d}",
            payload={"i": base + i},
        )


def lost_at_central(store: Store, central: Central) -> tuple[int, int]:
    """(events the station holds, how many of them central lacks or holds differently).

    Also asserts central holds nothing the station lacks and no seq twice: exactly once."""
    station = station_log(store)
    held = [(e["seq"], e["id"]) for e in central.events()]
    assert len(held) == len(set(held)), "central holds an event twice"
    assert [s for s, _ in held] == list(range(1, len(held) + 1)), "central's seqs have a gap"
    assert set(held) <= set(station), "central holds events this station never made"
    return len(station), len(set(station) - set(held))


def posted_batches(raw_requests: list[bytes]) -> list[dict[str, Any]]:
    """The JSON batches in requests a proxy recorded (HTTP/1.1 text, gzipped bodies)."""
    out = []
    for request in raw_requests:
        _, _, body = request.partition(b"\r\n\r\n")
        out.append(json.loads(gzip.decompress(body)))
    return out
