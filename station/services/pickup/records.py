"""What a pickup's code closed (a deposit or a lost-item claim), as the flow's result shows it."""

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
