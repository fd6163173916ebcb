"""Supplies' typed record, the row as it leaves the service; also the API's SupplyView."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field

from station.store import record


@dataclass(frozen=True, slots=True)
class Supply:
    """A consumable; `count` is None until staff first count it, and only then can be low."""

    id: str
    name: str
    name_en: str
    unit: str
    count: Annotated[int | None, Field(description="null until staff first count it")]
    threshold: int
    low: bool
    counted_at: float | None

    @classmethod
    def from_row(cls, row: Any) -> Supply:
        r = dict(row)
        return record(cls, r, low=r["count"] is not None and r["count"] <= r["threshold"])
