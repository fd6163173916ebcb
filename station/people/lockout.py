"""Throttling wrong PINs: 5 failures lock the subject for 5 minutes, doubling each time.

A subject is one member (by phone hash) or one staff number, whether or not it exists, so the
answers do not tell a guesser which numbers are registered. Each lockout is an event in the
usage log and a `pin_lockout` alarm for staff; the alarm clears when the lock runs out, when
the right PIN is entered afterwards, or when staff release the subject. A correct PIN resets
the failure count and the doubling.

Every function here runs inside the caller's transaction, so a failure and its lockout commit
together with nothing else; the caller raises its refusal only after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from station.alarms import AlarmService
from station.people.config import PeopleConfig
from station.refusals import Refusal
from station.store import Tx


@dataclass(frozen=True, slots=True)
class Failure:
    tries_left: int
    locked_until: float | None


def locked_refusal(locked_until: float, now: float) -> Refusal:
    wait = max(1, int(locked_until - now + 0.999))
    minutes = max(1, round(wait / 60))
    return Refusal(
        "locked",
        "locked",
        f"too many wrong PINs: try again in about {minutes} minute(s)",
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

    def locked_until(self, tx: Tx, subject: str) -> float | None:
        row = tx.conn.execute(
            "SELECT locked_until FROM pin_failures WHERE subject = ?", (subject,)
        ).fetchone()
        if row is None or row[0] is None or row[0] <= tx.now():
            return None
        return float(row[0])

    def fail(self, tx: Tx, subject: str, label: str, actor: str) -> Failure:
        """Count one wrong PIN; lock the subject when the count reaches the limit."""
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
        tx.conn.execute(
            "INSERT INTO pin_failures (subject, label, failures, lockouts, locked_until,"
            " last_failure_at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(subject) DO UPDATE SET label = excluded.label,"
            " failures = excluded.failures, lockouts = excluded.lockouts,"
            " locked_until = COALESCE(excluded.locked_until, pin_failures.locked_until),"
            " last_failure_at = excluded.last_failure_at",
            (subject, label, failures, lockouts, locked_until, now),
        )
        tx.append(
            "pin_failed",
            actor=actor,
            payload={"subject": label, "tries_left": 0 if locked_until else limit - failures},
        )
        if locked_until is not None:
            tx.append(
                "pin_lockout",
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
                "pin_lockout",
                label,
                f"{label}: {limit} wrong PINs; locked for {round((locked_until - now) / 60)} min "
                f"(lockout {lockouts})",
            )
            return Failure(tries_left=0, locked_until=locked_until)
        return Failure(tries_left=limit - failures, locked_until=None)

    def succeed(self, tx: Tx, subject: str, label: str) -> None:
        """The right PIN: forget the failures and the doubling, end any lockout alarm."""
        tx.conn.execute("DELETE FROM pin_failures WHERE subject = ?", (subject,))
        self._alarms.clear_alarm(tx, "pin_lockout", label, "the right PIN was entered")

    def release(self, tx: Tx, subject: str, label: str, actor: str, reason: str) -> bool:
        """Staff end a lockout (after checking who is at the screen)."""
        row = tx.conn.execute("SELECT 1 FROM pin_failures WHERE subject = ?", (subject,)).fetchone()
        tx.conn.execute("DELETE FROM pin_failures WHERE subject = ?", (subject,))
        self._alarms.clear_alarm(tx, "pin_lockout", label, f"released by {actor}")
        if row is not None:
            tx.append(
                "pin_lockout_released", actor=actor, payload={"subject": label, "reason": reason}
            )
        return row is not None

    def sweep(self, tx: Tx) -> int:
        """Clear the alarms of lockouts that have run out; the doubling count is kept."""
        rows = tx.conn.execute(
            "SELECT subject, label FROM pin_failures WHERE locked_until IS NOT NULL"
            " AND locked_until <= ?",
            (tx.now(),),
        ).fetchall()
        for subject, label in rows:
            tx.conn.execute(
                "UPDATE pin_failures SET locked_until = NULL WHERE subject = ?", (subject,)
            )
            self._alarms.clear_alarm(tx, "pin_lockout", label, "lockout ran out")
        return len(rows)
