"""A whole station on simulated hardware for tests: the real daemon, real HTTP, real pty boards.

Used by the conftest fixtures of every suite that needs a running station, so they all start
it the same way the daemon does in production.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from drivers.sim.lockboard import LockBoardSimulator
from launcher.demo import demo_config
from station.config import StationConfig, parse_config
from station.daemon import Daemon

TOKENS = {
    "kiosk": "kiosk-token-for-tests-0001",
    "staff": "staff-token-for-tests-0001",
    "central": "central-token-for-tests-001",
}


def sim_config_data(tmp_path: Path, **timeouts: Any) -> dict[str, Any]:
    """The example 16-door station on one simulated `cu` board, data in tmp_path."""
    data = demo_config(tmp_path)
    data["station"]["id"] = "TEST-0001"
    data["api"]["tokens"] = [
        {"name": f"test-{role}", "role": role, "token": token} for role, token in TOKENS.items()
    ]
    data["boards"][0]["sim_auto_close_s"] = 0.0
    data.pop("occupancy", None)  # no radar unless a test starts one
    data.pop("reader", None)  # no card reader unless a test starts one
    data["timeouts"].update({"poll_ms": 50, "answer_ms": 300, "quiet_ms": 20})
    data["timeouts"].update(timeouts)
    return data


@dataclass
class SimStation:
    daemon: Daemon
    config: StationConfig

    @property
    def url(self) -> str:
        return self.daemon.url

    @property
    def sim(self) -> LockBoardSimulator:
        assert self.daemon.boards is not None
        return next(iter(self.daemon.boards.simulators.values()))

    def client(self, role: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {TOKENS[role]}"} if role else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=10)

    async def wait_for(self, predicate: Callable[[], bool], within: float = 5.0) -> None:
        async with asyncio.timeout(within):
            while not predicate():  # noqa: ASYNC110 - state lives in other threads, not events
                await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def running_station(
    data: dict[str, Any], *, clock: Any = None, pin_factory: Any = None
) -> AsyncIterator[SimStation]:
    config = parse_config(data, "test config")
    daemon = Daemon(config, clock=clock, port=0, pin_factory=pin_factory)
    try:
        await daemon.start()
        yield SimStation(daemon=daemon, config=config)
    finally:
        await daemon.stop()
