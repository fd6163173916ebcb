"""Lending's typed records: what the store rows become before they leave the service.

The API's ToolView, LoanView and ApprovalView are built from these (FastAPI validates each
record into its response model), so a field renamed here fails at the route, not on a screen.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Tool:
    """A tool in the catalogue, with its open loan's borrower (masked) and due time."""

    id: str
    name_zh: str
    name_en: str
    category: str
    condition: str
    accessories: tuple[str, ...]
    safety_notice: str
    loan_period: int
    loan_unit: str
    staff_approval_required: bool
    locker: str | None
    status: str
    status_reason: str | None
    borrowed_by: str | None
    due_at: float | None

    @classmethod
    def from_row(cls, row: Any) -> Tool:
        """A `tools` row, joined (optionally) with its open loan's member_masked and loan_due."""
        r = dict(row)
        on_loan = bool(r.get("member_masked"))
        return cls(
            id=r["id"],
            name_zh=r["name_zh"],
            name_en=r["name_en"],
            category=r["category"],
            condition=r["condition"],
            accessories=tuple(json.loads(r["accessories"])),
            safety_notice=r["safety_notice"],
            loan_period=r["loan_period"],
            loan_unit=r["loan_unit"],
            staff_approval_required=bool(r["staff_approval_required"]),
            locker=r["locker"],
            status=r["status"],
            status_reason=r["status_reason"],
            borrowed_by=r["member_masked"] if on_loan else None,
            due_at=r["loan_due"] if on_loan else None,
        )


@dataclass(frozen=True, slots=True)
class Loan:
    """One loan; `member` is the borrower's masked number, `member_label` the log's name."""

    id: int
    tool_id: str
    tool_name_zh: str | None
    tool_name_en: str | None
    locker: str
    member: str
    member_label: str
    started_at: float
    due_at: float
    returned_at: float | None
    return_condition: str | None
    overdue: bool

    @classmethod
    def from_row(cls, row: Any, now: float) -> Loan:
        """A `loans` row (optionally joined with its tool's names), seen at wall time `now`."""
        r = dict(row)
        return cls(
            id=r["id"],
            tool_id=r["tool_id"],
            tool_name_zh=r.get("name_zh"),
            tool_name_en=r.get("name_en"),
            locker=r["locker"],
            member=r["member_masked"],
            member_label=r["member_label"],
            started_at=r["started_at"],
            due_at=r["due_at"],
            returned_at=r["returned_at"],
            return_condition=r["return_condition"],
            overdue=r["returned_at"] is None and r["due_at"] < now,
        )


@dataclass(frozen=True, slots=True)
class Approval:
    """Staff let one member (masked) borrow one risky tool until `expires_at`."""

    tool_id: str
    member: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class LoanStarted:
    """What a loan flow's result says once the door was seen open."""

    loan_id: int
    tool_id: str
    due_at: float
