"""Pickups: a locker and its one-time code open the door, whatever waits inside.

Deposits and approved lost-item claims both end this way, so the kiosk has one "pick up" screen:
choose the locker, type the code. The code is checked first (a wrong one costs a try), then the
door opens as a flow; the code is used up only once the door is seen open.
"""

from __future__ import annotations

from typing import Protocol

from station.doors.lockers import LockerService
from station.people.codes import CodeBook, CodeMatch
from station.refusals import Refusal
from station.services.flows import Flow, FlowRunner, log_at_door
from station.services.pickup.records import PickedUp
from station.store import Store, Tx


class PickupHandler(Protocol):
    def picked_up(self, tx: Tx, match: CodeMatch, actor: str) -> PickedUp:
        """Close the deposit or claim inside the transaction that uses the code."""
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

    async def pickup(self, locker: str, code: str, actor: str) -> Flow:
        if self._flows.busy(locker):
            raise Refusal(
                "conflict", "locker_unavailable", f"locker {locker} is in use", locker=locker
            )
        match = await self._codes.check(locker, code, actor)
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
