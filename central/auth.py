"""Bearer tokens: random, shown once, stored only as a hash.

A token carries 256 random bits, so a plain SHA-256 is enough to make the stored hash useless
to a thief (no dictionary can reach it) while letting central find the holder with one index
lookup per request instead of trying a slow hash against every row.
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "gxyz_"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def bearer(header: str | None) -> str | None:
    """The token in an `Authorization: Bearer ...` header, or None if there is none."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()
