"""Lending's door-flow steps and the writes they share with the restart settling.

A step object is made per flow with the facts it needs (the store, the tool, the borrower or
the loan), so it depends on nothing private of the service that started it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from station.people.members import Member
from station.services.flows import Flow, FlowRunner, log_at_door, unsettled_flows
from station.services.lending.records import Loan, LoanStarted
from station.services.lending.rules import CONDITIONS, period_s, return_report, unverified
from station.store import Store, Tx


def start_loan(
    tx: Tx,
    *,
    tool_id: str,
    locker: str,
    member: Member,
    period_s: float,
    approval_id: int | None,
    payload: dict[str, Any],
) -> LoanStarted:
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
    return LoanStarted(loan_id=loan_id, tool_id=tool_id, due_at=due)


LIMIT_REACHED = -2
"""What the reserving transaction answers when the member's loan limit is reached."""


def held_loans(tx: Tx, member_id: str) -> int:
    """A member's loans started and not returned, plus tools reserved for them right now."""
    row = tx.conn.execute(
        "SELECT (SELECT COUNT(*) FROM loans WHERE member_id = ? AND returned_at IS NULL)"
        " + (SELECT COUNT(*) FROM tools WHERE status = 'reserved' AND reserved_by = ?)",
        (member_id, member_id),
    ).fetchone()
    return int(row[0])


def unreserve(
    tx: Tx, tool_id: str, locker: str, actor: str, why: str, flow: str | None = None
) -> None:
    """A reservation whose door never let the tool out is undone: the tool is available.

    `flow` names the loan flow this settles in the journal (None: no flow had begun)."""
    tx.conn.execute(
        "UPDATE tools SET status = 'available', status_reason = NULL, updated_at = ?"
        " WHERE id = ? AND status = 'reserved'",
        (tx.now(), tool_id),
    )
    tx.append(
        "loan_cancelled",
        actor=actor,
        locker=locker,
        payload={"tool_id": tool_id, "reason": why, **({"flow": flow} if flow else {})},
    )


def member_by_label(tx: Tx, label: str) -> Member | None:
    """The member a log label (hash prefix / last 4) names, if exactly one matches."""
    head, _, last4 = label.removeprefix("member:").partition("/")
    rows = tx.conn.execute(
        "SELECT * FROM members WHERE substr(id, 1, 8) = ? AND last4 = ?", (head, last4)
    ).fetchall()
    return Member.from_row(rows[0]) if len(rows) == 1 else None


def settle_cut_loans(tx: Tx) -> None:
    """Settle loans a restart cut short, by what their door did before and during it.

    The flow journal (`flow_started`) names each loan flow with no `loan_started` or
    `loan_cancelled` of its own. A door seen open after the loan's unlock means the member
    took the tool: the loan starts. An unlock whose door was never seen open may or may not
    have let the tool out, so the tool waits in maintenance until staff look in the locker.
    A flow cut before its unlock, or a reservation whose flow never began, is simply undone.
    """
    for cut in unsettled_flows(tx, "loan", ("loan_started", "loan_cancelled")):
        tool = tx.conn.execute(
            "SELECT * FROM tools WHERE id = ? AND status = 'reserved'", (cut.journal["tool_id"],)
        ).fetchone()
        if tool is None:
            continue
        tool_id, locker = tool["id"], cut.locker
        member = member_by_label(tx, cut.actor)
        if cut.door_unlocked and cut.door_opened and member is not None:
            start_loan(
                tx,
                tool_id=tool_id,
                locker=locker,
                member=member,
                period_s=period_s(tool["loan_period"], tool["loan_unit"]),
                approval_id=cut.journal.get("approval_id"),
                payload={
                    "recovered": "the door opened before the station restarted",
                    "flow": cut.flow,
                },
            )
        elif cut.door_unlocked:
            why = (
                f"the station restarted after door {locker} was unlocked for a loan to "
                f"{cut.actor}: check whether the tool is in the locker"
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
                payload={
                    "tool_id": tool_id,
                    "reason": why,
                    "tool_status": "maintenance",
                    "flow": cut.flow,
                },
            )
        else:
            unreserve(tx, tool_id, locker, "system", "station restarted during the flow", cut.flow)
    # reserved, but the power went before the flow's journal entry: its door never unlocked
    for tool_id, locker in tx.conn.execute(
        "SELECT id, locker FROM tools WHERE status = 'reserved'"
    ).fetchall():
        unreserve(tx, tool_id, locker, "system", "station restarted during the flow")


class LoanSteps:
    """A loan: it starts when the door is seen open; a door that never opens undoes it."""

    def __init__(
        self,
        store: Store,
        *,
        tool_id: str,
        member: Member,
        approval_id: int | None,
        period_s: float,
    ) -> None:
        self._store = store
        self._tool_id = tool_id
        self._member = member
        self._approval_id = approval_id
        self._period_s = period_s

    async def opened(self, flow: Flow) -> None:
        started = await self._store.write(
            lambda tx: start_loan(
                tx,
                tool_id=self._tool_id,
                locker=flow.locker,
                member=self._member,
                period_s=self._period_s,
                approval_id=self._approval_id,
                payload={"flow": flow.id},
            )
        )
        flow.result.update(asdict(started))

    async def not_opened(self, flow: Flow, why: str) -> None:
        await self._store.write(
            lambda tx: unreserve(
                tx, self._tool_id, flow.locker, self._member.label, why, flow=flow.id
            )
        )

    async def closed(self, flow: Flow, runner: FlowRunner) -> None:
        return None

    async def not_closed(self, flow: Flow) -> None:
        return None


class ReturnSteps:
    """A return: recorded once the door is seen closed, then the returner says how it is."""

    def __init__(
        self,
        store: Store,
        *,
        tool_id: str,
        loan: Loan,
        answer_wait_s: float,
        verified: bool,
        item_present: Callable[[str], bool | None],
    ) -> None:
        self._store = store
        self._tool_id = tool_id
        self._loan = loan
        self._answer_wait_s = answer_wait_s
        self._verified = verified
        self._item_present = item_present
        """The locker's item sensor: True/False what it sees, None where there is none."""

    async def opened(self, flow: Flow) -> None:
        flow.result.update({"loan_id": self._loan.id, "tool_id": self._tool_id})

    async def not_opened(self, flow: Flow, why: str) -> None:
        await log_at_door(
            self._store,
            flow,
            "return_cancelled",
            {"tool_id": self._tool_id, "loan_id": self._loan.id, "reason": why},
        )

    async def closed(self, flow: Flow, runner: FlowRunner) -> None:
        loan, tool_id = self._loan, self._tool_id
        # Read as the door was seen closed (the sensor's reading of the same poll comes first).
        item_seen = self._item_present(flow.locker)

        def returned(tx: Tx) -> None:
            now = tx.now()
            tx.conn.execute(
                "UPDATE loans SET returned_at = ?, returned_by = ?, return_verified = ?"
                " WHERE id = ?",
                (now, flow.actor, int(self._verified), loan.id),
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
                    "loan_id": loan.id,
                    "tool_id": tool_id,
                    "borrower": loan.member_label,
                    "late": now > loan.due_at,
                    "verified": self._verified,
                },
            )

        await self._store.write(returned)
        answer = await runner.ask(
            flow,
            {
                "id": "condition",
                "text": "How is the tool?",
                "text_zh": "工具情况如何？",
                "choices": list(CONDITIONS),
            },
            self._answer_wait_s,
        )
        report = return_report(answer)
        if not self._verified:
            report = unverified(report, item_seen)

        def record(tx: Tx) -> None:
            tx.conn.execute(
                "UPDATE loans SET return_condition = ?, return_note = ? WHERE id = ?",
                (report.condition, report.note or None, loan.id),
            )
            tx.conn.execute(
                "UPDATE tools SET status = ?, status_reason = ?, updated_at = ? WHERE id = ?"
                " AND status = 'maintenance'",
                (report.tool_status, report.reason, tx.now(), tool_id),
            )
            tx.append(
                "return_condition",
                actor=flow.actor if answer else "system",
                locker=flow.locker,
                payload={
                    "loan_id": loan.id,
                    "tool_id": tool_id,
                    "condition": report.condition,
                    "note": report.note,
                    "tool_status": report.tool_status,
                    "item_seen": item_seen,
                },
            )

        await self._store.write(record)
        flow.result.update({"condition": report.condition, "tool_status": report.tool_status})

    async def not_closed(self, flow: Flow) -> None:
        await log_at_door(
            self._store,
            flow,
            "return_abandoned",
            {"tool_id": self._tool_id, "loan_id": self._loan.id},
            actor="system",
        )
