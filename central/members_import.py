"""The office's member list: a CSV in, the bundle's `members` section out, and a CSV back out
without phone numbers.

`station central members import FILE.csv --out members.json` reads columns `phone`, `name`,
and optionally `card` and `max_loans`; it hashes each phone number and card number with the
fleet key (wire/identity.py, the same HMAC the stations use), so `members.json` holds no
number a person could use, and `station central publish members.json ...` sends it to every
station. Either each member sets a PIN at the station with staff (the default), or the import
draws a random first PIN per member (`--first-pins FILE`: the letters to hand out), which the
station asks them to replace before anything else.

A bad row refuses the whole file, nothing written, with every problem named by row (as a
spreadsheet numbers it: the header is row 1) and column; a refusal never repeats a number.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wire.bundle import BundleMember
from wire.identity import (
    ARGON2_MEMORY_KIB,
    ARGON2_PARALLELISM,
    ARGON2_TIME_COST,
    card_hash,
    card_text,
    national_number,
    phone_hash,
    weak_pin_reason,
)

COLUMNS = ("phone", "name", "card", "max_loans")
REQUIRED = ("phone", "name")
MAX_ERRORS = 20


class ImportError_(Exception):
    """The file cannot be imported; the message lists each problem by row and column."""


@dataclass(frozen=True)
class Imported:
    members: list[BundleMember]
    letters: list[tuple[str, str, str]]
    """(name, masked phone, first PIN) per member when first PINs were drawn."""


def masked_name(name: str) -> str:
    """王芳 -> 王*: enough for a greeting, too little to name somebody."""
    return name[:1] + "*" if name else ""


def import_members(text: str, key: str, *, first_pins: bool) -> Imported:
    """Check and convert a whole CSV; raise ImportError_ listing every problem."""
    rows = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in rows.fieldnames or []]
    unknown = [h for h in header if h not in COLUMNS]
    missing = [c for c in REQUIRED if c not in header]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing column(s): {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s): {', '.join(unknown)}")
        raise ImportError_(f"row 1 (header): {'; '.join(parts)}; the columns are "
                           f"{', '.join(COLUMNS)} (card and max_loans optional)")  # fmt: skip
    rows.fieldnames = header
    errors: list[str] = []
    seen_phones: dict[str, int] = {}
    seen_cards: dict[str, int] = {}
    members: list[BundleMember] = []
    letters: list[tuple[str, str, str]] = []
    hasher = _hasher() if first_pins else None
    for number, row in enumerate(rows, start=2):

        def bad(column: str, why: str, number: int = number) -> None:
            errors.append(f"row {number}, column {column}: {why}")

        if None in row:  # more cells than columns
            bad("(end)", "more cells than the header has columns")
        national = national_number(row.get("phone") or "")
        name = (row.get("name") or "").strip()
        card = (row.get("card") or "").strip()
        loans_text = (row.get("max_loans") or "").strip()
        if national is None:
            bad("phone", "not a mainland China mobile number (11 digits starting 13 to 19)")
        elif national in seen_phones:
            bad("phone", f"the same number as row {seen_phones[national]}")
        else:
            seen_phones[national] = number
        if not name:
            bad("name", "empty; give the member's name")
        elif len(name) > 40:
            bad("name", "longer than 40 characters")
        card_hex = None
        if card:
            text = card_text(card)
            if text is None:
                bad("card", "not a card number or code (4 to 128 letters, digits or signs)")
            else:
                card_hex = card_hash(key, text)
                if card_hex in seen_cards:
                    bad("card", f"the same card as row {seen_cards[card_hex]}")
                seen_cards[card_hex] = number
        max_loans = 3
        if loans_text:
            if not loans_text.isdigit() or not 0 <= int(loans_text) <= 50:
                bad("max_loans", "a whole number from 0 to 50")
            else:
                max_loans = int(loans_text)
        if len(errors) >= MAX_ERRORS:
            errors.append("... stopped after 20 problems")
            break
        if errors or national is None:
            continue
        digest = phone_hash(key, national)
        pin_hash = None
        if hasher is not None:
            pin = _first_pin()
            pin_hash = hasher.hash(pin)
            letters.append((name, f"{national[:3]}****{national[-4:]}", pin))
        members.append(
            BundleMember(
                id=f"m-{digest[:16]}",
                phone_hash=digest,
                phone_last4=national[-4:],
                pin_hash=pin_hash,
                must_change_pin=pin_hash is not None,
                card_hashes=[card_hex] if card_hex else [],
                display_name=masked_name(name),
                max_loans=max_loans,
            )
        )
    if errors:
        raise ImportError_("\n".join(errors))
    if not members:
        raise ImportError_("row 2: no members in the file (only a header)")
    return Imported(members, letters)


def _hasher() -> Any:
    from argon2 import PasswordHasher, Type

    return PasswordHasher(
        time_cost=ARGON2_TIME_COST,
        memory_cost=ARGON2_MEMORY_KIB,
        parallelism=ARGON2_PARALLELISM,
        type=Type.ID,
    )


def _first_pin() -> str:
    while True:
        pin = f"{secrets.randbelow(1_000_000):06d}"
        if weak_pin_reason(pin) is None:
            return pin


def members_json(members: Iterable[BundleMember]) -> str:
    """The `members.json` file `station central publish` takes (a bare list, by its name)."""
    return json.dumps([m.model_dump(mode="json") for m in members], ensure_ascii=False, indent=1)


def export_csv(members: Iterable[BundleMember]) -> str:
    """For the office: who is a member, without phone numbers (last 4 digits only)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "phone_last4", "name", "cards", "max_loans", "pin", "active"])
    for m in members:
        pin = "at station" if m.pin_hash is None else ("first PIN" if m.must_change_pin else "set")
        writer.writerow(
            [
                m.id,
                m.phone_last4,
                m.display_name,
                len(m.card_hashes),
                m.max_loans,
                pin,
                "yes" if m.active else "no",
            ]
        )
    return out.getvalue()


def read_key(path: str) -> str:
    """The fleet key from a file only readable by the office (never a command-line argument)."""
    try:
        key = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ImportError_(f"{path}: cannot read the fleet key file ({exc.strerror})") from None
    if len(key) < 32:
        raise ImportError_(f"{path}: the fleet key must be at least 32 characters")
    return key
