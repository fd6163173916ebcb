"""The daemon's card desk: the reader's reads go to the one screen waiting for a card.

The daemon owns the reader (hardware belongs to the daemon). Its thread hands each read to the
event loop, where it is turned into a keyed hash at once (people/cards.py) and the text is
dropped: a card number never leaves this module, is never logged, stored or sent. A screen that
wants a card asks for the next one (`identify`, or `read_for_binding` at the maintenance
screen) and waits a bounded time; a read while nobody waits is dropped, so a card brushed past
the reader does nothing.

A card identifies its member for the actions `people.card_alone_for` names (borrow a tool,
claim an item, by default); other actions still ask for phone number and PIN. An unknown card
counts as one wrong member PIN in the station-wide guessing budget (throttle.py), so cloning
cards by trial costs the same as guessing PINs, and is answered "这张卡还没有登记" with what to
do. A staff badge names its staff number for the login screen; the PIN is still asked.

The reader being gone (unplugged) for `offline_after_s` raises the `reader_offline` alarm,
cleared when it is back; `status()` feeds the telemetry snapshot and `station doctor`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any, Literal

from station.alarms import AlarmService
from station.clock import Clock
from station.people.cards import CardId, CardOwner, members_unavailable
from station.people.config import PeopleConfig, ReaderConfig
from station.people.members import Member, MemberService
from station.people.throttle import GuessThrottle
from station.refusals import Refusal, not_found
from station.store import Store, Tx

log = logging.getLogger(__name__)

Purpose = Literal["borrow", "claim", "deposit", "staff"]
MAX_WAIT_S = 60.0
ALARM = "reader_offline"


def build_reader(cfg: ReaderConfig) -> Any:
    """The driver for `[reader]` (drivers/reader/), not started."""
    if cfg.kind == "hid":
        from drivers.reader.hid import HidReader

        return HidReader(cfg.device, hold_s=cfg.hold_s)
    from drivers.reader.serial_reader import SerialCardReader

    return SerialCardReader(cfg.device, baudrate=cfg.baud, hold_s=cfg.hold_s)


@dataclass(frozen=True, slots=True)
class CardIdentified:
    """What a presented card told the screen that waited for it (never the card's number)."""

    kind: Literal["member", "staff", "none"]
    token: str = ""
    member: Member | None = None
    staff_no: str = ""


@dataclass(frozen=True, slots=True)
class StaffBadge:
    """A staff account as the badge screens see it: how many badges, never their numbers."""

    staff_no: str
    name: str
    cards: int

    @property
    def owner(self) -> CardOwner:
        return CardOwner("staff", self.staff_no)

    @property
    def label(self) -> str:
        return f"staff:{self.staff_no}"


def no_reader() -> Refusal:
    return Refusal(
        "conflict",
        "no_reader",
        "this station has no card reader; use your phone number and PIN",
    )


def card_unknown() -> Refusal:
    return Refusal(
        "not_found",
        "card_unknown",
        "这张卡还没有登记 (this card is not registered here): ask staff at the station to bind "
        "it to your membership, or use your phone number and PIN",
    )


def pin_required(purpose: str) -> Refusal:
    return Refusal(
        "denied",
        "pin_required",
        f"a card alone cannot {purpose} at this station: please use your phone number and PIN",
    )


class CardDesk:
    def __init__(
        self,
        store: Store,
        alarms: AlarmService,
        members: MemberService,
        throttle: GuessThrottle | None,
        people: PeopleConfig,
        reader_cfg: ReaderConfig | None,
        clock: Clock,
        reader: Any = None,
    ) -> None:
        self._store = store
        self._alarms = alarms
        self._members = members
        self._throttle = throttle
        self._people = people
        self._reader_cfg = reader_cfg
        self._clock = clock
        self.reader = reader
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiter: asyncio.Future[CardId | None] | None = None
        self._watch: asyncio.Task[None] | None = None
        self.ignored = 0
        self.unusable = 0

    @property
    def configured(self) -> bool:
        return self.reader is not None

    # --- life ----------------------------------------------------------------------------------

    async def start(self) -> None:
        if self.reader is None:
            return
        self._loop = asyncio.get_running_loop()
        self.reader.start(self._from_thread)
        self._watch = asyncio.create_task(self._watch_link(), name="card-reader")

    async def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        if self.reader is not None:
            await asyncio.to_thread(self.reader.stop)
        self._answer(None)

    def _from_thread(self, text: str) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.deliver, text)

    def deliver(self, text: str) -> None:
        """One read, on the event loop: hashed here, the text goes no further."""
        try:
            card = self._members.cards.card_id(text)
        except Refusal:
            self.unusable += 1
            return
        finally:
            del text
        if self._waiter is None or self._waiter.done():
            self.ignored += 1
            return
        self._answer(card)

    def _answer(self, card: CardId | None) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(card)
        self._waiter = None

    def cancel(self) -> None:
        """The waiting screen went away: a card presented now does nothing."""
        self._answer(None)

    async def next_card(self, wait_s: float) -> CardId | None:
        """The next card presented within `wait_s`, or None (timeout, or a newer waiter)."""
        if self.reader is None:
            raise no_reader()
        self._answer(None)  # one screen waits at a time: the newest
        waiter: asyncio.Future[CardId | None] = asyncio.get_running_loop().create_future()
        self._waiter = waiter
        try:
            return await asyncio.wait_for(asyncio.shield(waiter), min(wait_s, MAX_WAIT_S))
        except TimeoutError:
            return None
        finally:
            if self._waiter is waiter:
                self._waiter = None

    # --- what a card does ---------------------------------------------------------------------

    def check_purpose(self, purpose: Purpose) -> None:
        if purpose != "staff" and purpose not in self._people.card_alone_for:
            raise pin_required(purpose)

    async def identify(self, purpose: Purpose, wait_s: float, via: str) -> CardIdentified:
        """Wait for a card and say whose it is: a member session, a staff number, or nothing."""
        self.check_purpose(purpose)
        if not self._members.cards.available:
            raise members_unavailable("cards")
        card = await self.next_card(wait_s)
        if card is None:
            return CardIdentified("none")
        guard = self._throttle.guard() if self._throttle else contextlib.nullcontext()
        async with guard:
            owner = await self._members.cards.owner_of(card)
            if owner is None or not await self._active(owner):
                await self._store.write(lambda tx: self._unknown(tx, card, via))
                raise card_unknown()
        if owner.kind == "staff":
            if purpose != "staff":
                raise Refusal(
                    "denied",
                    "staff_badge",
                    "this is a staff badge: staff log in with the small button on Home",
                )
            return CardIdentified("staff", staff_no=owner.owner)
        if purpose == "staff":
            raise Refusal("denied", "not_staff_badge", "this card is not a staff badge")
        member = await self._members.get(owner.owner)
        token = await self._members.identify_by_card(member, card, via)
        return CardIdentified("member", token=token, member=member)

    async def _active(self, owner: CardOwner) -> bool:
        """A card of a deactivated staff account is no badge; a member's card still names its
        member (who is then told the membership is suspended)."""
        if owner.kind == "member":
            return True
        rows = await self._store.aquery(
            "SELECT 1 FROM staff WHERE staff_no = ? AND active = 1", (owner.owner,)
        )
        return bool(rows)

    def _unknown(self, tx: Tx, card: CardId, via: str) -> None:
        # Counted with the wrong member PINs (throttle.MEMBER_PIN counts `pin_failed` events
        # whose subject starts with `member:`); no per-card lockout: a card has no owner to lock.
        tx.append(
            "pin_failed",
            actor=via,
            payload={"subject": "member:card", "card": card.label, "via": "card"},
        )

    async def _read_to_bind(self, wait_s: float) -> CardId:
        card = await self.next_card(wait_s)
        if card is None:
            raise Refusal(
                "conflict",
                "no_card",
                f"no card was presented within {round(min(wait_s, MAX_WAIT_S))} s; tap Bind "
                "and present it again",
            )
        return card

    async def read_for_binding(self, member_id: str, wait_s: float, actor: str) -> Member:
        """Staff at the maintenance screen: the next card presented is bound to this member."""
        member = await self._members.get(member_id)
        await self._members.bind_card_id(member, await self._read_to_bind(wait_s), actor)
        return member

    async def read_badge(self, staff_no: str, wait_s: float, actor: str) -> StaffBadge:
        """Staff at the maintenance screen: the next card presented becomes this staff
        account's badge (badge + PIN log in); `card_bound` names the staff actor."""
        badge = await self.staff_badge(staff_no)
        card = await self._read_to_bind(wait_s)
        await self._members.cards.bind_id(card, badge.owner, badge.label, actor)
        return await self.staff_badge(staff_no)

    async def unbind_badges(self, staff_no: str, actor: str) -> StaffBadge:
        """A lost badge: every card of this staff account stops logging anybody in."""
        badge = await self.staff_badge(staff_no)
        await self._members.cards.unbind(badge.owner, badge.label, actor)
        return await self.staff_badge(staff_no)

    async def staff_badge(self, staff_no: str) -> StaffBadge:
        rows = await self._store.aquery(
            "SELECT name FROM staff WHERE staff_no = ? AND active = 1", (staff_no,)
        )
        if not rows:
            raise not_found(f"active staff account {staff_no!r}")
        owner = CardOwner("staff", staff_no)
        return StaffBadge(staff_no, rows[0]["name"], await self._members.cards.count(owner))

    # --- the link ------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """For telemetry and `station doctor` (counts only, never a read)."""
        if self.reader is None:
            return {"configured": False}
        stats = self.reader.stats
        return {
            "configured": True,
            "kind": self._reader_cfg.kind if self._reader_cfg else "",
            "device": self.reader.device,
            "connected": bool(self.reader.connected),
            "last_error": self.reader.last_error,
            "reads": stats.reads,
            "repeats": stats.repeats,
            "garbage": stats.garbage + self.unusable,
            "ignored": self.ignored,
            "disconnects": stats.disconnects,
        }

    async def _watch_link(self, every_s: float = 0.5) -> None:
        assert self.reader is not None and self._reader_cfg is not None
        gone_since: float | None = self._clock.monotonic()
        alarmed = False
        while True:
            now = self._clock.monotonic()
            if self.reader.connected:
                gone_since = None
                if alarmed:
                    await self._store.write(
                        lambda tx: self._alarms.clear_alarm(tx, ALARM, "reader", "reader is back")
                    )
                    alarmed = False
            else:
                gone_since = now if gone_since is None else gone_since
                if not alarmed and now - gone_since >= self._reader_cfg.offline_after_s:
                    detail = f"{self.reader.device}: {self.reader.last_error or 'not found'}"
                    await self._store.write(
                        lambda tx, d=detail: self._alarms.raise_alarm(tx, ALARM, "reader", d)
                    )
                    alarmed = True
            await asyncio.sleep(every_s)
