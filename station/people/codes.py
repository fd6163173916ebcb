"""One-time 8-digit pickup codes: hashed at rest, expiring, single use, unique while waiting.

A code belongs to one locker (a deposit or an approved lost-item claim), and the code alone
finds it: no two waiting codes are alike (checked when a code is drawn), so a person types the
code and nothing else. A wrong code therefore matches nobody's deposit and costs nobody's code:
it counts against the kiosk that typed it (5 in a row pause that screen's code checks, as a
PIN lockout does, `codes@<kiosk>` in lockout.py) and against the station-wide budget of wrong
codes (throttle.py); both raise an alarm for staff. Each guess is checked against every waiting
code, so the code has 8 digits: with 16 waiting codes and the budget's 120 wrong codes a day,
an attacker's chance is 120 x 16 / 10^8 = 2e-5 a day (docs/security.md). Codes are argon2id
hashes like PINs (compared in constant time by libargon2), so a copy of the database does not
reveal a code before it expires. A code is used up only when its door is seen to open: a
jammed door does not eat it. Staff can replace a waiting code (`reissue`): the station keeps
no code in the clear, so the one way to show a code again is a new one, and the old one stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from station.people.lockout import CODE_SUBJECT, CODES, Lockout, locked_refusal
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
        # A code alone finds its locker, so a wrong one is nobody's try: no tries per code.
        "ALTER TABLE codes DROP COLUMN tries_left;",
    ],
)

CODE_DIGITS = 8
_RECENT = 3
"""Besides the waiting ones, this many codes that ended most recently are checked, so that
someone typing a code again is told it was used or expired rather than just "wrong"."""
_DRAWS = 20
"""Draws before giving up on a code unlike every waiting one (each clashes with a chance of
waiting codes / 10^8: twenty in a row never happen)."""


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
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def kiosk_subject(actor: str) -> str:
    """The lockout subject counting one kiosk's wrong codes."""
    return f"{CODE_SUBJECT}{actor}"


class CodeBook:
    def __init__(
        self,
        store: Store,
        hasher: PinHasher,
        lockout: Lockout,
        throttle: GuessThrottle | None = None,
    ) -> None:
        self._store = store
        self._hasher = hasher
        self._throttle = throttle
        self._lockout = lockout
        self._checking = asyncio.Lock()
        self._issuing = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def drawing(self) -> AsyncIterator[NewCode]:
        """A new code unlike every waiting one, hashed; issue it (`issue`) inside the block.

        Draws run one at a time until the block ends, so two codes drawn at once cannot be
        alike either (hashing takes time, so it happens before the issuing transaction).
        """
        async with self._issuing:
            rows = await self._store.aquery("SELECT code_hash FROM codes WHERE status = 'active'")
            waiting = [r["code_hash"] for r in rows]
            for _ in range(_DRAWS):
                plain = new_code_plain()
                if await self._hasher.verify_any(waiting, plain) is None:
                    break
            else:
                raise RuntimeError("no code unlike the waiting ones after 20 draws")
            yield NewCode(plain=plain, hash=await self._hasher.hash(plain))

    def issue(
        self, tx: Tx, code: NewCode, *, purpose: str, ref: int, locker: str, valid_s: float
    ) -> tuple[int, float]:
        """Store a drawn code for a locker; any earlier active code there is revoked."""
        now = tx.now()
        tx.conn.execute(
            "UPDATE codes SET status = 'revoked' WHERE locker = ? AND status = 'active'", (locker,)
        )
        expires = now + valid_s
        cur = tx.conn.execute(
            "INSERT INTO codes (purpose, ref, locker, code_hash, issued_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (purpose, ref, locker, code.hash, now, expires),
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

    def latest(self, tx: Tx, locker: str) -> Any:
        """The newest code of `locker` that was not used (what a reissue replaces), or None."""
        return tx.conn.execute(
            "SELECT * FROM codes WHERE locker = ? AND status != 'used' ORDER BY id DESC LIMIT 1",
            (locker,),
        ).fetchone()

    async def check(self, plain: str, actor: str, locker: str | None = None) -> CodeMatch:
        """The waiting code `plain` is (in `locker`, if given); otherwise a refusal saying why.

        A wrong code costs the kiosk one of its tries (logged as `code_wrong`, which the
        station-wide budget counts too); no deposit's code loses anything. Checks run one at a
        time, so a burst of guesses is counted one by one.
        """
        station_wide = self._throttle.guard() if self._throttle else contextlib.nullcontext()
        async with station_wide, self._checking:
            return await self._check(plain, actor, locker)

    async def _check(self, plain: str, actor: str, locker: str | None) -> CodeMatch:
        subject = kiosk_subject(actor)
        lockout = self._lockout
        until = await self._store.write(lambda tx: lockout.locked_until(tx, subject))
        if until is not None:
            raise locked_refusal(until, self._store.clock.wall(), CODES)
        where, params = ("AND locker = ?", [locker]) if locker else ("", [])
        waiting = await self._store.aquery(
            f"SELECT * FROM codes WHERE status = 'active' {where} ORDER BY id", params
        )
        ended = await self._store.aquery(
            f"SELECT * FROM codes WHERE status != 'active' {where} ORDER BY id DESC LIMIT ?",
            [*params, _RECENT],
        )
        if locker and not waiting and not ended:
            raise _no_pickup(locker)
        rows = [*waiting, *ended]
        hit = await self._hasher.verify_any([r["code_hash"] for r in rows], plain)
        now = self._store.clock.wall()
        if hit is not None:
            row = rows[hit]
            if row["status"] == "active" and row["expires_at"] > now:
                await self._store.write(lambda tx: lockout.succeed(tx, subject, subject))
                return CodeMatch(
                    id=row["id"],
                    purpose=row["purpose"],
                    ref=row["ref"],
                    locker=row["locker"],
                    expires_at=row["expires_at"],
                )
            await self._store.write(lambda tx: _log_refused(tx, row, actor, now))
            raise _gone(row, now)
        if locker and not waiting:
            raise _no_pickup(locker)
        return await self._wrong(subject, actor, now)

    async def _wrong(self, subject: str, actor: str, now: float) -> CodeMatch:
        """Count a wrong code against the kiosk (and so the station) and refuse it."""
        lockout = self._lockout
        failure = await self._store.write(lambda tx: lockout.fail(tx, subject, subject, actor))
        if failure.locked_until is not None:
            raise locked_refusal(failure.locked_until, now, CODES)
        raise Refusal(
            "denied",
            "wrong_code",
            f"wrong code: {failure.tries_left} tries left",
            tries_left=failure.tries_left,
        )

    def release_kiosks(self, tx: Tx, actor: str, reason: str) -> None:
        """Staff end every kiosk's pause of code checks (with the station-wide one)."""
        rows = tx.conn.execute(
            "SELECT subject FROM pin_failures WHERE subject LIKE ?", (CODE_SUBJECT + "%",)
        ).fetchall()
        for (subject,) in rows:
            self._lockout.release(tx, subject, subject, actor, reason)

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
    if status == "exhausted":  # codes of releases that still burned a code after 5 wrong tries
        return Refusal("gone", "code_exhausted", "this code was blocked; please ask staff")
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
