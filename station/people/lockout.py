"""Throttling wrong guesses: 5 failures lock the subject for 5 minutes, doubling each time.

A subject is one member (by phone hash) or one staff number, whether or not it exists, so the
answers do not tell a guesser which numbers are registered; or one kiosk's pickup codes
(`codes@<kiosk>`: a code alone finds its locker, so a wrong one is counted against the screen
that typed it, never against a stranger's deposit). Each lockout is an event in the usage log
and an alarm for staff; the alarm clears when the lock runs out, when the right PIN or code is
entered afterwards, or when staff release the subject. A correct guess resets the failure
count and the doubling.

Every function here runs inside the caller's transaction, so a failure and its lockout commit
together with nothing else; the caller raises its refusal only after the commit.

A lockout lasts its length on the monotonic clock, never by the wall clock (which a Pi without
a real-time clock, NTP or a wrong date can move by hours either way): `locked_until` is kept
for the answers and the log, but whether a subject is still locked is `lock_s` minus the time
passed since (`locked_boot`, `locked_mono`), by the rule of station/store/elapsed.py.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from station.alarms import AlarmService
from station.clock import Clock
from station.people.config import PeopleConfig
from station.refusals import Refusal
from station.store import Tx
from station.store.elapsed import seconds_since


@dataclass(frozen=True, slots=True)
class Guesses:
    """What a lockout counts: the events it writes, its alarm, and how it names the guesses."""

    failed: str
    """The event of one wrong guess (the station-wide budgets count these too)."""
    locked: str
    released: str
    alarm: str
    what: str


PINS = Guesses("pin_failed", "pin_lockout", "pin_lockout_released", "pin_lockout", "wrong PINs")
CODES = Guesses(
    "code_wrong", "code_lockout", "code_lockout_released", "guessing", "wrong pickup codes"
)
CODE_SUBJECT = "codes@"
"""Subjects of pickup-code lockouts start so: `codes@<the kiosk's actor>`."""


def guesses_of(subject: str) -> Guesses:
    return CODES if subject.startswith(CODE_SUBJECT) else PINS


@dataclass(frozen=True, slots=True)
class Failure:
    tries_left: int
    locked_until: float | None


def locked_refusal(locked_until: float, now: float, guesses: Guesses = PINS) -> Refusal:
    wait = max(1, int(locked_until - now + 0.999))
    minutes = max(1, round(wait / 60))
    code = "codes_locked" if guesses is CODES else "locked"
    return Refusal(
        "locked",
        code,
        f"too many {guesses.what}: try again in about {minutes} minute(s)",
        locked_until=locked_until,
        retry_after_s=wait,
    )


def wrong_pin_refusal(tries_left: int, what: str = "phone number or PIN") -> Refusal:
    return Refusal(
        "denied",
        "wrong_pin",
        f"{what} is wrong: {tries_left} tries left before a lockout",
        tries_left=tries_left,
    )


class Lockout:
    def __init__(self, cfg: PeopleConfig, alarms: AlarmService) -> None:
        self._cfg = cfg
        self._alarms = alarms

    def reconfigure(self, cfg: PeopleConfig) -> None:
        """New limits from the office (apply_settings), counted from the next wrong PIN; a
        lockout already running keeps the length it was given."""
        self._cfg = cfg

    def locked_until(self, tx: Tx, subject: str) -> float | None:
        return self.until(tx.conn, tx.clock, subject)

    def until(self, conn: sqlite3.Connection, clock: Clock, subject: str) -> float | None:
        """The wall time the subject's lockout ends at, or None when it is not locked."""
        left = self._left(conn, clock, subject)
        return None if left is None else clock.wall() + left

    def _left(self, conn: sqlite3.Connection, clock: Clock, subject: str) -> float | None:
        row = conn.execute(
            "SELECT locked_until, locked_boot, locked_mono, lock_s FROM pin_failures"
            " WHERE subject = ?",
            (subject,),
        ).fetchone()
        if row is None or row[0] is None:
            return None
        locked_until, boot, mono, length = row
        if boot is None or mono is None or length is None:
            # Set before lockouts were measured monotonically: by the wall, never longer
            # than the longest lockout.
            left = min(float(locked_until) - clock.wall(), self._cfg.lockout_max_s)
        else:
            left = float(length) - seconds_since(conn, clock, boot, float(mono))
        return left if left > 0 else None

    def fail(self, tx: Tx, subject: str, label: str, actor: str) -> Failure:
        """Count one wrong guess; lock the subject when the count reaches the limit."""
        guesses = guesses_of(subject)
        now = tx.now()
        row = tx.conn.execute(
            "SELECT failures, lockouts FROM pin_failures WHERE subject = ?", (subject,)
        ).fetchone()
        failures = (row[0] if row else 0) + 1
        lockouts = row[1] if row else 0
        limit = self._cfg.pin_max_failures
        locked_until: float | None = None
        if failures >= limit:
            lockouts += 1
            length = min(self._cfg.lockout_s * 2 ** (lockouts - 1), self._cfg.lockout_max_s)
            locked_until = now + length
            failures = 0
        length = None if locked_until is None else locked_until - now
        boot = None if locked_until is None else tx.clock.boot_id
        mono = None if locked_until is None else tx.clock.monotonic()
        tx.conn.execute(
            "INSERT INTO pin_failures (subject, label, failures, lockouts, locked_until,"
            " last_failure_at, locked_boot, locked_mono, lock_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(subject) DO UPDATE SET label = excluded.label,"
            " failures = excluded.failures, lockouts = excluded.lockouts,"
            " locked_until = COALESCE(excluded.locked_until, pin_failures.locked_until),"
            " locked_boot = COALESCE(excluded.locked_boot, pin_failures.locked_boot),"
            " locked_mono = COALESCE(excluded.locked_mono, pin_failures.locked_mono),"
            " lock_s = COALESCE(excluded.lock_s, pin_failures.lock_s),"
            " last_failure_at = excluded.last_failure_at",
            (subject, label, failures, lockouts, locked_until, now, boot, mono, length),
        )
        tx.append(
            guesses.failed,
            actor=actor,
            payload={"subject": label, "tries_left": 0 if locked_until else limit - failures},
        )
        if locked_until is not None:
            tx.append(
                guesses.locked,
                actor="system",
                payload={
                    "subject": label,
                    "lockout": lockouts,
                    "seconds": round(locked_until - now),
                    "locked_until": locked_until,
                },
            )
            self._alarms.raise_alarm(
                tx,
                guesses.alarm,
                label,
                f"{label}: {limit} {guesses.what}; locked for "
                f"{round((locked_until - now) / 60)} min (lockout {lockouts})",
            )
            return Failure(tries_left=0, locked_until=locked_until)
        return Failure(tries_left=limit - failures, locked_until=None)

    def succeed(self, tx: Tx, subject: str, label: str) -> None:
        """The right PIN or code: forget the failures and the doubling, end any lockout alarm."""
        tx.conn.execute("DELETE FROM pin_failures WHERE subject = ?", (subject,))
        guesses = guesses_of(subject)
        self._alarms.clear_alarm(tx, guesses.alarm, label, "the right one was entered")

    def release(self, tx: Tx, subject: str, label: str, actor: str, reason: str) -> bool:
        """Staff end a lockout (after checking who is at the screen)."""
        row = tx.conn.execute("SELECT 1 FROM pin_failures WHERE subject = ?", (subject,)).fetchone()
        tx.conn.execute("DELETE FROM pin_failures WHERE subject = ?", (subject,))
        guesses = guesses_of(subject)
        self._alarms.clear_alarm(tx, guesses.alarm, label, f"released by {actor}")
        if row is not None:
            tx.append(guesses.released, actor=actor, payload={"subject": label, "reason": reason})
        return row is not None

    def sweep(self, tx: Tx) -> int:
        """Clear the alarms of lockouts that have run out; the doubling count is kept."""
        rows = tx.conn.execute(
            "SELECT subject, label FROM pin_failures WHERE locked_until IS NOT NULL"
        ).fetchall()
        ended = [(s, label) for s, label in rows if self._left(tx.conn, tx.clock, s) is None]
        for subject, label in ended:
            tx.conn.execute(
                "UPDATE pin_failures SET locked_until = NULL, locked_boot = NULL,"
                " locked_mono = NULL, lock_s = NULL WHERE subject = ?",
                (subject,),
            )
            self._alarms.clear_alarm(tx, guesses_of(subject).alarm, label, "lockout ran out")
        return len(ended)
