"""Fixtures for sync tests: a real central server on loopback, station stores, a flaky proxy."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from station.clock import FakeClock
from station.store import Store
from station.sync.service import SYNC_SCHEMA
from tests.station.sync.synckit import Central, FlakyProxy, StepClock, central_server


@pytest.fixture
def central(tmp_path: Path) -> Iterator[Central]:
    with central_server(tmp_path / "central.db") as server:
        yield server


@pytest.fixture
def make_store(tmp_path: Path) -> Iterator[Callable[..., Store]]:
    stores: list[Store] = []

    def make(clock: FakeClock | None = None, name: str = "station.db") -> Store:
        store = Store(tmp_path / name, clock or StepClock(), [SYNC_SCHEMA])
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close()


@pytest.fixture
def flaky_proxy() -> Iterator[Callable[..., FlakyProxy]]:
    proxies: list[FlakyProxy] = []

    def make(upstream: str, **weights: float) -> FlakyProxy:
        hang_s = weights.pop("hang_s", 1.5)
        proxy = FlakyProxy(upstream, dict(weights), hang_s=hang_s).start()
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        proxy.stop()
