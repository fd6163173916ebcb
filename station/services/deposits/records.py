"""Deposits' typed record, the row as it leaves the service; also the API's DepositView."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from station.store import record

DepositKind = Literal["bag", "phone_charge"]
DepositStatus = Literal["open", "active", "collected", "cleared", "abandoned"]


@dataclass(frozen=True, slots=True)
class Deposit:
    """A deposit; `depositor` is the member's masked number, or `walk-in`."""

    id: int
    locker: str
    kind: DepositKind
    depositor: str
    status: DepositStatus
    started_at: float
    code_expires_at: float | None
    overtime: bool
    closed_at: float | None
    note: str | None

    @classmethod
    def from_row(cls, row: Any, now: float) -> Deposit:
        """A `deposits` row seen at wall time `now` (overtime: its code ran out)."""
        r = dict(row)
        expires = r["code_expires_at"]
        return record(
            cls,
            r,
            depositor=r["depositor_masked"] or "walk-in",
            overtime=r["status"] == "active" and expires is not None and expires <= now,
        )
