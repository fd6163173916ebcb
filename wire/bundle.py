"""The downlink bundle: what the central office sends every station, and the rules it must meet.

Central validates a bundle when it is published and the station validates it again when it
arrives, with this one model, so that a bundle from a newer central (or one damaged on the way)
is refused as a whole and the station keeps the last good one. Members travel as a phone hash,
the last four digits, an argon2id PIN hash (or none, when the PIN is set at the station) and
keyed hashes of their cards only: a full phone number, a card number or a PIN has no field
here, and unknown fields are errors, so none can slip in.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

BUNDLE_FORMAT = 1

Ident = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
Argon2idHash = Annotated[str, Field(pattern=r"^\$argon2id\$v=\d+\$m=\d+,t=\d+,p=\d+\$\S+\$\S+$")]
Scalar = str | int | float | bool


class BundleError(Exception):
    """A bundle that cannot be used; the message names the field and what was wrong."""


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BundleTool(_Part):
    id: Ident
    name: Annotated[str, Field(min_length=1, max_length=100)]
    name_en: Annotated[str, Field(max_length=100)] = ""
    category: Annotated[str, Field(max_length=50)] = ""
    loan_days: Annotated[int, Field(ge=1, le=365)] = 7
    locker: Annotated[str, Field(pattern=r"^[A-Z][0-9]{2}$")] | None = None
    """The locker the tool lives in at this station, if the catalogue assigns one."""
    status: Literal["available", "maintenance", "retired"] | None = None
    """A status change that needs no door (the station refuses one during a loan); None:
    the station keeps the tool's status."""


Hex64 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class BundleMember(_Part):
    id: Ident
    phone_hash: Hex64
    phone_last4: Annotated[str, Field(pattern=r"^[0-9]{4}$")]
    pin_hash: Argon2idHash | None = None
    """None: the member sets a PIN at the station with staff (maintenance screen)."""
    must_change_pin: bool = False
    """The PIN is a first PIN from the office: the station asks for a new one before any use."""
    card_hashes: Annotated[list[Hex64], Field(max_length=8)] = []
    """Keyed hashes of the member's cards or codes (wire/identity.py), never their numbers."""
    display_name: Annotated[str, Field(max_length=40)] = ""
    """A masked name for the screen (e.g. 王*), never a full name and number together."""
    active: bool = True
    max_loans: Annotated[int, Field(ge=0, le=50)] = 3


class BundleStaff(_Part):
    staff_no: Ident
    name: Annotated[str, Field(min_length=1, max_length=40)]
    pin_hash: Argon2idHash
    role: Literal["staff", "admin"] = "staff"
    active: bool = True


class BundleNotice(_Part):
    id: Ident
    text: Annotated[str, Field(min_length=1, max_length=500)]
    text_en: Annotated[str, Field(max_length=500)] = ""
    level: Literal["info", "warning"] = "info"
    starts_at: float | None = None
    ends_at: float | None = None
    priority: Annotated[int, Field(ge=0, le=9)] = 0
    """Higher comes first in the Home strip's rotation (a warning before a promotion)."""
    merchant: Annotated[str, Field(max_length=40)] = ""
    """For a promotion (商家促销): the merchant's name, shown with the text."""
    stations: tuple[Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")], ...] = ()
    """The stations that show it; empty for every station the bundle reaches."""

    def shown_at(self, station: str) -> bool:
        return not self.stations or station in self.stations

    @model_validator(mode="after")
    def _ordered(self) -> BundleNotice:
        if (
            self.starts_at is not None
            and self.ends_at is not None
            and self.ends_at <= self.starts_at
        ):
            raise ValueError(f"notice {self.id}: ends_at must be after starts_at")
        return self


class Bundle(_Part):
    format: Literal[1] = BUNDLE_FORMAT
    tools: list[BundleTool] = []
    members: list[BundleMember] = []
    staff: list[BundleStaff] = []
    notices: list[BundleNotice] = []
    settings: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.]{0,63}$")], Scalar] = {}

    @model_validator(mode="after")
    def _unique(self) -> Bundle:
        for what, keys in (
            ("tools", [t.id for t in self.tools]),
            ("members", [m.id for m in self.members]),
            ("members (phone_hash)", [m.phone_hash for m in self.members]),
            ("members (card_hashes)", [c for m in self.members for c in m.card_hashes]),
            ("staff", [s.staff_no for s in self.staff]),
            ("notices", [n.id for n in self.notices]),
        ):
            dup = sorted(k for k, n in Counter(keys).items() if n > 1)
            if dup:
                shown = ", ".join(d[:12] for d in dup[:5])
                raise ValueError(f"{what}: repeated id(s): {shown}")
        return self

    def counts(self) -> dict[str, int]:
        return {
            "tools": len(self.tools),
            "members": len(self.members),
            "staff": len(self.staff),
            "notices": len(self.notices),
            "settings": len(self.settings),
        }


def canonical_json(bundle: Bundle) -> str:
    """One byte-exact text per bundle, so that its sha256 means the same at both ends."""
    return json.dumps(
        bundle.model_dump(mode="json"), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )


def sha256_hex(text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


def parse_bundle(data: str | bytes | dict[str, Any]) -> Bundle:
    """Validate a bundle document, raising BundleError that lists every problem by field."""
    try:
        if isinstance(data, dict):
            return Bundle.model_validate(data)
        return Bundle.model_validate_json(data)
    except ValidationError as exc:
        raise BundleError(describe_errors(exc)) from None


def describe_errors(exc: ValidationError, limit: int = 8) -> str:
    parts = []
    for err in exc.errors()[:limit]:
        loc = ".".join(str(p) for p in err["loc"]) or "(document)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        parts.append(f"{loc}: {msg}")
    more = exc.error_count() - limit
    if more > 0:
        parts.append(f"... and {more} more")
    return "; ".join(parts)
