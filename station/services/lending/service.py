"""Tool lending: the catalogue, the borrowing rules, loans, returns and overdue loans.

Borrowing checks the rules first (tool available, no overdue loan, under the loan limit, staff
approval for risky tools, door usable), reserves the tool, and opens its door; the loan starts
only when the door is seen open, and a door that never opens cancels the reservation. A return
opens the door, records the return once the door is seen closed, then asks how the tool is:
a tool that needs repair or misses parts goes to `maintenance` until staff release it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from station.doors.lockers import LockerService, UnknownLocker
from station.people.members import Member
from station.refusals import Refusal, invalid, invalid_state, not_found
from station.services.config import LendingConfig
from station.services.flows import Flow, FlowRunner
from station.services.lending.records import Approval, Loan, Tool
from station.services.lending.rules import (
    EDITABLE,
    borrow_refusal,
    check_tool_id,
    loan_limit,
    period_s,
    return_refusal,
)
from station.services.lending.steps import (
    LIMIT_REACHED,
    LoanSteps,
    ReturnSteps,
    held_loans,
    settle_cut_loans,
    unreserve,
)
from station.store import Store, Tx
from station.store.sweeps import mark_each

_TOOL_SELECT = (
    "SELECT tools.*, loans.member_masked, loans.due_at AS loan_due FROM tools"
    " LEFT JOIN loans ON loans.tool_id = tools.id AND loans.returned_at IS NULL"
)
_LOAN_SELECT = (
    "SELECT loans.*, tools.name_zh, tools.name_en FROM loans JOIN tools ON tools.id = loans.tool_id"
)


class LendingService:
    def __init__(
        self,
        store: Store,
        cfg: LendingConfig,
        lockers: LockerService,
        flows: FlowRunner,
    ) -> None:
        self._store = store
        self._cfg = cfg
        self._lockers = lockers
        self._flows = flows

    def _now(self) -> float:
        return self._store.clock.wall()

    async def start(self) -> None:
        """Settle the loans a restart cut short (see `settle_cut_loans`)."""
        await self._store.write(settle_cut_loans)

    # --- catalogue -----------------------------------------------------------------------------

    async def list_tools(
        self, status: str | None = None, category: str | None = None
    ) -> list[Tool]:
        sql = _TOOL_SELECT
        where, params = [], []
        if status:
            where.append("tools.status = ?")
            params.append(status)
        if category:
            where.append("tools.category = ?")
            params.append(category)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY tools.id"
        rows = await self._store.aquery(sql, params)
        return [Tool.from_row(r) for r in rows]

    async def get_tool(self, tool_id: str) -> Tool:
        rows = await self._store.aquery(f"{_TOOL_SELECT} WHERE tools.id = ?", (tool_id,))
        if not rows:
            raise not_found(f"tool {tool_id!r}")
        return Tool.from_row(rows[0])

    def _check_locker(self, tx: Tx, locker: str, tool_id: str) -> None:
        check_tool_locker(tx, self._lockers, locker, tool_id)

    async def create_tool(self, fields: dict[str, Any], actor: str) -> Tool:
        tool_id = fields["id"]
        check_tool_id(tool_id)

        def write(tx: Tx) -> None:
            if tx.conn.execute("SELECT 1 FROM tools WHERE id = ?", (tool_id,)).fetchone():
                raise Refusal("conflict", "already_registered", f"tool {tool_id} already exists")
            locker = fields.get("locker")
            if locker:
                self._check_locker(tx, locker, tool_id)
            now = tx.now()
            tx.conn.execute(
                "INSERT INTO tools (id, name_zh, name_en, category, condition, accessories,"
                " safety_notice, loan_period, loan_unit, staff_approval_required, locker, status,"
                " status_reason, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'maintenance', ?, ?, ?)",
                (
                    tool_id,
                    fields["name_zh"],
                    fields["name_en"],
                    fields["category"],
                    fields.get("condition", "good"),
                    json.dumps(fields.get("accessories", []), ensure_ascii=False),
                    fields.get("safety_notice", ""),
                    fields["loan_period"],
                    fields["loan_unit"],
                    int(bool(fields.get("staff_approval_required", False))),
                    locker,
                    "new: not yet stocked",
                    now,
                    now,
                ),
            )
            tx.append(
                "tool_added",
                actor=actor,
                locker=locker,
                payload={
                    "tool_id": tool_id,
                    "name_zh": fields["name_zh"],
                    "name_en": fields["name_en"],
                    "staff_approval_required": bool(fields.get("staff_approval_required")),
                },
            )

        await self._store.write(write)
        return await self.get_tool(tool_id)

    async def update_tool(self, tool_id: str, fields: dict[str, Any], actor: str) -> Tool:
        changes = {k: v for k, v in fields.items() if k in EDITABLE}
        if not changes:
            raise invalid("body", "nothing to change: give at least one catalogue field")

        def write(tx: Tx) -> None:
            if not tx.conn.execute("SELECT 1 FROM tools WHERE id = ?", (tool_id,)).fetchone():
                raise not_found(f"tool {tool_id!r}")
            stored = {
                k: (
                    json.dumps(v, ensure_ascii=False)
                    if k == "accessories"
                    else int(v)
                    if k == "staff_approval_required"
                    else v
                )
                for k, v in changes.items()
            }
            sets = ", ".join(f"{k} = ?" for k in stored)
            tx.conn.execute(
                f"UPDATE tools SET {sets}, updated_at = ? WHERE id = ?",
                (*stored.values(), tx.now(), tool_id),
            )
            tx.append("tool_updated", actor=actor, payload={"tool_id": tool_id, "changes": changes})

        await self._store.write(write)
        return await self.get_tool(tool_id)

    async def _staff_change(
        self,
        tool_id: str,
        actor: str,
        event: str,
        allowed_from: tuple[str, ...],
        to: str,
        reason: str,
        *,
        locker: str | None = None,
        need_locker: bool = False,
        free_locker: bool = False,
    ) -> Tool:
        def write(tx: Tx) -> None:
            row = tx.conn.execute("SELECT * FROM tools WHERE id = ?", (tool_id,)).fetchone()
            if row is None:
                raise not_found(f"tool {tool_id!r}")
            if row["status"] not in allowed_from:
                raise invalid_state(
                    f"tool {tool_id} is {row['status']}; this needs it to be "
                    f"{' or '.join(allowed_from)}"
                )
            new_locker = row["locker"]
            if locker is not None:
                self._check_locker(tx, locker, tool_id)
                new_locker = locker
            if free_locker:
                new_locker = None
            if need_locker and not new_locker:
                raise invalid_state(f"tool {tool_id} has no locker: assign one first")
            tx.conn.execute(
                "UPDATE tools SET status = ?, status_reason = ?, locker = ?, updated_at = ?"
                " WHERE id = ?",
                (to, reason or None, new_locker, tx.now(), tool_id),
            )
            tx.append(
                event,
                actor=actor,
                locker=new_locker or row["locker"],
                payload={
                    "tool_id": tool_id,
                    "from": row["status"],
                    "to": to,
                    "reason": reason,
                    "locker_from": row["locker"],
                    "locker_to": new_locker,
                },
            )

        await self._store.write(write)
        return await self.get_tool(tool_id)

    async def assign(self, tool_id: str, locker: str, actor: str) -> Tool:
        tool = await self.get_tool(tool_id)
        keep = ("available", "maintenance", "missing")
        return await self._staff_change(
            tool_id,
            actor,
            "tool_assigned",
            keep,
            tool.status,
            tool.status_reason or "",
            locker=locker,
        )

    async def restock(self, tool_id: str, note: str, actor: str) -> Tool:
        return await self._staff_change(
            tool_id,
            actor,
            "tool_restocked",
            ("maintenance", "missing"),
            "available",
            note,
            need_locker=True,
        )

    async def repaired(self, tool_id: str, note: str, actor: str) -> Tool:
        return await self._staff_change(
            tool_id, actor, "tool_repaired", ("maintenance",), "available", note, need_locker=True
        )

    async def mark_missing(self, tool_id: str, reason: str, actor: str) -> Tool:
        return await self._staff_change(
            tool_id, actor, "tool_missing", ("available", "maintenance"), "missing", reason
        )

    async def retire(self, tool_id: str, reason: str, actor: str) -> Tool:
        return await self._staff_change(
            tool_id,
            actor,
            "tool_retired",
            ("available", "maintenance", "missing"),
            "retired",
            reason,
            free_locker=True,
        )

    async def approve(self, tool_id: str, member: Member, actor: str) -> Approval:
        """Staff let one member borrow one risky tool within `approval_valid_min`."""
        valid_s = self._cfg.approval_valid_min * 60

        def write(tx: Tx) -> float:
            row = tx.conn.execute("SELECT * FROM tools WHERE id = ?", (tool_id,)).fetchone()
            if row is None:
                raise not_found(f"tool {tool_id!r}")
            if not row["staff_approval_required"]:
                raise invalid_state(f"tool {tool_id} needs no approval")
            expires = tx.now() + valid_s
            tx.conn.execute(
                "INSERT INTO tool_approvals (tool_id, member_id, member_label, approved_by,"
                " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                (tool_id, member.id, member.label, actor, tx.now(), expires),
            )
            tx.append(
                "loan_approved",
                actor=actor,
                locker=row["locker"],
                payload={"tool_id": tool_id, "member": member.label, "expires_at": expires},
            )
            return expires

        expires = await self._store.write(write)
        return Approval(tool_id=tool_id, member=member.masked, expires_at=expires)

    # --- loans ---------------------------------------------------------------------------------

    async def member_loans(self, member_id: str) -> list[Loan]:
        rows = await self._store.aquery(
            f"{_LOAN_SELECT} WHERE loans.member_id = ? AND loans.returned_at IS NULL"
            " ORDER BY loans.due_at",
            (member_id,),
        )
        now = self._now()
        return [Loan.from_row(r, now) for r in rows]

    async def loans(self, open_only: bool = True, limit: int = 500) -> list[Loan]:
        where = " WHERE loans.returned_at IS NULL" if open_only else ""
        rows = await self._store.aquery(
            f"{_LOAN_SELECT}{where} ORDER BY loans.id DESC LIMIT ?", (limit,)
        )
        now = self._now()
        return [Loan.from_row(r, now) for r in rows]

    async def overdue(self) -> list[Loan]:
        now = self._now()
        rows = await self._store.aquery(
            f"{_LOAN_SELECT} WHERE loans.returned_at IS NULL AND loans.due_at < ?"
            " ORDER BY loans.due_at",
            (now,),
        )
        return [Loan.from_row(r, now) for r in rows]

    def _door_usable(self, locker: str | None) -> bool:
        if not locker:
            return False
        return self._lockers.is_usable(locker) and not self._flows.busy(locker)

    def max_loans_for(self, member: Member) -> int:
        """The member's own limit from the central office, else the station's."""
        return self._cfg.max_loans if member.max_loans is None else member.max_loans

    async def borrow(
        self, tool_id: str, member: Member, on_finish: list[Callable[[Flow], None]]
    ) -> Flow:
        """Check the rules, reserve the tool and start opening its door."""
        tool = await self.get_tool(tool_id)
        refusal = borrow_refusal(
            tool,
            await self.member_loans(member.id),
            self.max_loans_for(member),
            self._door_usable(tool.locker),
        )
        if refusal is not None:
            await self._store.write(
                lambda tx: tx.append(
                    "loan_refused",
                    actor=member.label,
                    locker=tool.locker,
                    payload={"tool_id": tool_id, "reason": refusal.code},
                )
            )
            raise refusal
        locker = tool.locker
        assert locker is not None  # a usable door has a locker

        def reserve(tx: Tx) -> int | None:
            row = tx.conn.execute("SELECT * FROM tools WHERE id = ?", (tool_id,)).fetchone()
            if row["status"] != "available":
                raise Refusal(
                    "conflict",
                    "tool_unavailable",
                    f"{row['name_en']} was just taken",
                    status=row["status"],
                )
            # The limit counts loans started and tools reserved (door opening) together, in
            # the transaction that reserves: concurrent or quick successive borrows cannot
            # each find room under it.
            held = held_loans(tx, member.id)
            if held >= self._cfg.max_loans:
                tx.append(
                    "loan_refused",
                    actor=member.label,
                    locker=locker,
                    payload={"tool_id": tool_id, "reason": "loan_limit"},
                )
                return LIMIT_REACHED
            approval_id = None
            if row["staff_approval_required"]:
                ap = tx.conn.execute(
                    "SELECT id FROM tool_approvals WHERE tool_id = ? AND member_id = ?"
                    " AND used_at IS NULL AND expires_at > ? ORDER BY id DESC LIMIT 1",
                    (tool_id, member.id, tx.now()),
                ).fetchone()
                if ap is None:
                    tx.append(
                        "loan_refused",
                        actor=member.label,
                        locker=locker,
                        payload={"tool_id": tool_id, "reason": "approval_required"},
                    )
                    return -1
                approval_id = ap[0]
            tx.conn.execute(
                "UPDATE tools SET status = 'reserved', status_reason = ?, reserved_by = ?,"
                " updated_at = ? WHERE id = ?",
                (f"being borrowed by {member.label}", member.id, tx.now(), tool_id),
            )
            tx.append(
                "loan_requested",
                actor=member.label,
                locker=locker,
                payload={"tool_id": tool_id, "approval_id": approval_id},
            )
            return approval_id

        approval = await self._store.write(reserve)
        if approval == LIMIT_REACHED:
            raise loan_limit(self._cfg.max_loans, self._cfg.max_loans)
        if approval == -1:
            raise Refusal(
                "denied",
                "approval_required",
                f"{tool.name_en} needs staff approval before you can borrow it; please ask staff",
            )
        steps = LoanSteps(
            self._store,
            tool_id=tool_id,
            member=member,
            approval_id=approval,
            period_s=period_s(tool.loan_period, tool.loan_unit),
        )
        try:
            return self._flows.start(
                "loan",
                locker,
                actor=member.label,
                reason=f"loan of tool {tool_id}",
                steps=steps,
                journal={"tool_id": tool_id, "approval_id": approval},
                context={
                    "message_open": f"Door {locker} is open: take the {tool.name_en} and close "
                    "the door"
                },
                on_finish=on_finish,
            )
        except Refusal:
            await self._store.write(
                lambda tx: unreserve(tx, tool_id, locker, member.label, "door busy")
            )
            raise

    async def return_tool(
        self,
        tool_id: str,
        actor: str,
        on_finish: list[Callable[[Flow], None]],
        member_id: str | None = None,
    ) -> Flow:
        """Open the door of a tool on loan so anyone can put it back.

        A return by the borrower (identified: `member_id`) is verified. Anyone else's is
        recorded as unverified: the loan ends, but since nothing may have been put back the
        tool is lent again only once the locker's item sensor sees it (where its board has
        one) or staff have looked in the locker (POST /tools/{id}/repaired)."""
        tool = await self.get_tool(tool_id)
        refusal = return_refusal(tool, self._door_usable(tool.locker))
        if refusal is not None:
            raise refusal
        rows = await self._store.aquery(
            f"{_LOAN_SELECT} WHERE loans.tool_id = ? AND loans.returned_at IS NULL", (tool_id,)
        )
        loan = Loan.from_row(rows[0], self._now())
        verified = member_id is not None and member_id == rows[0]["member_id"]
        locker = tool.locker
        assert locker is not None  # a usable door has a locker
        await self._store.write(
            lambda tx: tx.append(
                "return_requested",
                actor=actor,
                locker=locker,
                payload={
                    "tool_id": tool_id,
                    "loan_id": loan.id,
                    "borrower": loan.member_label,
                    "verified": verified,
                },
            )
        )
        return self._flows.start(
            "return",
            locker,
            actor=actor,
            reason=f"return of tool {tool_id}",
            steps=ReturnSteps(
                self._store,
                tool_id=tool_id,
                loan=loan,
                answer_wait_s=self._cfg.answer_wait_s,
                verified=verified,
                item_present=self._lockers.item_present,
            ),
            context={
                "message_open": f"Door {locker} is open: put the {tool.name_en} in and close "
                "the door",
            },
            on_finish=on_finish,
        )

    # --- housekeeping --------------------------------------------------------------------------

    def sweep(self, tx: Tx) -> int:
        """Log each loan the first time it is seen overdue, for staff and the central office."""
        due = (
            "SELECT * FROM loans WHERE returned_at IS NULL AND due_at < ? AND overdue_logged = 0",
            (tx.now(),),
        )
        return len(
            mark_each(
                tx,
                due,
                "UPDATE loans SET overdue_logged = 1 WHERE id = ?",
                "loan_overdue",
                lambda r: {
                    "loan_id": r["id"],
                    "tool_id": r["tool_id"],
                    "member": r["member_label"],
                    "due_at": r["due_at"],
                },
            )
        )


def check_tool_locker(tx: Tx, lockers: LockerService, locker: str, tool_id: str) -> None:
    """Refuse a locker that is not a tool locker here or already holds another tool."""
    try:
        view = lockers.view(locker)
    except UnknownLocker:
        raise invalid("locker", f"no locker called {locker!r} at this station") from None
    if view["purpose"] != "tool":
        raise invalid("locker", f"locker {locker} is for {view['purpose']}, not for tools")
    other = tx.conn.execute(
        "SELECT id FROM tools WHERE locker = ? AND status != 'retired' AND id != ?",
        (locker, tool_id),
    ).fetchone()
    if other:
        raise Refusal("conflict", "locker_taken", f"locker {locker} already holds tool {other[0]}")
