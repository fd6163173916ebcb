"""Lending's pure rules: who may borrow what, how long a loan lasts, what a return report
means for the tool. No store, no doors: the service gathers the facts and asks these."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, Literal

from station.refusals import Refusal, invalid
from station.services.lending.records import Loan, Tool

Condition = Literal["works", "needs_repair", "parts_missing"]
CONDITIONS: tuple[str, ...] = ("works", "needs_repair", "parts_missing")
_TOOL_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
EDITABLE = (
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


def check_tool_id(tool_id: str) -> None:
    if not _TOOL_ID.fullmatch(tool_id):
        raise invalid("id", "a tool id is 1 to 32 letters, digits, - or _")


def period_s(period: int, unit: str) -> float:
    """A loan period in seconds (`days` or `hours`)."""
    return period * (86_400 if unit == "days" else 3_600)


def borrow_refusal(
    tool: Tool, mine: list[Loan], max_loans: int, door_usable: bool
) -> Refusal | None:
    """The first borrowing rule this request breaks, if any (approval is checked later,
    inside the reserving transaction)."""
    if tool.status != "available":
        return Refusal(
            "conflict",
            "tool_unavailable",
            f"{tool.name_en} is not available now ({tool.status})",
            status=tool.status,
        )
    late = [loan for loan in mine if loan.overdue]
    if late:
        return Refusal(
            "denied",
            "overdue",
            "please return your overdue tool first: "
            + ", ".join(f"{loan.tool_name_en} (locker {loan.locker})" for loan in late),
            overdue=[asdict(loan) for loan in late],
        )
    if len(mine) >= max_loans:
        return loan_limit(len(mine), max_loans)
    if not door_usable:
        return Refusal(
            "conflict",
            "locker_unavailable",
            f"the door of {tool.name_en} cannot be opened now; please ask staff",
            locker=tool.locker,
        )
    return None


def loan_limit(held: int, max_loans: int) -> Refusal:
    return Refusal(
        "denied",
        "loan_limit",
        f"you already have {held} tools out or being taken out; the limit is {max_loans}",
        limit=max_loans,
    )


def return_refusal(tool: Tool, door_usable: bool) -> Refusal | None:
    """Why a return of this tool cannot start now, if it cannot."""
    if tool.status != "on_loan":
        return Refusal(
            "conflict",
            "tool_unavailable",
            f"{tool.name_en} is not on loan ({tool.status}); nothing to return",
            status=tool.status,
        )
    if not door_usable:
        return Refusal(
            "conflict",
            "locker_unavailable",
            f"the door for {tool.name_en} cannot be opened now; please ask staff",
            locker=tool.locker,
        )
    return None


@dataclass(frozen=True, slots=True)
class ReturnReport:
    """What a returner's answer to "how is the tool?" means for the tool."""

    condition: str
    note: str
    tool_status: str
    reason: str | None


def return_report(answer: dict[str, Any] | None) -> ReturnReport:
    """Only `works` puts a tool back in service; no answer sends it to staff to check."""
    condition = (answer or {}).get("condition")
    note = str((answer or {}).get("note") or "")[:200]
    if condition == "works":
        return ReturnReport("works", note, "available", None)
    if condition in ("needs_repair", "parts_missing"):
        reason = f"returned: {condition.replace('_', ' ')}" + (f": {note}" if note else "")
        return ReturnReport(condition, note, "maintenance", reason)
    return ReturnReport(
        "unreported", note, "maintenance", "returned without a condition report: check it"
    )


def unverified(report: ReturnReport, item_seen: bool | None) -> ReturnReport:
    """A return by someone other than the borrower: the door may have closed on nothing.

    Where the locker has an item sensor, what it sees after the door closed decides: the tool
    is seen, so the returner's answer counts as the borrower's would; the locker is empty, so
    the tool waits for staff. Without a sensor (`item_seen` None) it always waits for staff to
    see it in the locker before it is lent again."""
    if item_seen is True:
        why = "returned by someone other than the borrower; the locker's item sensor sees it"
        return ReturnReport(
            report.condition,
            report.note,
            report.tool_status,
            f"{report.reason}; {why}" if report.reason else None,
        )
    if item_seen is False:
        why = "returned by someone other than the borrower, but the locker's item sensor sees "
        why += "nothing in it: staff check the locker"
    else:
        why = "returned by someone other than the borrower: staff check the locker"
    reason = f"{report.reason}; {why}" if report.reason else f"{why} (said: {report.condition})"
    return ReturnReport(report.condition, report.note, "maintenance", reason)
