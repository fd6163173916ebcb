"""Members: residents and couriers, known by a keyed hash of their phone number and a PIN.

A member proves who they are at the kiosk with phone number and PIN and gets a session for one
flow. Registration happens at the station by staff (or arrives from the central office); the
full number is hashed the moment it arrives and is never kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from station.people.cards import CardBook, CardId, CardOwner, bind_card, card_taken
from station.people.config import PeopleConfig
from station.people.credentials import Holder, PinAccounts, PinTable
from station.people.phone import PhoneId, PhoneKey, label, mask
from station.people.pins import check_new_pin
from station.people.sessions import Session
from station.refusals import Refusal, invalid_state, not_found
from station.store import Tx, record

MemberKind = Literal["resident", "courier"]
MemberStatus = Literal["active", "suspended"]


@dataclass(frozen=True, slots=True)
class Member:
    id: str
    prefix3: str
    last4: str
    kind: str
    status: str
    source: str
    pin_state: str = "set"
    """`set`, `must_change` (a first PIN from the central office) or `unset` (no PIN yet:
    staff set one with the member at the station)."""
    max_loans: int | None = None
    """The member's own loan limit from the central office; None: the station's default."""

    @property
    def card_owner(self) -> CardOwner:
        return CardOwner("member", self.id)

    @property
    def masked(self) -> str:
        return mask(self.prefix3, self.last4)

    @property
    def label(self) -> str:
        return label(self.id, self.last4)

    @property
    def subject(self) -> str:
        return f"member:{self.id}"

    @property
    def phone_id(self) -> PhoneId:
        """The member's number as the station keeps it (its hash is the member's id)."""
        return PhoneId(self.id, self.prefix3, self.last4)

    @classmethod
    def from_row(cls, row: Any) -> Member:
        return record(cls, row)


def pin_change_required() -> Refusal:
    return Refusal(
        "denied",
        "pin_change_required",
        "this is the first PIN from the office: choose your own PIN first",
    )


MEMBER_PINS = PinTable("members", "id", "phone number or PIN")


class _Undo(Exception):
    """Roll a registration back (its card belongs to somebody else)."""


def _member(tx: Tx, member_id: str) -> Member | None:
    row = tx.conn.execute("SELECT * FROM members WHERE id = ?", (member_id,)).fetchone()
    return Member.from_row(row) if row else None


class MemberService(PinAccounts):
    def _idle_s(self, cfg: PeopleConfig) -> float:
        return cfg.member_idle_s

    def _configure(self, cfg: PeopleConfig) -> None:
        self._key = PhoneKey(cfg.phone_hash_key) if cfg.phone_hash_key else None
        self.cards = CardBook(self._store, cfg.phone_hash_key)

    def _max_age_s(self, cfg: PeopleConfig) -> float:
        return cfg.member_session_max_s

    def _still_active(self, session: Session) -> bool:
        """A member suspended (by staff or a bundle) while at the screen loses the session."""
        rows = self._store.query(
            "SELECT 1 FROM members WHERE id = ? AND status = 'active'", (session.subject,)
        )
        return bool(rows)

    @property
    def available(self) -> bool:
        return self._key is not None

    def phone_id(self, raw: str) -> PhoneId:
        """A typed phone number reduced to hash and display digits (refusal if not usable)."""
        if self._key is None:
            raise Refusal(
                "unavailable",
                "members_unavailable",
                "this station cannot recognise members: people.phone_hash_key is not set in "
                "its config; ask the fleet administrator",
            )
        return self._key.identify(raw)

    # --- registration and staff actions ---------------------------------------------------

    async def register(
        self, phone: str, pin: str, kind: MemberKind, actor: str, card: str | None = None
    ) -> Member:
        """A new member, with a card or code bound in the same transaction if one is given."""
        pid = self.phone_id(phone)
        check_new_pin(pin)
        card_id = self.cards.card_id(card) if card else None
        pin_hash = await self._hasher.hash(pin)
        taken = False

        def write(tx: Tx) -> Member | None:
            nonlocal taken
            if _member(tx, pid.hash) is not None:
                return None
            now = tx.now()
            tx.conn.execute(
                "INSERT INTO members (id, prefix3, last4, kind, pin_hash, status, source,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'active', 'station', ?, ?)",
                (pid.hash, pid.prefix3, pid.last4, kind, pin_hash, now, now),
            )
            tx.append("member_registered", actor=actor, payload={"member": pid.label, "kind": kind})
            owner = CardOwner("member", pid.hash)
            if card_id is not None and not bind_card(tx, card_id, owner, pid.label, actor):
                taken = True
                raise _Undo()
            return _member(tx, pid.hash)

        try:
            member = await self._store.write(write)
        except _Undo:
            member = None
        if taken:
            raise card_taken()
        if member is None:
            raise Refusal(
                "conflict",
                "already_registered",
                f"{pid.masked} is already a member; use 'reset PIN' if the PIN is forgotten",
            )
        return member

    async def list(self) -> list[tuple[Member, int]]:
        """Every member with the number of cards bound, for technicians (masked numbers)."""
        rows = await self._store.aquery(
            "SELECT m.*, (SELECT COUNT(*) FROM cards c WHERE c.owner_kind = 'member'"
            " AND c.owner = m.id) AS cards FROM members m ORDER BY m.last4, m.id"
        )
        return [(Member.from_row(r), int(r["cards"])) for r in rows]

    async def bind_card(self, member_id: str, card: str, actor: str) -> Member:
        member = await self.get(member_id)
        await self.cards.bind(card, member.card_owner, member.label, actor)
        return member

    async def bind_card_id(self, member: Member, card: CardId, actor: str) -> Member:
        """Bind a card the daemon's reader read (its number never reached the caller)."""
        await self.cards.bind_id(card, member.card_owner, member.label, actor)
        return member

    async def identify_by_card(self, member: Member, card: CardId, via: str) -> str:
        """A session for a member whose card was presented (the desk checked the policy)."""

        def write(tx: Tx) -> None:
            if member.status != "active":
                tx.append(
                    "member_refused",
                    actor=member.label,
                    payload={"reason": "suspended", "via": via, "card": card.label},
                )
            else:
                tx.append(
                    "member_identified",
                    actor=member.label,
                    payload={"via": via, "card": card.label},
                )

        await self._store.write(write)
        if member.status != "active":
            raise Refusal(
                "denied", "member_suspended", "this membership is suspended; please ask staff"
            )
        if member.pin_state == "must_change":
            # A card alone never chooses a PIN: the first PIN from the office is replaced
            # with phone number and that PIN first (the kiosk's first-PIN screen).
            raise pin_change_required()
        token, _ = self.sessions.create(member.id, member.label, member=member, by="card")
        return token

    async def unbind_cards(self, member_id: str, actor: str) -> int:
        member = await self.get(member_id)
        return await self.cards.unbind(member.card_owner, member.label, actor)

    async def get(self, member_id: str) -> Member:
        rows = await self._store.aquery("SELECT * FROM members WHERE id = ?", (member_id,))
        if not rows:
            raise not_found("member with this id")
        return Member.from_row(rows[0])

    async def lookup(self, phone: str) -> Member:
        pid = self.phone_id(phone)
        rows = await self._store.aquery("SELECT * FROM members WHERE id = ?", (pid.hash,))
        if not rows:
            raise Refusal("not_found", "not_found", f"{pid.masked} is not a member here")
        return Member.from_row(rows[0])

    async def set_status(
        self, member_id: str, status: MemberStatus, reason: str, actor: str
    ) -> Member:
        member = await self.get(member_id)

        def write(tx: Tx) -> Member:
            tx.conn.execute(
                "UPDATE members SET status = ?, updated_at = ? WHERE id = ?",
                (status, tx.now(), member_id),
            )
            tx.append(
                "member_status_changed",
                actor=actor,
                payload={
                    "member": member.label,
                    "from": member.status,
                    "to": status,
                    "reason": reason,
                },
            )
            return _member(tx, member_id) or member

        updated = await self._store.write(write)
        if status == "suspended":
            self.sessions.end_subject(member_id)
        return updated

    async def reset_pin(self, member_id: str, pin: str, actor: str) -> Member:
        member = await self.get(member_id)
        check_new_pin(pin)
        pin_hash = await self._hasher.hash(pin)

        def write(tx: Tx) -> None:
            tx.conn.execute(
                "UPDATE members SET pin_hash = ?, pin_state = 'set', updated_at = ? WHERE id = ?",
                (pin_hash, tx.now(), member_id),
            )
            self._lockout.release(tx, member.subject, member.label, actor, "PIN reset")
            tx.append("member_pin_reset", actor=actor, payload={"member": member.label})

        await self._store.write(write)
        self.sessions.end_subject(member_id)
        return member

    async def unlock(self, member_id: str, reason: str, actor: str) -> Member:
        member = await self.get(member_id)
        released = await self._store.write(
            lambda tx: self._lockout.release(tx, member.subject, member.label, actor, reason)
        )
        if not released:
            raise invalid_state(f"{member.masked} is not locked out")
        return member

    async def locked_until(self, member: Member) -> float | None:
        clock = self._store.clock
        return await self._store.read(
            lambda db: self._lockout.until(db.conn, clock, member.subject)
        )

    # --- the kiosk --------------------------------------------------------------------------

    async def identify(self, phone: str, pin: str, actor: str) -> tuple[str, Member]:
        """Check phone and PIN; a session token for one flow, or a refusal.

        Unknown numbers are answered exactly like wrong PINs (and locked out alike), so the
        kiosk does not tell a stranger which numbers belong to members.
        """
        pid = self.phone_id(phone)

        async def load() -> Holder[Member] | None:
            rows = await self._store.aquery("SELECT * FROM members WHERE id = ?", (pid.hash,))
            return Holder(rows[0]["pin_hash"], pid.hash, Member.from_row(rows[0])) if rows else None

        def succeeded(tx: Tx, member: Member) -> None:
            if member.status != "active":
                tx.append(
                    "member_refused",
                    actor=member.label,
                    payload={"reason": "suspended", "via": actor},
                )
            else:
                tx.append("member_identified", actor=member.label, payload={"via": actor})

        subject = f"member:{pid.hash}"
        member = await self._pins.check(
            MEMBER_PINS, subject, pid.label, actor, pin, load, succeeded
        )
        if member.status != "active":
            raise Refusal(
                "denied",
                "member_suspended",
                "this membership is suspended; please ask staff",
            )
        token, _ = self.sessions.create(member.id, member.label, member=member)
        return token, member

    def end_session(self, token: str) -> None:
        self.sessions.end(token)
