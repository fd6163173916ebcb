"""Deposits' door-flow steps and the writes they share with the restart settling.

A step object is made per flow with the facts it needs (the store, the code book, the kind
of deposit, the member), so it depends on nothing private of the service that started it.
"""

from __future__ import annotations

from collections.abc import Callable

from station.people.codes import CodeBook
from station.people.members import Member
from station.services.flows import ITEM_MISSING, Flow, FlowRunner, log_at_door, unsettled_flows
from station.store import Store, Tx


def insert_deposit(
    tx: Tx, locker: str, kind: str, depositor: str, masked: str | None, flow_id: str
) -> int:
    """A deposit begins: its door has been seen open."""
    cur = tx.conn.execute(
        "INSERT INTO deposits (locker, kind, depositor, depositor_masked, status, started_at)"
        " VALUES (?, ?, ?, ?, 'open', ?)",
        (locker, kind, depositor, masked, tx.now()),
    )
    deposit_id = int(cur.lastrowid or 0)
    tx.append(
        "deposit_started",
        actor=depositor,
        locker=locker,
        payload={"deposit_id": deposit_id, "kind": kind, "flow": flow_id},
    )
    return deposit_id


def abandon(tx: Tx, deposit_id: int, locker: str, note: str, reason: str) -> None:
    """No code was issued for this deposit: staff must look in the locker."""
    tx.conn.execute(
        "UPDATE deposits SET status = 'abandoned', note = ? WHERE id = ?", (note, deposit_id)
    )
    tx.append(
        "deposit_abandoned",
        actor="system",
        locker=locker,
        payload={"deposit_id": deposit_id, "reason": reason},
    )


def settle_cut_deposits(tx: Tx) -> None:
    """Deposits whose door opened but whose flow a restart cut short are for staff: no
    code was issued, so the depositor cannot open the locker, and staff must look in it."""
    for cut in unsettled_flows(tx, "deposit", ("deposit_started", "deposit_cancelled")):
        if cut.door_opened:
            insert_deposit(tx, cut.locker, cut.journal["kind"], cut.actor, None, cut.flow)
        else:
            tx.append(
                "deposit_cancelled",
                actor="system",
                locker=cut.locker,
                payload={
                    "kind": cut.journal["kind"],
                    "reason": "station restarted before the door opened",
                    "flow": cut.flow,
                },
            )
    rows = tx.conn.execute("SELECT id, locker FROM deposits WHERE status = 'open'")
    for deposit_id, locker in rows.fetchall():
        abandon(
            tx,
            deposit_id,
            locker,
            "station restarted before a code was issued",
            "station restarted",
        )


class DepositSteps:
    """A deposit starts when its door is seen open; once seen closed, a pickup code."""

    def __init__(
        self,
        store: Store,
        codes: CodeBook,
        *,
        kind: str,
        member: Member | None,
        code_valid_s: float,
        item_present: Callable[[str], bool | None] = lambda locker: None,
        answer_wait_s: float = 60.0,
    ) -> None:
        self._item_present = item_present
        self._answer_wait_s = answer_wait_s
        self._store = store
        self._codes = codes
        self._kind = kind
        self._member = member
        self._code_valid_s = code_valid_s
        self._deposit_id: int | None = None

    async def opened(self, flow: Flow) -> None:
        masked = self._member.masked if self._member else None
        self._deposit_id = await self._store.write(
            lambda tx: insert_deposit(tx, flow.locker, self._kind, flow.actor, masked, flow.id)
        )
        flow.result["deposit_id"] = self._deposit_id

    async def not_opened(self, flow: Flow, why: str) -> None:
        await log_at_door(
            self._store,
            flow,
            "deposit_cancelled",
            {"kind": self._kind, "reason": why, "flow": flow.id},
        )

    async def closed(self, flow: Flow, runner: FlowRunner) -> None:
        deposit_id = self._deposit_id
        assert deposit_id is not None  # closed follows opened
        if self._item_present(flow.locker) is False:
            # The compartment's sensor sees nothing: ask before a code ties up the locker.
            answer = await runner.ask(flow, ITEM_MISSING, self._answer_wait_s)
            if (answer or {}).get("choice") == "no":
                await self._release(flow, deposit_id)
                return
        async with self._codes.drawing() as code:

            def write(tx: Tx) -> float:
                code_id, expires = self._codes.issue(
                    tx,
                    code,
                    purpose="deposit",
                    ref=deposit_id,
                    locker=flow.locker,
                    valid_s=self._code_valid_s,
                )
                tx.conn.execute(
                    "UPDATE deposits SET status = 'active', code_id = ?, code_expires_at = ?"
                    " WHERE id = ?",
                    (code_id, expires, deposit_id),
                )
                tx.append(
                    "deposit_code_issued",
                    actor="system",
                    locker=flow.locker,
                    payload={"deposit_id": deposit_id, "code_expires_at": expires},
                )
                return expires

            expires = await self._store.write(write)
        flow.result.update(
            {"deposit_id": deposit_id, "code": code.plain, "code_expires_at": expires}
        )
        flow.context["message_completed"] = (
            f"Locker {flow.locker} is closed. Your pickup code is shown on screen: write it down"
        )

    async def _release(self, flow: Flow, deposit_id: int) -> None:
        """The depositor says nothing went in: no code, the locker is free again."""

        def write(tx: Tx) -> None:
            tx.conn.execute(
                "UPDATE deposits SET status = 'cleared', closed_at = ?, closed_by = ?, note = ?"
                " WHERE id = ?",
                (tx.now(), flow.actor, "nothing put in (sensor and depositor agree)", deposit_id),
            )
            tx.append(
                "deposit_released",
                actor=flow.actor,
                locker=flow.locker,
                payload={"deposit_id": deposit_id, "reason": "nothing put in"},
            )

        await self._store.write(write)
        flow.result.update({"deposit_id": deposit_id, "released": True})
        flow.context["message_completed"] = (
            f"Nothing was left in locker {flow.locker}; it is free again. No code is needed"
        )

    async def not_closed(self, flow: Flow) -> None:
        deposit_id = self._deposit_id
        assert deposit_id is not None  # not_closed follows opened
        await self._store.write(
            lambda tx: abandon(
                tx, deposit_id, flow.locker, "door left open: no code issued", "door left open"
            )
        )
