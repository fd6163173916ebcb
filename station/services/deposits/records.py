"""Deposits' typed record, the row as it leaves the service (the API's DepositView)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

DepositKind = Literal["bag", "phone_charge"]


@dataclass(frozen=True, slots=True)
class Deposit:
    """A deposit; `depositor` is the member's masked number, or `walk-in`."""

    id: int
    locker: str
    kind: str
    depositor: str
    status: str
    started_at: float
    code_expires_at: float | None
    overtime: bool
    closed_at: float | None
    note: str | None

    @classmethod
    def from_row(cls, row: Any, now: float) -> Deposit:
        """A `deposits` row seen at wall time `now` (overtime: its code ran out)."""
        r = dict(row)
        return cls(
            id=r["id"],
            locker=r["locker"],
            kind=r["kind"],
            depositor=r["depositor_masked"] or "walk-in",
            status=r["status"],
            started_at=r["started_at"],
            code_expires_at=r["code_expires_at"],
            overtime=r["status"] == "active"
            and r["code_expires_at"] is not None
            and r["code_expires_at"] <= now,
            closed_at=r["closed_at"],
            note=r["note"],
        )
