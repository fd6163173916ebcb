"""A real store (SQLite in tmp_path) with the people and codes tables, and a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from station.alarms import AlarmService
from station.clock import FakeClock
from station.people.codes import CODES_SCHEMA
from station.people.config import PeopleConfig
from station.people.lockout import Lockout
from station.people.pins import PinHasher
from station.people.schema import PEOPLE_SCHEMA
from station.store import Store

KEY = "unit-test-fleet-phone-hash-key-000001"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[Store]:
    s = Store(tmp_path / "station.db", clock, schemas=[PEOPLE_SCHEMA, CODES_SCHEMA])
    yield s
    s.close()


@pytest.fixture
def alarms(store: Store) -> AlarmService:
    return AlarmService(store)


@pytest.fixture
def people() -> PeopleConfig:
    return PeopleConfig(phone_hash_key=KEY)


@pytest.fixture
def lockout(people: PeopleConfig, alarms: AlarmService) -> Lockout:
    return Lockout(people, alarms)


@pytest.fixture
def hasher() -> PinHasher:
    return PinHasher()
