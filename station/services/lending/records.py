"""Lending's typed records: what the store rows become before they leave the service.

They are also the API's response bodies (station/api/models_services.py names them ToolView,
LoanView and ApprovalView), so one definition serves the service, the route and OpenAPI; the
descriptions below are what OpenAPI shows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Field

from station.store import record

ToolStatus = Literal["available", "on_loan", "reserved", "maintenance", "missing", "retired"]


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
    loan_unit: Literal["hours", "days"]
    staff_approval_required: bool
    locker: str | None
    status: ToolStatus
    status_reason: str | None
    borrowed_by: Annotated[
        str | None, Field(description="Masked phone of the borrower, if on loan")
    ]
    due_at: float | None

    @classmethod
    def from_row(cls, row: Any) -> Tool:
        """A `tools` row, joined (optionally) with its open loan's member_masked and loan_due."""
        r = dict(row)
        on_loan = bool(r.get("member_masked"))
        return record(
            cls,
            r,
            accessories=tuple(json.loads(r["accessories"])),
            staff_approval_required=bool(r["staff_approval_required"]),
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
        return record(
            cls,
            r,
            tool_name_zh=r.get("name_zh"),
            tool_name_en=r.get("name_en"),
            member=r["member_masked"],
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
