"""Phone numbers: validated, normalised, and turned at once into something safe to keep.

A full number is never stored, shown, logged or synced. What the station keeps is a keyed hash
(HMAC-SHA256 over the 11-digit national number, with a fleet-wide key from the config, so the
central office and every station compute the same value and a member registered anywhere is
recognised everywhere) plus the first 3 and last 4 digits for the usual masked display
`138****5678`. Without the key the hash cannot be reversed by trying all numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from station.refusals import invalid
from wire.identity import national_number, phone_hash

__all__ = ["PhoneId", "PhoneKey", "label", "mask", "mask_in_text", "normalise", "phone_hash"]


def normalise(raw: str) -> str:
    """The 11-digit national form of a mainland China mobile number, or a refusal.

    Accepts spaces, dashes and a +86 / 0086 / 86 country prefix, as people type them. The
    refusal never repeats the input (it may be someone's real number).
    """
    digits = national_number(raw)
    if digits is None:
        raise invalid(
            "phone",
            "not a mainland China mobile number: enter the 11 digits starting with 13 to 19",
        )
    return digits


def mask(prefix3: str, last4: str) -> str:
    return f"{prefix3}****{last4}"


def label(hash_hex: str, last4: str) -> str:
    """How a person is named in the usage log: a hash prefix and the last 4 digits."""
    return f"member:{hash_hex[:8]}/{last4}"


@dataclass(frozen=True, slots=True)
class PhoneId:
    """A phone number reduced to what the station may keep."""

    hash: str
    prefix3: str
    last4: str

    @property
    def masked(self) -> str:
        return mask(self.prefix3, self.last4)

    @property
    def label(self) -> str:
        return label(self.hash, self.last4)


class PhoneKey:
    """The fleet-wide key, held by the one object that turns numbers into PhoneIds."""

    def __init__(self, key: str) -> None:
        self._key = key

    def identify(self, raw: str) -> PhoneId:
        national = normalise(raw)
        return PhoneId(
            hash=phone_hash(self._key, national), prefix3=national[:3], last4=national[-4:]
        )

    def __repr__(self) -> str:
        return "PhoneKey(<secret>)"


_IN_TEXT = re.compile(
    r"(?<![0-9])(?:(?:\+|00)?86[\s\-]?)?(1[3-9][0-9])((?:[\s\-]?[0-9]){8})(?![0-9])"
)
"""A mainland mobile number inside free text, as people write it: with or without +86, with
spaces or dashes between the digits."""


def mask_in_text(text: str) -> str:
    """Free text (a reason, a hand-in's place) with every mobile number in it masked to
    `138****5678`: staff type "called 13812345678" into a reason, and free text is shown,
    streamed and synced."""

    def masked(m: re.Match[str]) -> str:
        rest = re.sub(r"[\s\-]", "", m.group(2))
        return mask(m.group(1), rest[-4:])

    return _IN_TEXT.sub(masked, text)
