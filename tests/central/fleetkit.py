"""Helpers for the fleet suites: a real central on loopback and stations that sync to it."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from central.app import create_app
from central.auth import new_token, token_hash
from central.server import BackgroundServer
from central.settings import CentralSettings
from central.storage.base import Storage
from tests.simstation import running_station
from tests.station.conftest import Harness, services_config


class FlowingClock:
    """Real time that a test can jump ahead: loans fall due in seconds, heartbeats still flow."""

    def __init__(self) -> None:
        self.boot_id = "flowing-boot"
        self.offset = 0.0

    def wall(self) -> float:
        return time.time() + self.offset

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def synced(self) -> bool:
        return True

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class LiveCentral:
    url: str
    storage: Storage
    office_token: str
    tokens: dict[str, str] = field(default_factory=dict)

    def register(self, station: str, name: str) -> str:
        token = new_token()
        self.storage.add_station(station, name, token_hash(token), time.time())
        self.tokens[station] = token
        return token

    def office(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.office_token}"},
            timeout=30,
        )


@contextlib.contextmanager
def live_central(storage: Storage, **settings: Any) -> Iterator[LiveCentral]:
    office = new_token()
    storage.add_office_token("office", token_hash(office), time.time())
    with BackgroundServer(create_app(storage, CentralSettings(**settings))) as server:
        yield LiveCentral(server.url, storage, office)


@contextlib.asynccontextmanager
async def synced_station(
    central: LiveCentral, tmp_path: Path, station: str, name: str, **sections: Any
) -> AsyncIterator[Harness]:
    """A simulated station with the services, registered at central and syncing to it
    (`sections`: more config tables, e.g. reader={...})."""
    data = services_config(tmp_path / station, open_window_s=0.5)
    data.update(sections)
    data["station"]["id"] = station
    data["station"]["name"] = name
    data["sync"] = {
        "url": central.url,
        "token": central.register(station, name),
        "interval_s": 0.2,
        "heartbeat_s": 0.3,
        "backoff_base_s": 0.05,
        "backoff_cap_s": 0.2,
    }
    clock = FlowingClock()
    async with running_station(data, clock=clock) as st:
        harness = Harness(station=st, clock=clock)  # type: ignore[arg-type]
        try:
            yield harness
        finally:
            await harness.close_clients()
