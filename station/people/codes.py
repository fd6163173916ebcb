"""One-time 6-digit pickup codes: hashed at rest, expiring, 5 tries, single use.

A code belongs to one locker (a deposit or an approved lost-item claim) and the person enters
the locker and the code. Knowing the locker, the station checks one code, not all of them, so
5 wrong tries burn that code (staff then help in person) and guessing has a 5 in a million
chance. Codes are argon2id hashes like PINs (compared in constant time by libargon2), so a copy
of the database does not reveal a code before it expires. A code is used up only when its door
is seen to open: a jammed door does not eat it.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import weakref
from dataclasses import dataclass
from typing import Any

from station.people.pins import PinHasher
from station.people.throttle import GuessThrottle
from station.refusals import Refusal
from station.store import Schema, Store, Tx
from station.store.sweeps import mark_each

CODES_SCHEMA = Schema(
    "codes",
    [
        """
        CREATE TABLE codes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            purpose TEXT NOT NULL,          -- 'deposit' or 'claim'
            ref INTEGER NOT NULL,           -- the deposit or claim it opens
            locker TEXT NOT NULL,
            code_hash TEXT NOT NULL,        -- argon2id
            issued_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            tries_left INTEGER NOT NULL,
            status TEXT NOT NULL DEFAULT 'active'
                CHECK (status IN ('active', 'used', 'expired', 'exhausted', 'revoked')),
            used_at REAL
        );
        CREATE UNIQUE INDEX codes_active_locker ON codes(locker) WHERE status = 'active';
        CREATE INDEX codes_locker ON codes(locker, id);
        """,
    ],
)

MAX_TRIES = 5
_RECENT = 3
"""Besides the active one, this many recent codes of a locker are checked, so that someone
entering an old code is told it was used or expired rather than just 'wrong'."""


@dataclass(frozen=True, slots=True)
class CodeMatch:
    id: int
    purpose: str
    ref: int
    locker: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class NewCode:
    plain: str
    """Shown once to the person it is for; never stored, logged or streamed."""
    hash: str


def new_code_plain() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


class CodeBook:
    def __init__(
        self, store: Store, hasher: PinHasher, throttle: GuessThrottle | None = None
    ) -> None:
        self._store = store
        self._hasher = hasher
        self._throttle = throttle
        self._checking: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    async def prepare(self) -> NewCode:
        """Draw and hash a code before the transaction that issues it (hashing takes time)."""
        plain = new_code_plain()
        return NewCode(plain=plain, hash=await self._hasher.hash(plain))

    def issue(
        self, tx: Tx, code: NewCode, *, purpose: str, ref: int, locker: str, valid_s: float
    ) -> tuple[int, float]:
        """Store a prepared code for a locker; any earlier active code there is revoked."""
        now = tx.now()
        tx.conn.execute(
            "UPDATE codes SET status = 'revoked' WHERE locker = ? AND status = 'active'", (locker,)
        )
        expires = now + valid_s
        cur = tx.conn.execute(
            "INSERT INTO codes (purpose, ref, locker, code_hash, issued_at, expires_at, tries_left)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (purpose, ref, locker, code.hash, now, expires, MAX_TRIES),
        )
        return int(cur.lastrowid or 0), expires

    def use(self, tx: Tx, code_id: int) -> None:
        tx.conn.execute(
            "UPDATE codes SET status = 'used', used_at = ? WHERE id = ?", (tx.now(), code_id)
        )

    def revoke(self, tx: Tx, purpose: str, ref: int) -> None:
        tx.conn.execute(
            "UPDATE codes SET status = 'revoked'"
            " WHERE purpose = ? AND ref = ? AND status = 'active'",
            (purpose, ref),
        )

    async def lockers_waiting(self) -> list[str]:
        rows = await self._store.aquery(
            "SELECT locker FROM codes WHERE status = 'active' ORDER BY locker"
        )
        return [r["locker"] for r in rows]

    async def check(self, locker: str, plain: str, actor: str) -> CodeMatch:
        """The active code of `locker` if `plain` matches it; otherwise a refusal saying why.

        A wrong code costs one of the active code's tries (logged); the last one burns it.
        Checks of one locker run one at a time, so concurrent guesses cannot all be checked
        against a code their predecessors already burned; checks of all lockers share the
        station-wide budget of wrong codes (throttle.py).
        """
        lock = self._checking.setdefault(locker, asyncio.Lock())
        station_wide = self._throttle.guard() if self._throttle else contextlib.nullcontext()
        async with station_wide, lock:
            return await self._check(locker, plain, actor)

    async def _check(self, locker: str, plain: str, actor: str) -> CodeMatch:
        rows = await self._store.aquery(
            "SELECT * FROM codes WHERE locker = ? ORDER BY (status = 'active') DESC, id DESC"
            " LIMIT ?",
            (locker, 1 + _RECENT),
        )
        active = rows[0] if rows and rows[0]["status"] == "active" else None
        if not rows:
            raise _no_pickup(locker)
        hit = await self._hasher.verify_any([r["code_hash"] for r in rows], plain)
        now = self._store.clock.wall()
        if hit is not None:
            row = rows[hit]
            if row["status"] == "active" and row["expires_at"] > now:
                return CodeMatch(
                    id=row["id"],
                    purpose=row["purpose"],
                    ref=row["ref"],
                    locker=locker,
                    expires_at=row["expires_at"],
                )
            await self._store.write(lambda tx: _log_refused(tx, row, actor, now))
            raise _gone(row, now)
        if active is None:
            raise _no_pickup(locker)
        tries_left = await self._store.write(lambda tx: _spend_try(tx, active, actor))
        raise Refusal(
            "denied",
            "wrong_code",
            (
                f"wrong code: {tries_left} tries left"
                if tries_left
                else "wrong code, and that was the last try: please ask staff"
            ),
            tries_left=tries_left,
        )

    def expire(self, tx: Tx) -> list[dict[str, Any]]:
        """Mark codes past their time as expired (logged); the services list what they held."""
        due = ("SELECT * FROM codes WHERE status = 'active' AND expires_at <= ?", (tx.now(),))
        rows = mark_each(
            tx,
            due,
            "UPDATE codes SET status = 'expired' WHERE id = ?",
            "code_expired",
            _code_facts,
        )
        return [dict(r) for r in rows]


def _code_facts(row: Any) -> dict[str, Any]:
    """What the log says of a code that ended: which one, for what (never the code)."""
    return {"code_id": row["id"], "purpose": row["purpose"], "ref": row["ref"]}


def _no_pickup(locker: str) -> Refusal:
    return Refusal("not_found", "no_pickup", f"nothing is waiting for pickup in locker {locker}")


def _gone(row: Any, now: float) -> Refusal:
    status = row["status"]
    if status == "used":
        return Refusal("gone", "code_used", "this code was already used; it opens no door now")
    if status == "exhausted":
        return Refusal(
            "gone", "code_exhausted", "this code was blocked after 5 wrong tries; please ask staff"
        )
    if status == "revoked":
        return Refusal("gone", "code_used", "this code was replaced and no longer works")
    return Refusal("gone", "code_expired", "this code has expired; please ask staff for help")


def _log_refused(tx: Tx, row: Any, actor: str, now: float) -> None:
    reason = row["status"] if row["status"] != "active" else "expired"
    tx.append(
        "code_refused",
        actor=actor,
        locker=row["locker"],
        payload={"code_id": row["id"], "purpose": row["purpose"], "reason": reason},
    )


def _spend_try(tx: Tx, active: Any, actor: str) -> int:
    row = tx.conn.execute(
        "SELECT tries_left, status FROM codes WHERE id = ?", (active["id"],)
    ).fetchone()
    left = max(0, int(row["tries_left"]) - 1)
    status = "exhausted" if left == 0 else row["status"]
    tx.conn.execute(
        "UPDATE codes SET tries_left = ?, status = ? WHERE id = ?", (left, status, active["id"])
    )
    tx.append(
        "code_wrong",
        actor=actor,
        locker=active["locker"],
        payload={"code_id": active["id"], "purpose": active["purpose"], "tries_left": left},
    )
    if left == 0:
        tx.append(
            "code_exhausted",
            actor="system",
            locker=active["locker"],
            payload=_code_facts(active),
        )
    return left
