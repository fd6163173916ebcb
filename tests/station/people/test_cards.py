"""Cards bound to members on a real store: hashes only, one owner per card, audited."""

from __future__ import annotations

import pytest

from station.people.members import MemberService
from station.refusals import Refusal
from station.store import Store
from tests.station.people.conftest import KEY
from wire.identity import card_hash

PHONE = "13812345678"
CARD = "0012345678"


@pytest.fixture
def members(store, people, hasher, lockout, clock) -> MemberService:
    return MemberService(store, people, hasher, lockout, clock)


def _db_text(store: Store) -> str:
    return store.path.read_bytes().decode("latin-1") + "".join(
        p.read_bytes().decode("latin-1") for p in store.path.parent.glob(store.path.name + "-wal")
    )


async def test_register_with_a_card_binds_its_hash_only(members: MemberService, store) -> None:
    member = await members.register(PHONE, "482913", "resident", "staff:S1", card=CARD)
    rows = store.query("SELECT * FROM cards")
    assert [(r["hash"], r["owner_kind"], r["owner"]) for r in rows] == [
        (card_hash(KEY, CARD), "member", member.id)
    ]
    events = store.events_after(0, types=["member_registered", "card_bound"])
    assert [(e.type, e.actor) for e in events] == [
        ("member_registered", "staff:S1"),
        ("card_bound", "staff:S1"),
    ]
    assert events[1].payload == {"owner": member.label, "card": f"card:{rows[0]['hash'][:8]}"}
    assert CARD not in _db_text(store)
    assert [(m.id, n) for m, n in await members.list()] == [(member.id, 1)]


async def test_a_card_belongs_to_one_member(members: MemberService, store) -> None:
    first = await members.register(PHONE, "482913", "resident", "staff:S1", card=CARD)
    with pytest.raises(Refusal) as err:
        await members.register("13900001111", "482913", "resident", "staff:S1", card=CARD)
    assert err.value.code == "card_taken"
    # The refused registration left nothing behind: no member, no event.
    assert [r["id"] for r in store.query("SELECT id FROM members")] == [first.id]
    assert len(store.events_after(0, types=["member_registered"])) == 1
    other = await members.register("13900001111", "482913", "resident", "staff:S1")
    with pytest.raises(Refusal) as err:
        await members.bind_card(other.id, f" {CARD}\r\n", "staff:S1")
    assert err.value.code == "card_taken" and CARD not in err.value.message
    # Binding the same card to its owner again is harmless and logs nothing new.
    await members.bind_card(first.id, CARD, "staff:S1")
    assert len(store.events_after(0, types=["card_bound"])) == 1


async def test_unbind_removes_every_card_and_logs_a_count(members: MemberService, store) -> None:
    member = await members.register(PHONE, "482913", "resident", "staff:S1", card=CARD)
    await members.bind_card(member.id, "QR-77aa11", "staff:S1")
    assert await members.unbind_cards(member.id, "staff:S2") == 2
    assert await members.unbind_cards(member.id, "staff:S2") == 0
    unbound = store.events_after(0, types=["card_unbound"])
    assert [(e.actor, e.payload) for e in unbound] == [
        ("staff:S2", {"owner": member.label, "cards": 2})
    ]


async def test_garbage_from_a_reader_is_refused_without_echo(members: MemberService) -> None:
    member = await members.register(PHONE, "482913", "resident", "staff:S1")
    with pytest.raises(Refusal) as err:
        await members.bind_card(member.id, "12\x1b[A", "staff:S1")
    assert err.value.code == "invalid" and "\x1b" not in err.value.message
