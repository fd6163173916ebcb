"""A real store (SQLite in tmp_path), the real AlarmService, mock GPIO pins and a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta, timezone
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from station.alarms import AlarmService
from station.clock import FakeClock
from station.occupancy.schema import OCCUPANCY_SCHEMA
from station.store import Store

CST = timezone(timedelta(hours=8), "CST")
EVENING = 1_767_268_800.0
"""2026-01-01 20:00 in CST: within the light's default hours (18:00-07:00)."""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(wall=EVENING)


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[Store]:
    s = Store(tmp_path / "station.db", clock, schemas=[OCCUPANCY_SCHEMA])
    yield s
    s.close()


@pytest.fixture
def alarms(store: Store) -> AlarmService:
    return AlarmService(store)


@pytest.fixture
def pins() -> Iterator[MockFactory]:
    factory = MockFactory()
    yield factory
    factory.reset()
    factory.close()
