"""PIN rules and argon2id hashing as tuned for the Pi."""

from __future__ import annotations

import time

import pytest
from argon2 import PasswordHasher, Type

from station.people.pins import MEMORY_KIB, TIME_COST, PinHasher, check_new_pin
from station.refusals import Refusal


@pytest.mark.parametrize("pin", ["482913", "527194", "100200", "908172"])
def test_acceptable_pins(pin: str) -> None:
    check_new_pin(pin)


@pytest.mark.parametrize(
    ("pin", "why"),
    [
        ("12345", "exactly 6 digits"),
        ("1234567", "exactly 6 digits"),
        ("12a456", "exactly 6 digits"),
        ("", "exactly 6 digits"),
        ("000000", "repeated digit"),
        ("123456", "consecutive"),
        ("654321", "consecutive"),
        ("789012", "consecutive"),
        ("121212", "repeats itself"),
        ("520520", "repeats itself"),
    ],
)
def test_refused_pins_say_why(pin: str, why: str) -> None:
    with pytest.raises(Refusal) as err:
        check_new_pin(pin)
    assert why in err.value.message
    assert err.value.extra == {"field": "pin"}


def test_hash_is_argon2id_with_the_documented_parameters(hasher: PinHasher) -> None:
    hashed = hasher.hash_sync("482913")
    assert hashed.startswith(f"$argon2id$v=19$m={MEMORY_KIB},t={TIME_COST},p=1$")
    assert "482913" not in hashed
    assert hasher.verify_sync(hashed, "482913")
    assert not hasher.verify_sync(hashed, "482914")
    assert not hasher.verify_sync("not a hash", "482913")
    assert not hasher.needs_rehash(hashed)


def test_older_weaker_hashes_are_flagged_for_rehash(hasher: PinHasher) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID)
    old = weak.hash("482913")
    assert hasher.verify_sync(old, "482913")
    assert hasher.needs_rehash(old)


async def test_async_verify_runs_off_the_loop_and_verify_any_checks_all(
    hasher: PinHasher,
) -> None:
    hashes = [await hasher.hash(p) for p in ("111222", "482913", "333444")]
    assert await hasher.verify(hashes[1], "482913")
    assert await hasher.verify_any(hashes, "482913") == 1
    assert await hasher.verify_any(hashes, "999000") is None


def test_one_verify_is_fast_enough_for_a_kiosk(hasher: PinHasher) -> None:
    hashed = hasher.hash_sync("482913")
    started = time.perf_counter()
    for _ in range(3):
        hasher.verify_sync(hashed, "482913")
    per_verify = (time.perf_counter() - started) / 3
    # about 20 ms on the development machine; a Pi 4 core is several times slower
    assert per_verify < 1.0
