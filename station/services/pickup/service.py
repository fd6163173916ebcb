"""Pickups: a one-time code opens the door of its locker, whatever waits inside.

Deposits and approved lost-item claims both end this way, so the kiosk has one "pick up" tile:
type the code, and the code alone finds the locker (no two waiting codes are alike). The code
is checked first (a wrong one counts against the kiosk and the station, codes.py), then the
door opens as a flow; the code is used up only once the door is seen open. Staff see what
waits and can replace a code (a person who lost theirs, a code that expired): `reissue`.
"""

from __future__ import annotations

import sqlite3
from typing import Protocol

from station.doors.lockers import LockerService
from station.people.codes import CodeBook, CodeMatch
from station.refusals import Refusal, not_found
from station.services.flows import Flow, FlowRunner, log_at_door
from station.services.pickup.records import PickedUp, Reissued, WaitingPickup
from station.store import Store, Tx


class PickupHandler(Protocol):
    def picked_up(self, tx: Tx, match: CodeMatch, actor: str) -> PickedUp:
        """Close the deposit or claim inside the transaction that uses the code."""
        ...

    def still_waiting(self, conn: sqlite3.Connection, ref: int) -> bool:
        """Whether the deposit or claim `ref` still waits in its locker for its owner."""
        ...

    def reissued(self, tx: Tx, ref: int, code_id: int, expires_at: float) -> None:
        """Point the deposit or claim at its new code."""
        ...


ITEM_LEFT = {
    "id": "item_left",
    "text": "Something is still in the locker. Open it again to take it?",
    "text_zh": "柜内还有物品。要再次开门取出吗？",
    "choices": ["open_again", "leave_it"],
}
"""Asked when a pickup's door closed and the item sensor still sees something inside."""


class PickupService:
    def __init__(
        self,
        store: Store,
        codes: CodeBook,
        lockers: LockerService,
        flows: FlowRunner,
        handlers: dict[str, PickupHandler],
        answer_wait_s: float = 60.0,
    ) -> None:
        self._answer_wait_s = answer_wait_s
        self._store = store
        self._codes = codes
        self._lockers = lockers
        self._flows = flows
        self._handlers = handlers

    async def lockers_waiting(self) -> list[str]:
        return await self._codes.lockers_waiting()

    async def pickup(self, code: str, actor: str, locker: str | None = None) -> Flow:
        """Open the locker `code` belongs to (only `locker`, where the caller names one)."""
        if locker is not None and self._flows.busy(locker):
            raise Refusal(
                "conflict", "locker_unavailable", f"locker {locker} is in use", locker=locker
            )
        match = await self._codes.check(code, actor, locker)
        locker = match.locker
        if not self._lockers.is_usable(locker) or self._flows.busy(locker):
            raise Refusal(
                "conflict",
                "locker_unavailable",
                f"locker {locker} cannot be opened now; your code still works; please ask staff",
                locker=locker,
            )
        return self._flows.start(
            "pickup",
            locker,
            actor=actor,
            reason=f"pickup with code ({match.purpose} {match.ref})",
            steps=PickupSteps(
                self._store,
                self._codes,
                self._handlers[match.purpose],
                match,
                lockers=self._lockers,
                answer_wait_s=self._answer_wait_s,
            ),
            context={
                "message_open": f"Door {locker} is open: take your things and close the door",
            },
        )

    # --- staff ---------------------------------------------------------------------------------

    async def waiting(self) -> list[WaitingPickup]:
        """Every locker whose deposit or claim still waits, with where its code stands."""

        def read(conn: sqlite3.Connection) -> list[WaitingPickup]:
            rows = conn.execute(
                "SELECT * FROM codes WHERE id IN (SELECT MAX(id) FROM codes GROUP BY locker)"
                " AND status != 'used' ORDER BY locker"
            ).fetchall()
            return [
                WaitingPickup(
                    locker=r["locker"],
                    purpose=r["purpose"],
                    ref=r["ref"],
                    code_status=r["status"],
                    expires_at=r["expires_at"],
                )
                for r in rows
                if r["purpose"] in self._handlers
                and self._handlers[r["purpose"]].still_waiting(conn, r["ref"])
            ]

        return await self._store.read(lambda db: read(db.conn))

    async def reissue(self, locker: str, reason: str, actor: str) -> Reissued:
        """A new code, as long as the old one was valid, for what waits in `locker`; the old
        code stops working. The code goes to the staff member who asked, once; the log says
        who, when and why, never the code."""
        async with self._codes.drawing() as code:

            def write(tx: Tx) -> Reissued:
                row = self._codes.latest(tx, locker)
                handler = self._handlers.get(row["purpose"]) if row is not None else None
                if row is None or handler is None or not handler.still_waiting(tx.conn, row["ref"]):
                    raise not_found(f"a pickup waiting in locker {locker}")
                valid_s = row["expires_at"] - row["issued_at"]
                code_id, expires = self._codes.issue(
                    tx, code, purpose=row["purpose"], ref=row["ref"], locker=locker, valid_s=valid_s
                )
                handler.reissued(tx, row["ref"], code_id, expires)
                tx.append(
                    "code_reissued",
                    actor=actor,
                    locker=locker,
                    payload={
                        "purpose": row["purpose"],
                        "ref": row["ref"],
                        "replaces": row["id"],
                        "code_expires_at": expires,
                        "reason": reason,
                    },
                )
                return Reissued(
                    locker=locker,
                    purpose=row["purpose"],
                    ref=row["ref"],
                    code=code.plain,
                    expires_at=expires,
                )

            return await self._store.write(write)


class PickupSteps:
    """The code is used up, and what it opened closed, once the door is seen open."""

    def __init__(
        self,
        store: Store,
        codes: CodeBook,
        handler: PickupHandler,
        match: CodeMatch,
        *,
        lockers: LockerService,
        answer_wait_s: float,
    ) -> None:
        self._lockers = lockers
        self._answer_wait_s = answer_wait_s
        self._store = store
        self._codes = codes
        self._handler = handler
        self._match = match

    async def opened(self, flow: Flow) -> None:
        def write(tx: Tx) -> PickedUp:
            self._codes.use(tx, self._match.id)
            return self._handler.picked_up(tx, self._match, flow.actor)

        flow.result.update((await self._store.write(write)).result())

    async def not_opened(self, flow: Flow, why: str) -> None:
        await log_at_door(
            self._store,
            flow,
            "pickup_cancelled",
            {"purpose": self._match.purpose, "ref": self._match.ref, "reason": why},
        )

    async def closed(self, flow: Flow, runner: FlowRunner) -> None:
        """With an item sensor: remind the person of what is still inside before they walk
        away (one more opening on request); what stays is `item_left`, for staff."""
        lockers = self._lockers
        if lockers.item_present(flow.locker) is not True:
            return
        answer = await runner.ask(flow, ITEM_LEFT, self._answer_wait_s)
        if (answer or {}).get("choice") == "open_again":
            closed = await runner.reopen(flow, "pickup: something still inside, opened again")
            if closed and lockers.item_present(flow.locker) is not True:
                return
        detail = (
            f"locker {flow.locker}: something is still inside after a pickup "
            f"({self._match.purpose} {self._match.ref}); the person was reminded. Open it with "
            "a reason, take it to lost and found or call the owner"
        )
        await lockers.raise_locker_alarm("item_left", flow.locker, detail)
        flow.result["item_left"] = True
        flow.context["message_completed"] = (
            f"Door {flow.locker} is closed. Something is still inside: staff have been told"
        )

    async def not_closed(self, flow: Flow) -> None:
        return None
