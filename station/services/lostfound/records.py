"""Lost and found's typed records: items as anyone or staff may see them, claims, a staff
approval's answer, and a hand-in's facts. The API's Found*, ClaimView and ApproveResponse are
built from these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Field

from station.people.phone import PhoneId
from station.store import record

Disposition = Literal["police", "donated", "discarded"]

CATEGORIES: dict[str, tuple[str, str, bool]] = {
    "documents": ("证件", "Documents", True),
    "keys": ("钥匙", "Keys", False),
    "electronics": ("手机/电子", "Phones and electronics", True),
    "wallets": ("钱包", "Wallets", True),
    "umbrellas": ("雨伞", "Umbrellas", False),
    "clothing": ("衣物", "Clothing", False),
    "other": ("其他", "Other", False),
}
"""code: (Chinese, English, valuable). Valuables go to staff within `valuables_collect_h`."""


ClaimStatus = Literal["pending", "approved", "rejected", "picked_up"]


@dataclass(frozen=True, slots=True)
class Claim:
    """A claim on an item; `claimant` is the masked number, never the full one."""

    id: int
    item: str
    claimant: Annotated[str, Field(description="Masked phone of the claimant")]
    description: str
    status: ClaimStatus
    created_at: float
    decided_at: float | None
    decided_by: str | None
    reason: str | None

    @classmethod
    def from_row(cls, row: Any, number: str | None = None) -> Claim:
        """A `claims` row; the item's number given, or joined in as `number`."""
        r = dict(row)
        return record(cls, r, item=number or r.get("number"), claimant=r["claimant_masked"])


@dataclass(frozen=True, slots=True)
class FoundItem:
    """What anyone at the screen may see of an item: never the finder."""

    number: str
    category: str
    category_zh: str
    category_en: str
    colour: str
    place: str
    description: str
    found_at: float
    status: str

    @classmethod
    def from_row(cls, row: Any) -> FoundItem:
        r = dict(row)
        return record(cls, r, **_category_names(r["category"]))


@dataclass(frozen=True, slots=True)
class FoundRecord(FoundItem):
    """Staff's view of an item: where it is, the finder (masked), deadlines and claims."""

    locker: str | None
    valuable: bool
    collect_by: float | None
    finder: Annotated[str | None, Field(description="Masked phone of the finder, if given")]
    expires_at: float
    disposition: str | None
    disposition_reason: str | None
    claims: tuple[Claim, ...]

    @classmethod
    def from_row(cls, row: Any, claims: list[Claim] | None = None) -> FoundRecord:
        r = dict(row)
        return record(
            cls,
            r,
            **_category_names(r["category"]),
            locker=r["locker"] if r["in_locker"] else None,
            valuable=bool(r["valuable"]),
            finder=r["finder_masked"],
            claims=tuple(claims or ()),
        )


def _category_names(code: str) -> dict[str, str]:
    zh, en, _ = CATEGORIES.get(code, (code, code, False))
    return {"category_zh": zh, "category_en": en}


@dataclass(frozen=True, slots=True)
class Approved:
    """A claim staff approved: a pickup code for the locker, or none if handed over."""

    claim: Claim
    code: Annotated[
        str | None, Field(description="Pickup code, shown only here; null if handed over")
    ]
    locker: str | None
    code_expires_at: float | None


@dataclass(frozen=True, slots=True)
class HandInItem:
    """What a finder told the screen; the finder's number is already reduced to its hash."""

    category: str
    colour: str
    place: str
    description: str
    finder: PhoneId | None


@dataclass(frozen=True, slots=True)
class Registered:
    """A hand-in's receipt, the flow's result: the item's number and where it is."""

    number: str
    locker: str
    category: str
    valuable: bool


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    zh: str
    en: str
    valuable: bool


@dataclass(frozen=True, slots=True)
class Options:
    """What the hand-in screen offers: the categories and the station's places."""

    categories: tuple[Category, ...]
    places: tuple[str, ...]
