"""Storage and charging lockers: leave a bag or a phone, take it back with a one-time code.

A member or a walk-in courier asks for a locker; a free `storage` locker of a fitting size
opens; the deposit starts once the door is seen open, and once it is seen closed the station
shows a 6-digit pickup code (valid `storage.code_valid_h`, 5 tries). The code opens the door
and ends the deposit. Deposits whose code ran out are overtime and listed for staff.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from station.doors.lockers import LockerService
from station.people.codes import CodeBook, CodeMatch
from station.people.members import Member
from station.refusals import Refusal, invalid_state, not_found
from station.services.config import StorageConfig
from station.services.deposits.records import Deposit, DepositKind
from station.services.deposits.steps import DepositSteps, settle_cut_deposits
from station.services.flows import Flow, FlowRunner
from station.services.pickup.records import PickedUp
from station.store import Store, Tx
from station.store.sweeps import mark_each

_SIZES = {"S": 0, "M": 1, "L": 2}
_OCCUPYING = ("open", "active", "abandoned")


class StorageService:
    def __init__(
        self,
        store: Store,
        cfg: StorageConfig,
        lockers: LockerService,
        flows: FlowRunner,
        codes: CodeBook,
    ) -> None:
        self._store = store
        self._cfg = cfg
        self._lockers = lockers
        self._flows = flows
        self._codes = codes
        self._storage = {v["id"] for v in lockers.snapshot() if v["purpose"] == "storage"}
        lockers.expect_items(self.expects_item)

    def expects_item(self, tx: Tx, locker: str) -> bool | None:
        """A storage locker holds something exactly while a deposit occupies it."""
        if locker not in self._storage:
            return None
        row = tx.conn.execute(
            "SELECT 1 FROM deposits WHERE locker = ? AND status IN (?, ?, ?) LIMIT 1",
            (locker, *_OCCUPYING),
        ).fetchone()
        return row is not None

    async def _free_locker(self, size: str | None) -> str:
        rows = await self._store.aquery(
            "SELECT DISTINCT locker FROM deposits WHERE status IN (?, ?, ?)", _OCCUPYING
        )
        taken = {r["locker"] for r in rows}
        need = _SIZES[size] if size else 0
        fitting = sorted(
            (
                view
                for view in self._lockers.snapshot()
                if view["purpose"] == "storage"
                and _SIZES.get(view["size"], 1) >= need
                and view["id"] not in taken
                and self._lockers.is_usable(view["id"])
                and not self._flows.busy(view["id"])
            ),
            key=lambda v: (_SIZES.get(v["size"], 1), v["id"]),
        )
        if not fitting:
            raise Refusal(
                "conflict",
                "no_free_locker",
                "no storage locker"
                + (f" of size {size} or larger" if size else "")
                + " is free now; please try again later",
                purpose="storage",
            )
        return fitting[0]["id"]

    async def deposit(
        self,
        kind: DepositKind,
        size: str | None,
        member: Member | None,
        actor: str,
        on_finish: list[Callable[[Flow], None]],
    ) -> Flow:
        locker = await self._free_locker(size)
        what = "your phone to charge" if kind == "phone_charge" else "your things"
        return self._flows.start(
            "deposit",
            locker,
            actor=member.label if member else actor,
            reason=f"deposit ({kind})",
            steps=DepositSteps(
                self._store,
                self._codes,
                kind=kind,
                member=member,
                code_valid_s=self._cfg.code_valid_h * 3600,
                item_present=self._lockers.item_present,
                answer_wait_s=self._cfg.answer_wait_s,
            ),
            journal={"kind": kind},
            context={
                "message_open": f"Door {locker} is open: put {what} in and close the door",
            },
            secret_keys=frozenset({"code"}),
            on_finish=on_finish,
        )

    def picked_up(self, tx: Tx, match: CodeMatch, actor: str) -> PickedUp:
        now = tx.now()
        tx.conn.execute(
            "UPDATE deposits SET status = 'collected', closed_at = ?, closed_by = ? WHERE id = ?",
            (now, actor, match.ref),
        )
        tx.append(
            "deposit_collected",
            actor=actor,
            locker=match.locker,
            payload={"deposit_id": match.ref},
        )
        return PickedUp(kind="deposit", ref=match.ref)

    def still_waiting(self, conn: sqlite3.Connection, ref: int) -> bool:
        row = conn.execute("SELECT status FROM deposits WHERE id = ?", (ref,)).fetchone()
        return row is not None and row["status"] == "active"

    def reissued(self, tx: Tx, ref: int, code_id: int, expires_at: float) -> None:
        """The deposit's new code; one that had run out is no longer overtime."""
        tx.conn.execute(
            "UPDATE deposits SET code_id = ?, code_expires_at = ?, overtime_logged = 0"
            " WHERE id = ?",
            (code_id, expires_at, ref),
        )

    # --- staff ---------------------------------------------------------------------------------

    async def list(self, status: str | None = None) -> list[Deposit]:
        sql, params = "SELECT * FROM deposits", []
        if status:
            sql += " WHERE status = ?"
            params.append(status)
        rows = await self._store.aquery(sql + " ORDER BY id DESC LIMIT 500", params)
        now = self._store.clock.wall()
        return [Deposit.from_row(r, now) for r in rows]

    async def overtime(self) -> list[Deposit]:
        """Deposits whose pickup code ran out, and those whose door was left open."""
        now = self._store.clock.wall()
        rows = await self._store.aquery(
            "SELECT * FROM deposits WHERE (status = 'active' AND code_expires_at <= ?)"
            " OR status = 'abandoned' ORDER BY started_at",
            (now,),
        )
        return [Deposit.from_row(r, now) for r in rows]

    async def clear(self, deposit_id: int, reason: str, actor: str) -> Deposit:
        """Staff emptied the locker (after opening it with a reason through the locker API)."""

        def write(tx: Tx) -> Any:
            row = tx.conn.execute("SELECT * FROM deposits WHERE id = ?", (deposit_id,)).fetchone()
            if row is None:
                raise not_found(f"deposit {deposit_id}")
            if row["status"] not in _OCCUPYING:
                raise invalid_state(f"deposit {deposit_id} is already {row['status']}")
            self._codes.revoke(tx, "deposit", deposit_id)
            tx.conn.execute(
                "UPDATE deposits SET status = 'cleared', closed_at = ?, closed_by = ?, note = ?"
                " WHERE id = ?",
                (tx.now(), actor, reason, deposit_id),
            )
            tx.append(
                "deposit_cleared",
                actor=actor,
                locker=row["locker"],
                payload={"deposit_id": deposit_id, "reason": reason},
            )
            return tx.conn.execute("SELECT * FROM deposits WHERE id = ?", (deposit_id,)).fetchone()

        row = await self._store.write(write)
        return Deposit.from_row(row, self._store.clock.wall())

    def sweep(self, tx: Tx) -> int:
        due = (
            "SELECT id, locker FROM deposits WHERE status = 'active' AND code_expires_at <= ?"
            " AND overtime_logged = 0",
            (tx.now(),),
        )
        mark = "UPDATE deposits SET overtime_logged = 1 WHERE id = ?"
        return len(mark_each(tx, due, mark, "deposit_overtime", lambda r: {"deposit_id": r["id"]}))

    async def start(self) -> None:
        """Settle the deposits a restart cut short (see `settle_cut_deposits`)."""
        await self._store.write(settle_cut_deposits)
