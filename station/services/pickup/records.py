"""Pickups' records: what a code closed (a deposit or a claim), what waits, a replaced code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class PickedUp:
    kind: str
    ref: int
    number: str | None = None
    """The found item's number, for a claim."""

    def result(self) -> dict[str, Any]:
        """The facts for the flow's result (a deposit has no item number)."""
        out: dict[str, Any] = {"kind": self.kind, "ref": self.ref}
        if self.number is not None:
            out["number"] = self.number
        return out


@dataclass(frozen=True, slots=True)
class WaitingPickup:
    """A locker holding something to pick up with a code, as staff see it (never the code)."""

    locker: str
    purpose: str
    """`deposit` or `claim`."""
    ref: int
    """The deposit's or claim's id."""
    code_status: str
    """`active`, or why the code no longer opens the door: `expired`, `exhausted`, `revoked`."""
    expires_at: float


@dataclass(frozen=True, slots=True)
class Reissued:
    """A new code for what waits in a locker; the old one stops. Shown once, to staff."""

    locker: str
    purpose: str
    ref: int
    code: str
    expires_at: float
