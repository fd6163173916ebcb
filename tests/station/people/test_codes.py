"""Pickup codes on a real store: the code alone finds its locker, wrong codes cost the kiosk
that typed them (never a stranger's code), codes are unique while waiting, expire, are used once."""

from __future__ import annotations

import json

import pytest

from station.clock import FakeClock
from station.people import codes as codes_module
from station.people.codes import CODE_DIGITS, CodeBook
from station.people.lockout import Lockout
from station.people.pins import PinHasher
from station.refusals import Refusal
from station.store import Store

KIOSK = "kiosk:screen"


@pytest.fixture
def book(store: Store, hasher: PinHasher, lockout: Lockout) -> CodeBook:
    return CodeBook(store, hasher, lockout)


async def issue(store: Store, book: CodeBook, locker: str = "A14", ref: int = 1) -> str:
    async with book.drawing() as code:
        await store.write(
            lambda tx: book.issue(tx, code, purpose="deposit", ref=ref, locker=locker, valid_s=3600)
        )
    return code.plain


def other(code: str, step: int = 1) -> str:
    return f"{(int(code) + step) % 10**CODE_DIGITS:0{CODE_DIGITS}d}"


async def refused(book: CodeBook, code: str, actor: str = KIOSK, locker: str | None = None):
    with pytest.raises(Refusal) as err:
        await book.check(code, actor, locker)
    return err.value


async def test_the_code_alone_finds_its_locker_and_is_stored_only_hashed(
    store: Store, book: CodeBook
) -> None:
    first = await issue(store, book, "A14", 1)
    second = await issue(store, book, "A15", 2)
    assert len(first) == CODE_DIGITS == 8 and first.isdigit()
    assert ((await book.check(second, KIOSK)).locker, (await book.check(first, KIOSK)).ref) == (
        "A15",
        1,
    )
    rows = store.query("SELECT code_hash FROM codes")
    assert all(r["code_hash"].startswith("$argon2id$") for r in rows)
    assert first not in str(rows) and second not in str(rows)
    assert await book.lockers_waiting() == ["A14", "A15"]
    # a caller naming a locker opens only that one
    assert (await refused(book, first, locker="A15")).code == "wrong_code"
    assert (await refused(book, first, locker="A16")).code == "no_pickup"


async def test_wrong_codes_cost_the_kiosk_not_the_waiting_code(
    store: Store, book: CodeBook, clock: FakeClock
) -> None:
    code = await issue(store, book)
    lefts = [(await refused(book, other(code, i))).extra["tries_left"] for i in (1, 2, 3, 4)]
    assert lefts == [4, 3, 2, 1]
    locked = await refused(book, other(code, 5))
    assert (locked.code, locked.kind, locked.extra["locked_until"]) == (
        "codes_locked",
        "locked",
        clock.wall() + 300,
    )
    # this kiosk waits, even with the right code; the code itself is untouched
    assert (await refused(book, code)).code == "codes_locked"
    assert (await book.check(code, "kiosk:other")).locker == "A14"
    alarms = store.query("SELECT type, subject, state FROM alarms WHERE state != 'cleared'")
    assert alarms == [{"type": "guessing", "subject": f"codes@{KIOSK}", "state": "raised"}]
    clock.advance(301)
    assert (await book.check(code, KIOSK)).locker == "A14"  # the right code resets the count
    assert store.query("SELECT state FROM alarms")[0]["state"] == "cleared"
    assert (await refused(book, other(code))).extra["tries_left"] == 4
    events = store.events_after(0, types=["code_wrong", "code_lockout"])
    assert [e.type for e in events] == ["code_wrong"] * 5 + ["code_lockout", "code_wrong"]
    assert all(code not in json.dumps(e.payload) for e in events)
    assert store.query("SELECT status FROM codes") == [{"status": "active"}]


async def test_used_replaced_and_expired_codes_say_so(
    store: Store, book: CodeBook, clock: FakeClock
) -> None:
    code = await issue(store, book)
    match = await book.check(code, KIOSK)
    await store.write(lambda tx: book.use(tx, match.id))
    assert (await refused(book, code)).code == "code_used"
    first = await issue(store, book, "A15", 2)
    await issue(store, book, "A15", 2)
    assert (await refused(book, first)).code == "code_used"  # replaced: no longer works
    late = await issue(store, book, "A16", 3)
    clock.advance(3601)
    assert (await refused(book, late)).code == "code_expired"
    expired = await store.write(book.expire)
    assert sorted(r["locker"] for r in expired) == ["A15", "A16"]
    assert (await refused(book, late)).code == "code_expired"
    # none of these cost the kiosk a try
    assert not store.events_after(0, types=["code_wrong"])


async def test_a_new_code_is_never_one_already_waiting(
    store: Store, book: CodeBook, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The random draw is replaced by a fixed sequence that clashes; the check is real."""
    draws = iter(["12345678", "12345678", "12345678", "87654321"])
    monkeypatch.setattr(codes_module, "new_code_plain", lambda: next(draws))
    assert await issue(store, book, "A14", 1) == "12345678"
    assert await issue(store, book, "A15", 2) == "87654321"
    assert (await book.check("87654321", KIOSK)).locker == "A15"
