"""Supplies' typed record, the row as it leaves the service (the API's SupplyView)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Supply:
    """A consumable; `count` is None until staff first count it, and only then can be low."""

    id: str
    name: str
    name_en: str
    unit: str
    count: int | None
    threshold: int
    low: bool
    counted_at: float | None

    @classmethod
    def from_row(cls, row: Any) -> Supply:
        r = dict(row)
        return cls(
            id=r["id"],
            name=r["name"],
            name_en=r["name_en"],
            unit=r["unit"],
            count=r["count"],
            threshold=r["threshold"],
            low=r["count"] is not None and r["count"] <= r["threshold"],
            counted_at=r["counted_at"],
        )
