"""Tool lending: the catalogue, the borrowing rules, loans, returns and overdue loans.

Borrowing checks the rules first (tool available, no overdue loan, under the loan limit, staff
approval for risky tools, door usable), reserves the tool, and opens its door; the loan starts
only when the door is seen open, and a door that never opens cancels the reservation. A return
opens the door, records the return once the door is seen closed, then asks how the tool is:
a tool that needs repair or misses parts goes to `maintenance` until staff release it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, Literal

from station.doors.lockers import LockerService, UnknownLocker
from station.people.members import Member
from station.refusals import Refusal, invalid, invalid_state, not_found
from station.services.config import LendingConfig
from station.services.flows import Flow, FlowRunner
from station.store import Schema, Store, Tx, first_after

LENDING_SCHEMA = Schema(
    "lending",
    [
        """
        CREATE TABLE tools (
            id TEXT PRIMARY KEY,
            name_zh TEXT NOT NULL,
            name_en TEXT NOT NULL,
            category TEXT NOT NULL,
            condition TEXT NOT NULL DEFAULT 'good',
            accessories TEXT NOT NULL DEFAULT '[]',
            safety_notice TEXT NOT NULL DEFAULT '',
            loan_period INTEGER NOT NULL,
            loan_unit TEXT NOT NULL CHECK (loan_unit IN ('hours', 'days')),
            staff_approval_required INTEGER NOT NULL DEFAULT 0,
            locker TEXT,
            status TEXT NOT NULL CHECK (status IN
                ('available', 'on_loan', 'reserved', 'maintenance', 'missing', 'retired')),
            status_reason TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE UNIQUE INDEX tools_one_per_locker ON tools(locker)
            WHERE locker IS NOT NULL AND status != 'retired';

        CREATE TABLE loans (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            tool_id TEXT NOT NULL REFERENCES tools(id),
            member_id TEXT NOT NULL,
            member_label TEXT NOT NULL,
            member_masked TEXT NOT NULL,
            locker TEXT NOT NULL,
            started_at REAL NOT NULL,
            due_at REAL NOT NULL,
            returned_at REAL,
            returned_by TEXT,
            return_condition TEXT,
            return_note TEXT,
            overdue_logged INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX loans_open_member ON loans(member_id) WHERE returned_at IS NULL;
        CREATE UNIQUE INDEX loans_open_tool ON loans(tool_id) WHERE returned_at IS NULL;

        CREATE TABLE tool_approvals (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            tool_id TEXT NOT NULL REFERENCES tools(id),
            member_id TEXT NOT NULL,
            member_label TEXT NOT NULL,
            approved_by TEXT NOT NULL,
            created_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            used_at REAL
        );
        """,
    ],
)

Condition = Literal["works", "needs_repair", "parts_missing"]
CONDITIONS: tuple[str, ...] = ("works", "needs_repair", "parts_missing")
_TOOL_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_EDITABLE = (
    "name_zh",
    "name_en",
    "category",
    "condition",
    "accessories",
    "safety_notice",
    "loan_period",
    "loan_unit",
    "staff_approval_required",
)


def tool_view(row: Any, loan: Any = None) -> dict[str, Any]:
    r = dict(row)
    return {
        "id": r["id"],
        "name_zh": r["name_zh"],
        "name_en": r["name_en"],
        "category": r["category"],
        "condition": r["condition"],
        "accessories": json.loads(r["accessories"]),
        "safety_notice": r["safety_notice"],
        "loan_period": r["loan_period"],
        "loan_unit": r["loan_unit"],
        "staff_approval_required": bool(r["staff_approval_required"]),
        "locker": r["locker"],
        "status": r["status"],
        "status_reason": r["status_reason"],
        "borrowed_by": dict(loan)["member_masked"] if loan else None,
        "due_at": dict(loan)["due_at"] if loan else None,
    }


def loan_view(row: Any, now: float) -> dict[str, Any]:
    r = dict(row)
    return {
        "id": r["id"],
        "tool_id": r["tool_id"],
        "tool_name_zh": r.get("name_zh"),
        "tool_name_en": r.get("name_en"),
        "locker": r["locker"],
        "member": r["member_masked"],
        "member_label": r["member_label"],
        "started_at": r["started_at"],
        "due_at": r["due_at"],
        "returned_at": r["returned_at"],
        "return_condition": r["return_condition"],
        "overdue": r["returned_at"] is None and r["due_at"] < now,
    }


_LOAN_SELECT = (
    "SELECT loans.*, tools.name_zh, tools.name_en FROM loans JOIN tools ON tools.id = loans.tool_id"
)


def _period_s(period: int, unit: str) -> float:
    return period * (86_400 if unit == "days" else 3_600)


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
        """Settle loans a restart cut short, by what their door did before and during it.

        A door seen open after the loan's unlock means the member took the tool: the loan
        starts. An unlock whose door was never seen open may or may not have let the tool out,
        so the tool waits in maintenance until staff look in the locker. A reservation whose
        door was never unlocked is simply undone.
        """
        await self._store.write(self._settle_reservations)

    def _settle_reservations(self, tx: Tx) -> None:
        rows = tx.conn.execute("SELECT * FROM tools WHERE status = 'reserved'").fetchall()
        for tool in rows:
            tool_id, locker = tool["id"], tool["locker"]
            request = tx.conn.execute(
                "SELECT seq, actor, payload FROM events WHERE type = 'loan_requested'"
                " AND locker = ? ORDER BY seq DESC LIMIT 1",
                (locker,),
            ).fetchone()
            unlock = first_after(tx.conn, "door_unlocked", locker, request["seq"] if request else 0)
            opened = unlock is not None and first_after(tx.conn, "door_opened", locker, unlock)
            member = _member_by_label(tx, request["actor"]) if request else None
            if opened and member is not None:
                _start_loan(
                    tx,
                    tool_id=tool_id,
                    locker=locker,
                    member=member,
                    period_s=_period_s(tool["loan_period"], tool["loan_unit"]),
                    approval_id=json.loads(request["payload"]).get("approval_id"),
                    payload={"recovered": "the door opened before the station restarted"},
                )
            elif unlock is not None:
                who = request["actor"] if request else "a member"
                why = (
                    f"the station restarted after door {locker} was unlocked for a loan to "
                    f"{who}: check whether the tool is in the locker"
                )
                tx.conn.execute(
                    "UPDATE tools SET status = 'maintenance', status_reason = ?, updated_at = ?"
                    " WHERE id = ?",
                    (why, tx.now(), tool_id),
                )
                tx.append(
                    "loan_cancelled",
                    actor="system",
                    locker=locker,
                    payload={"tool_id": tool_id, "reason": why, "tool_status": "maintenance"},
                )
            else:
                self._unreserve(tx, tool_id, locker, "system", "station restarted during the flow")

    # --- catalogue -----------------------------------------------------------------------------

    async def list_tools(
        self, status: str | None = None, category: str | None = None
    ) -> list[dict[str, Any]]:
        sql = (
            "SELECT tools.*, loans.member_masked, loans.due_at AS loan_due FROM tools"
            " LEFT JOIN loans ON loans.tool_id = tools.id AND loans.returned_at IS NULL"
        )
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
        return [_tool_with_loan(r) for r in rows]

    async def get_tool(self, tool_id: str) -> dict[str, Any]:
        rows = await self._store.aquery(
            "SELECT tools.*, loans.member_masked, loans.due_at AS loan_due FROM tools"
            " LEFT JOIN loans ON loans.tool_id = tools.id AND loans.returned_at IS NULL"
            " WHERE tools.id = ?",
            (tool_id,),
        )
        if not rows:
            raise not_found(f"tool {tool_id!r}")
        return _tool_with_loan(rows[0])

    def _check_locker(self, tx: Tx, locker: str, tool_id: str) -> None:
        try:
            view = self._lockers.view(locker)
        except UnknownLocker:
            raise invalid("locker", f"no locker called {locker!r} at this station") from None
        if view["purpose"] != "tool":
            raise invalid("locker", f"locker {locker} is for {view['purpose']}, not for tools")
        other = tx.conn.execute(
            "SELECT id FROM tools WHERE locker = ? AND status != 'retired' AND id != ?",
            (locker, tool_id),
        ).fetchone()
        if other:
            raise Refusal(
                "conflict", "locker_taken", f"locker {locker} already holds tool {other[0]}"
            )

    async def create_tool(self, fields: dict[str, Any], actor: str) -> dict[str, Any]:
        tool_id = fields["id"]
        if not _TOOL_ID.fullmatch(tool_id):
            raise invalid("id", "a tool id is 1 to 32 letters, digits, - or _")

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

    async def update_tool(self, tool_id: str, fields: dict[str, Any], actor: str) -> dict[str, Any]:
        changes = {k: v for k, v in fields.items() if k in _EDITABLE}
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
    ) -> dict[str, Any]:
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

    async def assign(self, tool_id: str, locker: str, actor: str) -> dict[str, Any]:
        tool = await self.get_tool(tool_id)
        keep = ("available", "maintenance", "missing")
        return await self._staff_change(
            tool_id,
            actor,
            "tool_assigned",
            keep,
            tool["status"],
            tool["status_reason"] or "",
            locker=locker,
        )

    async def restock(self, tool_id: str, note: str, actor: str) -> dict[str, Any]:
        return await self._staff_change(
            tool_id,
            actor,
            "tool_restocked",
            ("maintenance", "missing"),
            "available",
            note,
            need_locker=True,
        )

    async def repaired(self, tool_id: str, note: str, actor: str) -> dict[str, Any]:
        return await self._staff_change(
            tool_id, actor, "tool_repaired", ("maintenance",), "available", note, need_locker=True
        )

    async def mark_missing(self, tool_id: str, reason: str, actor: str) -> dict[str, Any]:
        return await self._staff_change(
            tool_id, actor, "tool_missing", ("available", "maintenance"), "missing", reason
        )

    async def retire(self, tool_id: str, reason: str, actor: str) -> dict[str, Any]:
        return await self._staff_change(
            tool_id,
            actor,
            "tool_retired",
            ("available", "maintenance", "missing"),
            "retired",
            reason,
            free_locker=True,
        )

    async def approve(self, tool_id: str, member: Member, actor: str) -> dict[str, Any]:
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
        return {"tool_id": tool_id, "member": member.masked, "expires_at": expires}

    # --- loans ---------------------------------------------------------------------------------

    async def member_loans(self, member_id: str) -> list[dict[str, Any]]:
        rows = await self._store.aquery(
            f"{_LOAN_SELECT} WHERE loans.member_id = ? AND loans.returned_at IS NULL"
            " ORDER BY loans.due_at",
            (member_id,),
        )
        now = self._now()
        return [loan_view(r, now) for r in rows]

    async def loans(self, open_only: bool = True, limit: int = 500) -> list[dict[str, Any]]:
        where = " WHERE loans.returned_at IS NULL" if open_only else ""
        rows = await self._store.aquery(
            f"{_LOAN_SELECT}{where} ORDER BY loans.id DESC LIMIT ?", (limit,)
        )
        now = self._now()
        return [loan_view(r, now) for r in rows]

    async def overdue(self) -> list[dict[str, Any]]:
        now = self._now()
        rows = await self._store.aquery(
            f"{_LOAN_SELECT} WHERE loans.returned_at IS NULL AND loans.due_at < ?"
            " ORDER BY loans.due_at",
            (now,),
        )
        return [loan_view(r, now) for r in rows]

    async def borrow(
        self, tool_id: str, member: Member, on_finish: list[Callable[[Flow], None]]
    ) -> Flow:
        """Check the rules, reserve the tool and start opening its door."""
        tool = await self.get_tool(tool_id)
        refusal = self._rules(tool, await self.member_loans(member.id))
        if refusal is not None:
            await self._store.write(
                lambda tx: tx.append(
                    "loan_refused",
                    actor=member.label,
                    locker=tool["locker"],
                    payload={"tool_id": tool_id, "reason": refusal.code},
                )
            )
            raise refusal
        locker = tool["locker"]

        def reserve(tx: Tx) -> int | None:
            row = tx.conn.execute("SELECT * FROM tools WHERE id = ?", (tool_id,)).fetchone()
            if row["status"] != "available":
                raise Refusal(
                    "conflict",
                    "tool_unavailable",
                    f"{row['name_en']} was just taken",
                    status=row["status"],
                )
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
                "UPDATE tools SET status = 'reserved', status_reason = ?, updated_at = ?"
                " WHERE id = ?",
                (f"being borrowed by {member.label}", tx.now(), tool_id),
            )
            tx.append(
                "loan_requested",
                actor=member.label,
                locker=locker,
                payload={"tool_id": tool_id, "approval_id": approval_id},
            )
            return approval_id

        approval = await self._store.write(reserve)
        if approval == -1:
            raise Refusal(
                "denied",
                "approval_required",
                f"{tool['name_en']} needs staff approval before you can borrow it; please ask "
                "staff",
            )
        context = {
            "tool_id": tool_id,
            "member": member,
            "approval_id": approval,
            "period_s": _period_s(tool["loan_period"], tool["loan_unit"]),
            "message_open": f"Door {locker} is open: take the {tool['name_en']} and close the door",
        }
        try:
            return self._flows.start(
                "loan",
                locker,
                actor=member.label,
                reason=f"loan of tool {tool_id}",
                steps=_LoanSteps(self),
                context=context,
                on_finish=on_finish,
            )
        except Refusal:
            await self._store.write(
                lambda tx: self._unreserve(tx, tool_id, locker, member.label, "door busy")
            )
            raise

    def _rules(self, tool: dict[str, Any], mine: list[dict[str, Any]]) -> Refusal | None:
        """The first borrowing rule this request breaks, if any (approval is checked later,
        inside the reserving transaction)."""
        if tool["status"] != "available":
            return Refusal(
                "conflict",
                "tool_unavailable",
                f"{tool['name_en']} is not available now ({tool['status']})",
                status=tool["status"],
            )
        late = [loan for loan in mine if loan["overdue"]]
        if late:
            return Refusal(
                "denied",
                "overdue",
                "please return your overdue tool first: "
                + ", ".join(f"{loan['tool_name_en']} (locker {loan['locker']})" for loan in late),
                overdue=late,
            )
        if len(mine) >= self._cfg.max_loans:
            return Refusal(
                "denied",
                "loan_limit",
                f"you already have {len(mine)} tools out; the limit is {self._cfg.max_loans}",
                limit=self._cfg.max_loans,
            )
        locker = tool["locker"]
        if not locker or not self._lockers.is_usable(locker) or self._flows.busy(locker):
            return Refusal(
                "conflict",
                "locker_unavailable",
                f"the door of {tool['name_en']} cannot be opened now; please ask staff",
                locker=locker,
            )
        return None

    def _unreserve(self, tx: Tx, tool_id: str, locker: str, actor: str, why: str) -> None:
        tx.conn.execute(
            "UPDATE tools SET status = 'available', status_reason = NULL, updated_at = ?"
            " WHERE id = ? AND status = 'reserved'",
            (tx.now(), tool_id),
        )
        tx.append(
            "loan_cancelled",
            actor=actor,
            locker=locker,
            payload={"tool_id": tool_id, "reason": why},
        )

    async def return_tool(
        self, tool_id: str, actor: str, on_finish: list[Callable[[Flow], None]]
    ) -> Flow:
        """Open the door of a tool on loan so anyone can put it back."""
        tool = await self.get_tool(tool_id)
        if tool["status"] != "on_loan":
            raise Refusal(
                "conflict",
                "tool_unavailable",
                f"{tool['name_en']} is not on loan ({tool['status']}); nothing to return",
                status=tool["status"],
            )
        rows = await self._store.aquery(
            "SELECT * FROM loans WHERE tool_id = ? AND returned_at IS NULL", (tool_id,)
        )
        loan = dict(rows[0])
        locker = tool["locker"]
        if not locker or not self._lockers.is_usable(locker) or self._flows.busy(locker):
            raise Refusal(
                "conflict",
                "locker_unavailable",
                f"the door for {tool['name_en']} cannot be opened now; please ask staff",
                locker=locker,
            )
        await self._store.write(
            lambda tx: tx.append(
                "return_requested",
                actor=actor,
                locker=locker,
                payload={
                    "tool_id": tool_id,
                    "loan_id": loan["id"],
                    "borrower": loan["member_label"],
                },
            )
        )
        return self._flows.start(
            "return",
            locker,
            actor=actor,
            reason=f"return of tool {tool_id}",
            steps=_ReturnSteps(self),
            context={
                "tool_id": tool_id,
                "loan": loan,
                "message_open": f"Door {locker} is open: put the {tool['name_en']} in and close "
                "the door",
            },
            on_finish=on_finish,
        )

    # --- housekeeping --------------------------------------------------------------------------

    def sweep(self, tx: Tx) -> int:
        """Log each loan the first time it is seen overdue, for staff and the central office."""
        rows = tx.conn.execute(
            "SELECT * FROM loans WHERE returned_at IS NULL AND due_at < ? AND overdue_logged = 0",
            (tx.now(),),
        ).fetchall()
        for r in rows:
            tx.conn.execute("UPDATE loans SET overdue_logged = 1 WHERE id = ?", (r["id"],))
            tx.append(
                "loan_overdue",
                actor="system",
                locker=r["locker"],
                payload={
                    "loan_id": r["id"],
                    "tool_id": r["tool_id"],
                    "member": r["member_label"],
                    "due_at": r["due_at"],
                },
            )
        return len(rows)


def _tool_with_loan(row: Any) -> dict[str, Any]:
    r = dict(row)
    loan = (
        {"member_masked": r["member_masked"], "due_at": r["loan_due"]}
        if r.get("member_masked")
        else None
    )
    return tool_view(r, loan)


def _start_loan(
    tx: Tx,
    *,
    tool_id: str,
    locker: str,
    member: Member,
    period_s: float,
    approval_id: int | None,
    payload: dict[str, Any],
) -> dict[str, Any]:
    """The loan begins: the door it was reserved behind has been seen open."""
    now = tx.now()
    due = now + period_s
    tx.conn.execute(
        "UPDATE tools SET status = 'on_loan', status_reason = NULL, updated_at = ? WHERE id = ?",
        (now, tool_id),
    )
    cur = tx.conn.execute(
        "INSERT INTO loans (tool_id, member_id, member_label, member_masked, locker,"
        " started_at, due_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (tool_id, member.id, member.label, member.masked, locker, now, due),
    )
    loan_id = int(cur.lastrowid or 0)
    if approval_id:
        tx.conn.execute("UPDATE tool_approvals SET used_at = ? WHERE id = ?", (now, approval_id))
    tx.append(
        "loan_started",
        actor=member.label,
        locker=locker,
        payload={"loan_id": loan_id, "tool_id": tool_id, "due_at": due, **payload},
    )
    return {"loan_id": loan_id, "tool_id": tool_id, "due_at": due}


def _member_by_label(tx: Tx, label: str) -> Member | None:
    """The member a log label (hash prefix / last 4) names, if exactly one matches."""
    head, _, last4 = label.removeprefix("member:").partition("/")
    rows = tx.conn.execute(
        "SELECT * FROM members WHERE substr(id, 1, 8) = ? AND last4 = ?", (head, last4)
    ).fetchall()
    return Member.from_row(rows[0]) if len(rows) == 1 else None


class _LoanSteps:
    def __init__(self, service: LendingService) -> None:
        self._s = service

    async def opened(self, flow: Flow) -> None:
        ctx = flow.context
        flow.result.update(
            await self._s._store.write(
                lambda tx: _start_loan(
                    tx,
                    tool_id=ctx["tool_id"],
                    locker=flow.locker,
                    member=ctx["member"],
                    period_s=ctx["period_s"],
                    approval_id=ctx["approval_id"],
                    payload={"flow": flow.id},
                )
            )
        )

    async def not_opened(self, flow: Flow, why: str) -> None:
        member: Member = flow.context["member"]
        await self._s._store.write(
            lambda tx: self._s._unreserve(
                tx, flow.context["tool_id"], flow.locker, member.label, why
            )
        )

    async def closed(self, flow: Flow, runner: FlowRunner) -> None:
        return None

    async def not_closed(self, flow: Flow) -> None:
        return None


class _ReturnSteps:
    def __init__(self, service: LendingService) -> None:
        self._s = service

    async def opened(self, flow: Flow) -> None:
        loan = flow.context["loan"]
        flow.result.update({"loan_id": loan["id"], "tool_id": flow.context["tool_id"]})

    async def not_opened(self, flow: Flow, why: str) -> None:
        await self._s._store.write(
            lambda tx: tx.append(
                "return_cancelled",
                actor=flow.actor,
                locker=flow.locker,
                payload={
                    "tool_id": flow.context["tool_id"],
                    "loan_id": flow.context["loan"]["id"],
                    "reason": why,
                },
            )
        )

    async def closed(self, flow: Flow, runner: FlowRunner) -> None:
        loan = flow.context["loan"]
        tool_id = flow.context["tool_id"]

        def returned(tx: Tx) -> None:
            now = tx.now()
            tx.conn.execute(
                "UPDATE loans SET returned_at = ?, returned_by = ? WHERE id = ?",
                (now, flow.actor, loan["id"]),
            )
            tx.conn.execute(
                "UPDATE tools SET status = 'maintenance', status_reason = ?, updated_at = ?"
                " WHERE id = ?",
                ("returned: waiting for the condition report", now, tool_id),
            )
            tx.append(
                "tool_returned",
                actor=flow.actor,
                locker=flow.locker,
                payload={
                    "loan_id": loan["id"],
                    "tool_id": tool_id,
                    "borrower": loan["member_label"],
                    "late": now > loan["due_at"],
                },
            )

        await self._s._store.write(returned)
        answer = await runner.ask(
            flow,
            {
                "id": "condition",
                "text": "How is the tool?",
                "text_zh": "工具情况如何？",
                "choices": list(CONDITIONS),
            },
            self._s._cfg.answer_wait_s,
        )
        condition = (answer or {}).get("condition")
        note = str((answer or {}).get("note") or "")[:200]
        if condition == "works":
            status, reason = "available", None
        elif condition in ("needs_repair", "parts_missing"):
            status = "maintenance"
            reason = f"returned: {condition.replace('_', ' ')}" + (f": {note}" if note else "")
        else:
            condition = "unreported"
            status, reason = "maintenance", "returned without a condition report: check it"

        def report(tx: Tx) -> None:
            tx.conn.execute(
                "UPDATE loans SET return_condition = ?, return_note = ? WHERE id = ?",
                (condition, note or None, loan["id"]),
            )
            tx.conn.execute(
                "UPDATE tools SET status = ?, status_reason = ?, updated_at = ? WHERE id = ?"
                " AND status = 'maintenance'",
                (status, reason, tx.now(), tool_id),
            )
            tx.append(
                "return_condition",
                actor=flow.actor if answer else "system",
                locker=flow.locker,
                payload={
                    "loan_id": loan["id"],
                    "tool_id": tool_id,
                    "condition": condition,
                    "note": note,
                    "tool_status": status,
                },
            )

        await self._s._store.write(report)
        flow.result.update({"condition": condition, "tool_status": status})

    async def not_closed(self, flow: Flow) -> None:
        await self._s._store.write(
            lambda tx: tx.append(
                "return_abandoned",
                actor="system",
                locker=flow.locker,
                payload={"tool_id": flow.context["tool_id"], "loan_id": flow.context["loan"]["id"]},
            )
        )
