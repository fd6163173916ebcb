"""Cards and codes bound to a member or a staff account, kept as keyed hashes only.

Residents already carry something that identifies them: the community's access card (an IC or
ID card whose reader types its number) or a QR code on their phone. Staff bind one to an
account at the maintenance screen (or a technician with `station members bind-card`); the
central office can bind them in its member import. What the station keeps is the keyed hash of
the number (wire/identity.py: HMAC-SHA256 with the fleet key, like phone numbers), never the
number itself, so a copied database or a synced event cannot be turned back into a card
anybody could clone. The usage log names a card `card:<first 8 hex of the hash>`.

One card belongs to at most one account. Binding a card that belongs to somebody else is
refused without saying whose it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from station.refusals import Refusal, invalid
from station.store import Store, Tx
from wire.identity import card_hash, card_label, card_text

OwnerKind = Literal["member", "staff"]


@dataclass(frozen=True, slots=True)
class CardId:
    """A card number reduced to what the station may keep."""

    hash: str

    @property
    def label(self) -> str:
        return card_label(self.hash)


@dataclass(frozen=True, slots=True)
class CardOwner:
    kind: OwnerKind
    owner: str
    """Member id (phone hash) or staff number."""


class CardKey:
    """The fleet key, held by the one object that turns card numbers into CardIds."""

    def __init__(self, key: str) -> None:
        self._key = key

    def identify(self, raw: str) -> CardId:
        text = card_text(raw)
        if text is None:
            # Never repeat what was read: it may be somebody's card number.
            raise invalid(
                "card",
                "this is not a card number or code the station can use "
                "(4 to 128 letters, digits or signs); present the card again",
            )
        return CardId(card_hash(self._key, text))

    def __repr__(self) -> str:
        return "CardKey(<secret>)"


def bind_card(tx: Tx, card: CardId, owner: CardOwner, owner_label: str, actor: str) -> bool:
    """Bind inside the caller's transaction; False if the card already belongs to another."""
    row = tx.conn.execute(
        "SELECT owner_kind, owner FROM cards WHERE hash = ?", (card.hash,)
    ).fetchone()
    if row is not None:
        return (row[0], row[1]) == (owner.kind, owner.owner)
    tx.conn.execute(
        "INSERT INTO cards (hash, owner_kind, owner, source, created_at)"
        " VALUES (?, ?, ?, 'station', ?)",
        (card.hash, owner.kind, owner.owner, tx.now()),
    )
    tx.append("card_bound", actor=actor, payload={"owner": owner_label, "card": card.label})
    return True


def members_unavailable(what: str) -> Refusal:
    return Refusal(
        "unavailable",
        "members_unavailable",
        f"this station cannot recognise {what}: people.phone_hash_key is not set in "
        "its config; ask the fleet administrator",
    )


def card_taken() -> Refusal:
    return Refusal(
        "conflict",
        "card_taken",
        "this card is already bound to another account; that account must unbind it first",
    )


class CardBook:
    """Bind, unbind and look up cards; the daemon's reader and the CLI go through this."""

    def __init__(self, store: Store, key: str | None) -> None:
        self._store = store
        self._key = CardKey(key) if key else None

    @property
    def available(self) -> bool:
        return self._key is not None

    def card_id(self, raw: str) -> CardId:
        if self._key is None:
            raise members_unavailable("cards")
        return self._key.identify(raw)

    async def bind(self, raw: str, owner: CardOwner, owner_label: str, actor: str) -> CardId:
        return await self.bind_id(self.card_id(raw), owner, owner_label, actor)

    async def bind_id(self, card: CardId, owner: CardOwner, owner_label: str, actor: str) -> CardId:
        bound = await self._store.write(lambda tx: bind_card(tx, card, owner, owner_label, actor))
        if not bound:
            raise card_taken()
        return card

    async def unbind(self, owner: CardOwner, owner_label: str, actor: str) -> int:
        """Remove every card of one account; how many there were (logged as a count)."""

        def write(tx: Tx) -> int:
            gone = tx.conn.execute(
                "DELETE FROM cards WHERE owner_kind = ? AND owner = ?", (owner.kind, owner.owner)
            ).rowcount
            if gone:
                tx.append(
                    "card_unbound", actor=actor, payload={"owner": owner_label, "cards": gone}
                )
            return gone

        return await self._store.write(write)

    async def owner_of(self, card: CardId) -> CardOwner | None:
        rows = await self._store.aquery(
            "SELECT owner_kind, owner FROM cards WHERE hash = ?", (card.hash,)
        )
        return CardOwner(rows[0]["owner_kind"], rows[0]["owner"]) if rows else None

    async def count(self, owner: CardOwner) -> int:
        rows = await self._store.aquery(
            "SELECT COUNT(*) AS n FROM cards WHERE owner_kind = ? AND owner = ?",
            (owner.kind, owner.owner),
        )
        return int(rows[0]["n"])
