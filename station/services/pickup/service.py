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
from station.services.flows import Flow, FlowRunner
from station.services.pickup.records import PickedUp
from station.store import Store, Tx


class PickupHandler(Protocol):
    def picked_up(self, tx: Tx, match: CodeMatch, actor: str) -> PickedUp:
        """Close the deposit or claim inside the transaction that uses the code."""
        ...


class PickupService:
    def __init__(
        self,
        store: Store,
        codes: CodeBook,
        lockers: LockerService,
        flows: FlowRunner,
        handlers: dict[str, PickupHandler],
    ) -> None:
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
            steps=PickupSteps(self._store, self._codes, self._handlers[match.purpose], match),
            context={
                "message_open": f"Door {locker} is open: take your things and close the door",
            },
        )


class PickupSteps:
    """The code is used up, and what it opened closed, once the door is seen open."""

    def __init__(
        self, store: Store, codes: CodeBook, handler: PickupHandler, match: CodeMatch
    ) -> None:
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
        await self._store.write(
            lambda tx: tx.append(
                "pickup_cancelled",
                actor=flow.actor,
                locker=flow.locker,
                payload={"purpose": self._match.purpose, "ref": self._match.ref, "reason": why},
            )
        )

    async def closed(self, flow: Flow, runner: FlowRunner) -> None:
        return None

    async def not_closed(self, flow: Flow) -> None:
        return None
