"""Lost and found: hand-in without identity, public browsing, claims decided by staff.

A finder hands an item in at the screen: the station picks a free lost-and-found locker, opens
it, and once the door is seen closed registers the item under a short number (the receipt).
Valuables are flagged for staff to take out within a day. A claimant leaves a phone number and
a description; staff verify in person (the station never decides ownership) and approve, which
issues a one-time pickup code for the locker, or reject with a reason. Unclaimed items expire
after the retention period and staff remove them with a disposition.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from station.doors.lockers import LockerService
from station.people.codes import CodeBook, CodeMatch
from station.people.phone import PhoneId
from station.people.throttle import GuessThrottle
from station.refusals import Refusal, invalid, invalid_state, not_found
from station.services.config import LostFoundConfig
from station.services.flows import Flow, FlowRunner
from station.services.lostfound.records import (
    CATEGORIES,
    Approved,
    Category,
    Claim,
    Disposition,
    FoundItem,
    FoundRecord,
    HandInItem,
    Options,
)
from station.services.lostfound.steps import HandInSteps, settle_cut_handins
from station.services.pickup.records import PickedUp
from station.store import Store, Tx
from station.store.sweeps import mark_each

CLAIMABLE = ("held", "with_staff")
_OCCUPYING = ("held", "awaiting_pickup", "expired")


class LostFoundService:
    def __init__(
        self,
        store: Store,
        cfg: LostFoundConfig,
        lockers: LockerService,
        flows: FlowRunner,
        codes: CodeBook,
        phone_id: Callable[[str], PhoneId],
        claims_budget: GuessThrottle,
    ) -> None:
        self._claims_budget = claims_budget
        self._store = store
        self._cfg = cfg
        self._lockers = lockers
        self._flows = flows
        self._codes = codes
        self._phone_id = phone_id
        self._held_in = {v["id"] for v in lockers.snapshot() if v["purpose"] == "lost_found"}
        lockers.expect_items(self.expects_item)

    def expects_item(self, tx: Tx, locker: str) -> bool | None:
        """A lost-and-found locker holds something exactly while a found item is in it."""
        if locker not in self._held_in:
            return None
        row = tx.conn.execute(
            "SELECT 1 FROM found_items WHERE locker = ? AND in_locker = 1"
            " AND status IN ('held', 'awaiting_pickup') LIMIT 1",
            (locker,),
        ).fetchone()
        return row is not None

    def options(self) -> Options:
        return Options(
            categories=tuple(
                Category(code, zh, en, valuable) for code, (zh, en, valuable) in CATEGORIES.items()
            ),
            places=tuple(self._cfg.places),
        )

    # --- hand-in -------------------------------------------------------------------------------

    async def _free_locker(self) -> str:
        rows = await self._store.aquery(
            "SELECT DISTINCT locker FROM found_items WHERE in_locker = 1 AND status IN (?, ?, ?)",
            _OCCUPYING,
        )
        taken = {r["locker"] for r in rows}
        for view in self._lockers.snapshot():
            lid = view["id"]
            if (
                view["purpose"] == "lost_found"
                and lid not in taken
                and self._lockers.is_usable(lid)
                and not self._flows.busy(lid)
            ):
                return lid
        raise Refusal(
            "conflict",
            "no_free_locker",
            "no lost-and-found locker is free now; please hand the item to staff",
            purpose="lost_found",
        )

    async def hand_in(
        self,
        *,
        category: str,
        colour: str,
        place: str,
        description: str,
        finder_phone: str | None,
        actor: str,
    ) -> Flow:
        if category not in CATEGORIES:
            raise invalid("category", f"unknown category; use one of {', '.join(CATEGORIES)}")
        finder = self._phone_id(finder_phone) if finder_phone else None
        locker = await self._free_locker()
        item = HandInItem(
            category=category,
            colour=colour.strip(),
            place=place.strip(),
            description=description.strip(),
            finder=finder,
        )
        return self._flows.start(
            "handin",
            locker,
            actor=actor,
            reason=f"hand-in of a found item ({category})",
            steps=HandInSteps(self._store, self._cfg, item, self._lockers.item_present),
            journal={
                "category": item.category,
                "colour": item.colour,
                "place": item.place,
                "finder": finder.label if finder else None,
            },
            context={
                "message_open": f"Door {locker} is open: put the item in and close the door",
            },
        )

    # --- browsing ------------------------------------------------------------------------------

    async def browse(
        self, category: str | None = None, since: float | None = None, until: float | None = None
    ) -> list[FoundItem]:
        sql = "SELECT * FROM found_items WHERE status IN ('held', 'with_staff')"
        params: list[Any] = []
        if category:
            sql += " AND category = ?"
            params.append(category)
        if since is not None:
            sql += " AND found_at >= ?"
            params.append(since)
        if until is not None:
            sql += " AND found_at < ?"
            params.append(until)
        rows = await self._store.aquery(sql + " ORDER BY found_at DESC LIMIT 500", params)
        return [FoundItem.from_row(r) for r in rows]

    async def _item(self, number: str) -> Any:
        rows = await self._store.aquery("SELECT * FROM found_items WHERE number = ?", (number,))
        if not rows:
            raise not_found(f"found item {number!r}")
        return rows[0]

    async def public_item(self, number: str) -> FoundItem:
        return FoundItem.from_row(await self._item(number))

    async def staff_item(self, number: str) -> FoundRecord:
        item = await self._item(number)
        claims = await self._store.aquery(
            "SELECT * FROM claims WHERE item_id = ? ORDER BY id", (item["id"],)
        )
        return FoundRecord.from_row(item, [Claim.from_row(c, number) for c in claims])

    # --- claims --------------------------------------------------------------------------------

    async def claim(
        self, number: str, claimant: PhoneId | str, description: str, actor: str
    ) -> Claim:
        """A claim by a typed phone number, or by a member the kiosk identified (card or
        PIN: the member's own number hash, so staff call back the same way)."""
        if isinstance(claimant, str):
            claimant = self._phone_id(claimant)

        def write(tx: Tx) -> Claim:
            item = _item_row(tx, number)
            if item["status"] in ("awaiting_pickup", "claimed"):
                raise Refusal(
                    "conflict",
                    "already_claimed",
                    f"item {number} has already been claimed; if it is yours, please ask staff",
                )
            if item["status"] not in CLAIMABLE:
                raise Refusal(
                    "conflict",
                    "not_claimable",
                    f"item {number} can no longer be claimed here ({item['status']}); please "
                    "ask staff",
                    status=item["status"],
                )
            # A second claim by the same number is stored like any other: an answer that
            # differed for a number that had already claimed would tell a stranger whose it is.
            cur = tx.conn.execute(
                "INSERT INTO claims (item_id, claimant_id, claimant_label, claimant_masked,"
                " description, status, created_at) VALUES (?, ?, ?, ?, ?, 'pending', ?)",
                (
                    item["id"],
                    claimant.hash,
                    claimant.label,
                    claimant.masked,
                    description.strip(),
                    tx.now(),
                ),
            )
            claim_id = int(cur.lastrowid or 0)
            tx.append(
                "claim_submitted",
                actor=claimant.label,
                locker=item["locker"] if item["in_locker"] else None,
                payload={"claim_id": claim_id, "number": number, "via": actor},
            )
            row = tx.conn.execute("SELECT * FROM claims WHERE id = ?", (claim_id,)).fetchone()
            return Claim.from_row(row, number)

        async with self._claims_budget.guard():
            return await self._store.write(write)

    async def claims(self, status: str | None = "pending") -> list[Claim]:
        sql = (
            "SELECT claims.*, found_items.number FROM claims"
            " JOIN found_items ON item_id = found_items.id"
        )
        params: list[Any] = []
        if status:
            sql += " WHERE claims.status = ?"
            params.append(status)
        rows = await self._store.aquery(sql + " ORDER BY claims.id", params)
        return [Claim.from_row(r) for r in rows]

    async def approve(self, claim_id: int, note: str, actor: str) -> Approved:
        """Staff checked the claimant: a pickup code for the locker, or a hand-over in person."""
        valid_s = self._cfg.claim_code_valid_h * 3600

        def write(tx: Tx) -> Approved:
            claim, item = _claim_and_item(tx, claim_id)
            if claim["status"] != "pending":
                raise invalid_state(f"claim {claim_id} is {claim['status']}, not pending")
            if item["status"] in ("awaiting_pickup", "claimed"):
                raise Refusal(
                    "conflict", "already_claimed", f"item {item['number']} is already claimed"
                )
            if item["status"] == "removed":
                raise invalid_state(f"item {item['number']} was removed ({item['disposition']})")
            now = tx.now()
            others = tx.conn.execute(
                "SELECT id FROM claims WHERE item_id = ? AND status = 'pending' AND id != ?",
                (item["id"], claim_id),
            ).fetchall()
            for (other,) in others:
                tx.conn.execute(
                    "UPDATE claims SET status = 'rejected', decided_at = ?, decided_by = ?,"
                    " reason = 'another claim was approved' WHERE id = ?",
                    (now, actor, other),
                )
                tx.append(
                    "claim_rejected",
                    actor=actor,
                    payload={
                        "claim_id": other,
                        "number": item["number"],
                        "reason": "another claim was approved",
                    },
                )
            code_plain: str | None = None
            code_locker: str | None = None
            code_expires: float | None = None
            if item["in_locker"]:
                code_id, expires = self._codes.issue(
                    tx, code, purpose="claim", ref=claim_id, locker=item["locker"], valid_s=valid_s
                )
                tx.conn.execute(
                    "UPDATE claims SET status = 'approved', decided_at = ?, decided_by = ?,"
                    " reason = ?, code_id = ? WHERE id = ?",
                    (now, actor, note or None, code_id, claim_id),
                )
                tx.conn.execute(
                    "UPDATE found_items SET status = 'awaiting_pickup' WHERE id = ?", (item["id"],)
                )
                code_plain, code_locker, code_expires = code.plain, item["locker"], expires
                tx.append(
                    "claim_approved",
                    actor=actor,
                    locker=item["locker"],
                    payload={
                        "claim_id": claim_id,
                        "number": item["number"],
                        "claimant": claim["claimant_label"],
                        "code_expires_at": expires,
                        "note": note,
                    },
                )
            else:
                tx.conn.execute(
                    "UPDATE claims SET status = 'picked_up', decided_at = ?, decided_by = ?,"
                    " reason = ? WHERE id = ?",
                    (now, actor, note or None, claim_id),
                )
                tx.conn.execute(
                    "UPDATE found_items SET status = 'claimed', closed_at = ? WHERE id = ?",
                    (now, item["id"]),
                )
                tx.append(
                    "claim_approved",
                    actor=actor,
                    payload={
                        "claim_id": claim_id,
                        "number": item["number"],
                        "claimant": claim["claimant_label"],
                        "handed_over": True,
                        "note": note,
                    },
                )
            row = tx.conn.execute("SELECT * FROM claims WHERE id = ?", (claim_id,)).fetchone()
            return Approved(
                claim=Claim.from_row(row, item["number"]),
                code=code_plain,
                locker=code_locker,
                code_expires_at=code_expires,
            )

        async with self._codes.drawing() as code:
            return await self._store.write(write)

    async def reject(self, claim_id: int, reason: str, actor: str) -> Claim:
        def write(tx: Tx) -> Claim:
            claim, item = _claim_and_item(tx, claim_id)
            if claim["status"] != "pending":
                raise invalid_state(f"claim {claim_id} is {claim['status']}, not pending")
            tx.conn.execute(
                "UPDATE claims SET status = 'rejected', decided_at = ?, decided_by = ?, reason = ?"
                " WHERE id = ?",
                (tx.now(), actor, reason, claim_id),
            )
            tx.append(
                "claim_rejected",
                actor=actor,
                payload={"claim_id": claim_id, "number": item["number"], "reason": reason},
            )
            row = tx.conn.execute("SELECT * FROM claims WHERE id = ?", (claim_id,)).fetchone()
            return Claim.from_row(row, item["number"])

        return await self._store.write(write)

    def picked_up(self, tx: Tx, match: CodeMatch, actor: str) -> PickedUp:
        """The claimant's code opened the door: the case is closed."""
        claim, item = _claim_and_item(tx, match.ref)
        now = tx.now()
        tx.conn.execute("UPDATE claims SET status = 'picked_up' WHERE id = ?", (match.ref,))
        tx.conn.execute(
            "UPDATE found_items SET status = 'claimed', in_locker = 0, closed_at = ? WHERE id = ?",
            (now, item["id"]),
        )
        tx.append(
            "found_item_claimed",
            actor=claim["claimant_label"],
            locker=match.locker,
            payload={"claim_id": match.ref, "number": item["number"], "via": actor},
        )
        return PickedUp(kind="claim", ref=match.ref, number=item["number"])

    def still_waiting(self, conn: sqlite3.Connection, ref: int) -> bool:
        row = conn.execute("SELECT status FROM claims WHERE id = ?", (ref,)).fetchone()
        return row is not None and row["status"] == "approved"

    def reissued(self, tx: Tx, ref: int, code_id: int, expires_at: float) -> None:
        tx.conn.execute("UPDATE claims SET code_id = ? WHERE id = ?", (code_id, ref))

    # --- staff ---------------------------------------------------------------------------------

    async def valuables(self) -> list[FoundRecord]:
        rows = await self._store.aquery(
            "SELECT * FROM found_items WHERE valuable = 1 AND in_locker = 1"
            " AND status IN ('held', 'expired') ORDER BY collect_by"
        )
        return [FoundRecord.from_row(r) for r in rows]

    async def expired(self) -> list[FoundRecord]:
        rows = await self._store.aquery(
            "SELECT * FROM found_items WHERE status = 'expired' ORDER BY expires_at"
        )
        return [FoundRecord.from_row(r) for r in rows]

    async def collect(self, number: str, note: str, actor: str) -> FoundRecord:
        """Staff took an item out of its locker into their custody (valuables, within a day)."""

        def write(tx: Tx) -> None:
            item = _item_row(tx, number)
            if not item["in_locker"] or item["status"] not in ("held", "expired"):
                raise invalid_state(f"item {number} is not waiting in a locker ({item['status']})")
            status = "with_staff" if item["status"] == "held" else "expired"
            tx.conn.execute(
                "UPDATE found_items SET status = ?, in_locker = 0, collected_by = ? WHERE id = ?",
                (status, actor, item["id"]),
            )
            tx.append(
                "found_item_collected",
                actor=actor,
                locker=item["locker"],
                payload={"number": number, "note": note},
            )

        await self._store.write(write)
        return await self.staff_item(number)

    async def remove(
        self, number: str, disposition: Disposition, reason: str, actor: str
    ) -> FoundRecord:
        """Staff dispose of an expired item: handed to police, donated or discarded."""

        def write(tx: Tx) -> None:
            item = _item_row(tx, number)
            if item["status"] != "expired":
                raise invalid_state(
                    f"item {number} is {item['status']}; only expired items are removed"
                )
            now = tx.now()
            tx.conn.execute(
                "UPDATE found_items SET status = 'removed', in_locker = 0, disposition = ?,"
                " disposition_reason = ?, closed_at = ? WHERE id = ?",
                (disposition, reason, now, item["id"]),
            )
            tx.conn.execute(
                "UPDATE claims SET status = 'rejected', decided_at = ?, decided_by = ?,"
                " reason = 'item removed' WHERE item_id = ? AND status = 'pending'",
                (now, actor, item["id"]),
            )
            tx.append(
                "found_item_removed",
                actor=actor,
                locker=item["locker"],
                payload={"number": number, "disposition": disposition, "reason": reason},
            )

        await self._store.write(write)
        return await self.staff_item(number)

    async def start(self) -> None:
        """Settle the hand-ins a restart cut short (see `settle_cut_handins`)."""
        await self._store.write(lambda tx: settle_cut_handins(tx, self._cfg))

    def sweep(self, tx: Tx) -> int:
        """Items past the retention period become `expired`, listed for staff."""
        due = (
            "SELECT id, number, locker, in_locker FROM found_items"
            " WHERE status IN ('held', 'with_staff') AND expires_at <= ?",
            (tx.now(),),
        )
        rows = mark_each(
            tx,
            due,
            "UPDATE found_items SET status = 'expired' WHERE id = ?",
            "found_item_expired",
            lambda r: {"number": r["number"], "retention_days": self._cfg.retention_days},
            locker=lambda r: r["locker"] if r["in_locker"] else None,
        )
        return len(rows)


def _item_row(tx: Tx, number: str) -> Any:
    item = tx.conn.execute("SELECT * FROM found_items WHERE number = ?", (number,)).fetchone()
    if item is None:
        raise not_found(f"found item {number!r}")
    return item


def _claim_and_item(tx: Tx, claim_id: int) -> tuple[Any, Any]:
    claim = tx.conn.execute("SELECT * FROM claims WHERE id = ?", (claim_id,)).fetchone()
    if claim is None:
        raise not_found(f"claim {claim_id}")
    item = tx.conn.execute("SELECT * FROM found_items WHERE id = ?", (claim["item_id"],)).fetchone()
    return claim, item
