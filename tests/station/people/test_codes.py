"""Pickup codes on a real store: one per locker, hashed, 5 tries, expiry, single use."""

from __future__ import annotations

import json

import pytest

from station.clock import FakeClock
from station.people.codes import CodeBook
from station.people.pins import PinHasher
from station.refusals import Refusal
from station.store import Store


async def issue(store: Store, book: CodeBook, locker: str = "A14", ref: int = 1) -> str:
    code = await book.prepare()
    await store.write(
        lambda tx: book.issue(tx, code, purpose="deposit", ref=ref, locker=locker, valid_s=3600)
    )
    return code.plain


def other(code: str, step: int = 1) -> str:
    return f"{(int(code) + step) % 1_000_000:06d}"


async def refused(book: CodeBook, locker: str, code: str) -> Refusal:
    with pytest.raises(Refusal) as err:
        await book.check(locker, code, "kiosk:screen")
    return err.value


async def test_right_code_matches_and_is_stored_only_hashed(
    store: Store, hasher: PinHasher
) -> None:
    book = CodeBook(store, hasher)
    code = await issue(store, book)
    assert len(code) == 6 and code.isdigit()
    match = await book.check("A14", code, "kiosk:screen")
    assert (match.purpose, match.ref, match.locker) == ("deposit", 1, "A14")
    row = store.query("SELECT code_hash FROM codes")[0]
    assert row["code_hash"].startswith("$argon2id$") and code not in row["code_hash"]
    assert await book.lockers_waiting() == ["A14"]


async def test_five_wrong_tries_burn_the_code(store: Store, hasher: PinHasher) -> None:
    book = CodeBook(store, hasher)
    code = await issue(store, book)
    lefts = [
        (await refused(book, "A14", other(code, i))).extra["tries_left"] for i in (1, 2, 3, 4, 5)
    ]
    assert lefts == [4, 3, 2, 1, 0]
    assert (await refused(book, "A14", code)).code == "code_exhausted"
    assert await book.lockers_waiting() == []
    events = store.events_after(0, types=["code_wrong", "code_exhausted"])
    assert [e.type for e in events] == ["code_wrong"] * 5 + ["code_exhausted"]
    assert all(code not in json.dumps(e.payload) for e in events)


async def test_used_and_expired_codes_say_so(
    store: Store, hasher: PinHasher, clock: FakeClock
) -> None:
    book = CodeBook(store, hasher)
    code = await issue(store, book)
    match = await book.check("A14", code, "kiosk:screen")
    await store.write(lambda tx: book.use(tx, match.id))
    assert (await refused(book, "A14", code)).code == "code_used"
    assert (await refused(book, "A14", other(code))).code == "no_pickup"

    late = await issue(store, book, locker="A15", ref=2)
    clock.advance(3601)
    assert (await refused(book, "A15", late)).code == "code_expired"
    expired = await store.write(book.expire)
    assert [r["locker"] for r in expired] == ["A15"]
    assert (await refused(book, "A15", late)).code == "code_expired"


async def test_a_new_code_replaces_the_old_one_and_lockers_are_separate(
    store: Store, hasher: PinHasher
) -> None:
    book = CodeBook(store, hasher)
    first = await issue(store, book)
    second = await issue(store, book)
    assert (await refused(book, "A14", first)).code == "code_used"  # replaced
    assert (await book.check("A14", second, "kiosk:screen")).ref == 1
    assert (await refused(book, "A16", second)).code == "no_pickup"
