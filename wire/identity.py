"""How a phone number or a card becomes the keyed hash both ends agree on.

Part of the station-central contract: the central office hashes the phone numbers and card
numbers it imports, a station hashes what a resident types or presents, and the two must give
the same value for a member registered anywhere to be recognised everywhere. Both hashes are
HMAC-SHA256 with the fleet-wide key (`people.phone_hash_key`); a card's input is prefixed with
`card:` so that a card whose number happens to be 11 digits never collides with a phone number.

Pure functions only: the callers decide how to refuse a bad value (the station with a refusal
for the screen, central with the row and column of the CSV).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import re

_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
_SEPARATORS = re.compile(r"[\s\-().]")
# What card readers and QR scanners send: printable ASCII without spaces, 4 to 128 characters.
_CARD = re.compile(r"^[\x21-\x7e]{4,128}$")

CARD_MIN = 4
CARD_MAX = 128


def national_number(raw: str) -> str | None:
    """The 11-digit national form of a mainland China mobile number, or None.

    Accepts spaces, dashes and a +86 / 0086 / 86 country prefix, as people type them.
    """
    digits = _SEPARATORS.sub("", raw or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits if _MOBILE.fullmatch(digits) else None


def phone_hash(key: str, national: str) -> str:
    """Keyed hash of a normalised number: hex HMAC-SHA256(key, 11 digits)."""
    return hmac.new(key.encode("utf-8"), national.encode("ascii"), hashlib.sha256).hexdigest()


def card_text(raw: str) -> str | None:
    """A read or typed card number / code as the hash takes it, or None if it cannot be one.

    Surrounding whitespace (a reader's trailing CR, a pasted space) is dropped; letters keep
    their case, since QR codes are case-sensitive; a leading zero is kept, since readers that
    print a card's number in decimal pad it to a fixed width.
    """
    text = (raw or "").strip()
    return text if _CARD.fullmatch(text) else None


def card_hash(key: str, text: str) -> str:
    """Keyed hash of a card number or code: hex HMAC-SHA256(key, 'card:' + text)."""
    return hmac.new(
        key.encode("utf-8"), b"card:" + text.encode("ascii"), hashlib.sha256
    ).hexdigest()


def card_label(hash_hex: str) -> str:
    """How a card is named in the usage log: a hash prefix, never its number."""
    return f"card:{hash_hex[:8]}"


# argon2id parameters of PIN hashes, the same at central (first PINs) and stations (the OWASP
# baseline; station/people/pins.py says why): a station re-hashes on login what differs.
ARGON2_TIME_COST = 2
ARGON2_MEMORY_KIB = 19 * 1024
ARGON2_PARALLELISM = 1

_SIX_DIGITS = re.compile(r"^[0-9]{6}$")


def weak_pin_reason(pin: str) -> str | None:
    """Why a new PIN is refused (not 6 digits, or one of the first a thief would try), or None."""
    if not _SIX_DIGITS.fullmatch(pin or ""):
        return "a PIN is exactly 6 digits"
    if len(set(pin)) == 1:
        return "a PIN of one repeated digit is too easy to guess; choose another"
    steps = {(int(b) - int(a)) % 10 for a, b in itertools.pairwise(pin)}
    if steps in ({1}, {9}):
        return "a PIN of consecutive digits is too easy to guess; choose another"
    if pin[:3] == pin[3:] or pin[:2] * 3 == pin:
        return "a PIN that repeats itself is too easy to guess; choose another"
    return None
