"""PINs and one-time codes at rest: argon2id hashes, verified off the event loop.

Parameters, tuned for a Raspberry Pi 4 at the kiosk: argon2id, time_cost 2, memory 19 MiB,
parallelism 1 (the OWASP baseline for argon2id). Measured on the development machine (AMD EPYC)
one verify takes about 20 ms (32 MiB: 52 ms, 64 MiB: 133 ms); a Pi 4 core is several times
slower, so about 0.1 to 0.2 s, which a person at the touchscreen does not notice, while two
verifies at once cost under 40 MiB of RAM. A 6-digit secret has only a million values, so the
hash is the second line of defence; the first is the lockout after 5 wrong tries and keeping
the database on the station.

Hashes record their own parameters, so raising them later only affects new hashes, and
`needs_rehash` lets a successful login upgrade an old one.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from station.refusals import invalid
from wire.identity import ARGON2_MEMORY_KIB, ARGON2_PARALLELISM, ARGON2_TIME_COST, weak_pin_reason

TIME_COST = ARGON2_TIME_COST
MEMORY_KIB = ARGON2_MEMORY_KIB
PARALLELISM = ARGON2_PARALLELISM


def check_new_pin(pin: str) -> None:
    """Refuse a PIN that is not 6 digits or is one of the first a thief would try."""
    reason = weak_pin_reason(pin)
    if reason is not None:
        raise invalid("pin", reason)


class PinHasher:
    """argon2id hashing with a cap on concurrent hashes, so a burst cannot exhaust RAM."""

    def __init__(
        self,
        time_cost: int = TIME_COST,
        memory_kib: int = MEMORY_KIB,
        parallelism: int = PARALLELISM,
        concurrent: int = 2,
    ) -> None:
        self._ph = PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_kib,
            parallelism=parallelism,
            type=Type.ID,
        )
        self._slots = asyncio.Semaphore(concurrent)

    def hash_sync(self, secret: str) -> str:
        return self._ph.hash(secret)

    def verify_sync(self, hashed: str, secret: str) -> bool:
        """Whether `secret` matches; libargon2 compares the digests in constant time."""
        try:
            return self._ph.verify(hashed, secret)
        except VerifyMismatchError:
            return False
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, hashed: str) -> bool:
        try:
            return self._ph.check_needs_rehash(hashed)
        except InvalidHashError:
            return True

    async def hash(self, secret: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self._ph.hash, secret)

    async def verify(self, hashed: str, secret: str) -> bool:
        async with self._slots:
            return await asyncio.to_thread(self.verify_sync, hashed, secret)

    async def verify_any(self, hashes: list[str], secret: str) -> int | None:
        """Index of the first hash `secret` matches, checking every one (no early exit)."""
        found: int | None = None
        for i, hashed in enumerate(hashes):
            if await self.verify(hashed, secret) and found is None:
                found = i
        return found
