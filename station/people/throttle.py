"""Station-wide throttles on guessing: wrong member PINs, staff PINs and pickup codes.

The per-subject lockout (lockout.py) stops anyone guessing one member's PIN, but not one common
PIN tried against many phone numbers (each number has its own 5 tries), nor one staff PIN
tried against many staff numbers. Pickup codes burn after 5 wrong tries, but an attacker
cycling through every locker would still burn every waiting code in a minute. So each kind of
guess also has a station-wide budget: at most `limit` wrong guesses of that kind, whoever they
were aimed at, in any rolling `guess_window_s`. When the budget is spent the station refuses
to check any more guesses of that kind (429 `guessing_throttled`, the same answer whether the
guess would have been right) until the oldest wrong guess leaves the window, and raises a
`guessing` alarm for staff.

The wrong guesses are counted from the usage log itself (the `pin_failed` and `code_wrong`
events the checks already write), so a restart does not reset the budget and nothing else has
to be stored. Staff end a throttle early with a `guess_throttle_released` event (POST
/api/v1/throttles/{kind}/release); only wrong guesses after the latest release count.

The window is measured on the monotonic clock with the boot id each event records, never by
the wall clock (station/store/elapsed.py): moving the clock +6 h gives no budget back, and a
wrong guess from before a reboot counts for at least a full window after it.

Checks of one kind run one at a time (`guard`), so a burst of concurrent requests cannot all
read "budget left" before any of them has been counted. One kiosk serves one person at a time,
so nobody waits for this in practice.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from station.alarms import AlarmService
from station.refusals import Refusal
from station.store import Store, Tx
from station.store.elapsed import seconds_since

RELEASED = "guess_throttle_released"
THROTTLED = "guess_throttled"


@dataclass(frozen=True, slots=True)
class GuessKind:
    name: str
    """Stable id: `member_pin`, `staff_pin` or `code`."""
    event: str
    """The usage-log event that records one wrong guess of this kind."""
    subject_prefix: str | None
    """Only events whose payload subject starts with this (members and staff share pin_failed)."""
    what: str
    """How the refusal and the alarm name the guesses, for a person."""


MEMBER_PIN = GuessKind("member_pin", "pin_failed", "member:", "wrong member PINs")
STAFF_PIN = GuessKind("staff_pin", "pin_failed", "staff:", "wrong staff PINs")
CODE = GuessKind("code", "code_wrong", None, "wrong pickup codes")
CLAIM = GuessKind("claim", "claim_submitted", None, "lost-and-found claims")
"""Every claim counts, not only wrong ones: a claim names a phone number, and nobody at the
kiosk can tell a true one from a guess."""
KINDS = {k.name: k for k in (MEMBER_PIN, STAFF_PIN, CODE, CLAIM)}


class GuessThrottle:
    """The station-wide budget of wrong guesses of one kind."""

    def __init__(
        self, store: Store, alarms: AlarmService, kind: GuessKind, limit: int, window_s: float
    ) -> None:
        self._store = store
        self._alarms = alarms
        self.kind = kind
        self.limit = limit
        self.window_s = window_s
        self._lock = asyncio.Lock()
        self._alarmed: int | None = None
        """The seq of the wrong guess that spent the budget when the alarm was raised."""

    @asynccontextmanager
    async def guard(self) -> AsyncIterator[None]:
        """Run one check of this kind alone, refused while the budget is spent."""
        async with self._lock:
            blocked = await self._store.read(lambda db: self._blocked(db.conn))
            if blocked is not None:
                await self._alarm(*blocked)
                raise self._refusal(blocked[0])
            yield

    async def blocked_until(self) -> float | None:
        """When the next guess may be checked, or None if it may be checked now."""
        blocked = await self._store.read(lambda db: self._blocked(db.conn))
        return None if blocked is None else blocked[0]

    def blocked_until_tx(self, tx: Tx) -> float | None:
        blocked = self._blocked(tx.conn)
        return None if blocked is None else blocked[0]

    def _blocked(self, conn: sqlite3.Connection) -> tuple[float, int] | None:
        """(wall time the budget is back, seq of the guess holding it) or None: not spent.

        The budget is spent while `limit` wrong guesses are younger than the window; it is back
        when the youngest `limit`-th of them leaves it.
        """
        clock = self._store.clock
        since = self._released_seq(conn)
        now_mono = clock.monotonic()
        sql = "SELECT seq, boot_id, mono FROM events WHERE type = ? AND seq > ?"
        params: list[object] = [self.kind.event, since]
        if self.kind.subject_prefix is not None:
            sql += " AND json_extract(payload, '$.subject') LIKE ?"
            params.append(self.kind.subject_prefix + "%")
        this_boot = (
            sql + " AND boot_id = ? AND mono > ? ORDER BY mono DESC LIMIT ?",
            [*params, clock.boot_id, now_mono - self.window_s, self.limit],
        )
        guesses = conn.execute(*this_boot).fetchall()
        if now_mono < self.window_s:
            # Guesses from before this boot may still be inside the window (elapsed.py).
            earlier = (
                sql + " AND boot_id != ? ORDER BY seq DESC LIMIT ?",
                [*params, clock.boot_id, self.limit],
            )
            guesses += conn.execute(*earlier).fetchall()
        left = sorted(
            (
                (self.window_s - seconds_since(conn, clock, boot, float(mono)), int(seq))
                for seq, boot, mono in guesses
            ),
            reverse=True,
        )
        left = [(s, seq) for s, seq in left if s > 0]
        if len(left) < self.limit:
            return None
        seconds, seq = left[self.limit - 1]
        return clock.wall() + seconds, seq

    def _released_seq(self, conn: sqlite3.Connection) -> int:
        row = conn.execute(
            "SELECT MAX(seq) FROM events WHERE type = ? AND json_extract(payload, '$.kind') = ?",
            (RELEASED, self.kind.name),
        ).fetchone()
        return int(row[0] or 0)

    async def _alarm(self, until: float, seq: int) -> None:
        """Log the throttle and raise the staff alarm once per spell, not once per refusal."""
        if self._alarmed == seq:
            return
        self._alarmed = seq

        def write(tx: Tx) -> None:
            tx.append(
                THROTTLED,
                actor="system",
                payload={"kind": self.kind.name, "limit": self.limit, "until": until},
            )
            self._alarms.raise_alarm(
                tx,
                "guessing",
                self.kind.name,
                f"{self.limit} {self.kind.what} at this station within "
                f"{round(self.window_s / 60)} min: checks paused; someone may be guessing",
            )

        await self._store.write(write)

    def _refusal(self, until: float) -> Refusal:
        now = self._store.clock.wall()
        wait = max(1, int(until - now + 0.999))
        return Refusal(
            "locked",
            "guessing_throttled",
            f"too many {self.kind.what} at this station: try again in about "
            f"{max(1, round(wait / 60))} minute(s), or ask staff",
            locked_until=until,
            retry_after_s=wait,
        )

    def release(self, tx: Tx, actor: str, reason: str) -> bool:
        """Staff end the throttle; True if it was holding guesses back."""
        held = self.blocked_until_tx(tx) is not None
        tx.append(RELEASED, actor=actor, payload={"kind": self.kind.name, "reason": reason})
        self._alarms.clear_alarm(tx, "guessing", self.kind.name, f"released by {actor}")
        self._alarmed = None
        return held

    def sweep(self, tx: Tx) -> None:
        """Clear the alarm once the window lets guesses through again (also after a restart)."""
        if self.blocked_until_tx(tx) is None:
            self._alarms.clear_alarm(tx, "guessing", self.kind.name, "the window passed")
            self._alarmed = None


class GuessThrottles:
    """The three budgets, built from `[people]`, one per kind of guess."""

    def __init__(
        self,
        store: Store,
        alarms: AlarmService,
        *,
        member_pin: int,
        staff_pin: int,
        code: int,
        claim: int,
        window_s: float,
    ) -> None:
        limits = {MEMBER_PIN: member_pin, STAFF_PIN: staff_pin, CODE: code, CLAIM: claim}
        self.by_kind = {
            kind.name: GuessThrottle(store, alarms, kind, limit, window_s)
            for kind, limit in limits.items()
        }

    @property
    def member_pin(self) -> GuessThrottle:
        return self.by_kind[MEMBER_PIN.name]

    @property
    def staff_pin(self) -> GuessThrottle:
        return self.by_kind[STAFF_PIN.name]

    @property
    def code(self) -> GuessThrottle:
        return self.by_kind[CODE.name]

    @property
    def claim(self) -> GuessThrottle:
        return self.by_kind[CLAIM.name]

    def sweep(self, tx: Tx) -> None:
        for throttle in self.by_kind.values():
            throttle.sweep(tx)
