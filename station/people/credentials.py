"""The one PIN check members and staff share: throttle, lockout, verify, rehash, audit.

Members (phone number + PIN) and staff (staff number + PIN) prove who they are the same way,
so the steps live here once and cannot drift apart: the station-wide guess throttle, one
attempt at a time per subject, the lockout check, a constant-time verify (against a dummy hash
when the subject is unknown, so timing does not tell who is registered), the failure count,
and on success the reset of the failure count plus an upgrade of a hash made with older argon2
parameters. What differs between the two (which table, which words, which event) is passed in.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from station.clock import Clock
from station.people.config import PeopleConfig
from station.people.lockout import Lockout, locked_refusal, wrong_pin_refusal
from station.people.pins import PinHasher
from station.people.sessions import Session, SessionStore
from station.people.throttle import GuessThrottle
from station.store import Store, Tx

T = TypeVar("T")

# Verified against when a subject is unknown, so both paths cost one argon2 verify.
_DUMMY_PIN = "730519"


@dataclass(frozen=True, slots=True)
class Holder(Generic[T]):
    """Someone a PIN may belong to: the stored hash, its row's key, the record to give back."""

    pin_hash: str
    key: str
    record: T


@dataclass(frozen=True, slots=True)
class PinTable:
    """Where a kind of account keeps its PIN hash (so a login can upgrade it in place), and
    what the wrong-PIN answer calls the pair a person typed."""

    table: str
    key: str
    what: str

    def rehash(self, tx: Tx, key: str, pin_hash: str) -> None:
        # table and key are constants of this package, never input
        tx.conn.execute(
            f"UPDATE {self.table} SET pin_hash = ? WHERE {self.key} = ?",
            (pin_hash, key),
        )


class PinCheck:
    """Checks a PIN for one subject; used by MemberService.identify and StaffService.login."""

    def __init__(
        self,
        store: Store,
        hasher: PinHasher,
        lockout: Lockout,
        throttle: GuessThrottle | None = None,
    ) -> None:
        self._store = store
        self._hasher = hasher
        self._lockout = lockout
        self._throttle = throttle
        self._attempts: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._dummy_hash: str | None = None

    async def check(
        self,
        table: PinTable,
        subject: str,
        label: str,
        via: str,
        pin: str,
        load: Callable[[], Awaitable[Holder[T] | None]],
        succeeded: Callable[[Tx, T], None],
    ) -> T:
        """The holder's record if `pin` is right; otherwise a locked or wrong-PIN refusal.

        `label` names the subject in failures and alarms (never a full number); `load`
        returns the holder or None when the subject is unknown (answered like a wrong PIN);
        `succeeded` adds the caller's own event to the success transaction.
        """
        lock = self._attempts.setdefault(subject, asyncio.Lock())
        station_wide = self._throttle.guard() if self._throttle else contextlib.nullcontext()
        async with station_wide, lock:
            holder = await load()
            clock = self._store.clock
            now = clock.wall()
            locked = await self._store.read(lambda db: self._lockout.until(db.conn, clock, subject))
            if locked is not None:
                raise locked_refusal(locked, now)
            if holder is not None:
                ok = await self._hasher.verify(holder.pin_hash, pin)
            else:
                await self._hasher.verify(await self._dummy(), pin)
                ok = False
            if not ok:
                failure = await self._store.write(
                    lambda tx: self._lockout.fail(tx, subject, label, via)
                )
                if failure.locked_until is not None:
                    raise locked_refusal(failure.locked_until, now)
                raise wrong_pin_refusal(failure.tries_left, table.what)
            assert holder is not None
            record = holder.record
            rehash = (
                await self._hasher.hash(pin) if self._hasher.needs_rehash(holder.pin_hash) else None
            )

            def succeed(tx: Tx) -> None:
                self._lockout.succeed(tx, subject, label)
                if rehash:
                    table.rehash(tx, holder.key, rehash)
                succeeded(tx, record)

            await self._store.write(succeed)
        return record

    async def _dummy(self) -> str:
        """A hash to verify against for unknown subjects, so both paths take the same time."""
        if self._dummy_hash is None:
            self._dummy_hash = await self._hasher.hash(_DUMMY_PIN)
        return self._dummy_hash


class PinAccounts(ABC):
    """What member and staff accounts share: the store, the hasher, one PIN check, and the
    sessions a right PIN opens (each kind with its own idle time)."""

    def __init__(
        self,
        store: Store,
        cfg: PeopleConfig,
        hasher: PinHasher,
        lockout: Lockout,
        clock: Clock,
        throttle: GuessThrottle | None = None,
    ) -> None:
        self._store = store
        self._hasher = hasher
        self._lockout = lockout
        self._pins = PinCheck(store, hasher, lockout, throttle)
        self.sessions = SessionStore(
            clock, self._idle_s(cfg), self._max_age_s(cfg), still_allowed=self._still_active
        )
        self._configure(cfg)

    @abstractmethod
    def _idle_s(self, cfg: PeopleConfig) -> float:
        """How long this kind of session lasts without a request."""

    @abstractmethod
    def _max_age_s(self, cfg: PeopleConfig) -> float:
        """How long this kind of session lasts at most, however busy."""

    @abstractmethod
    def _still_active(self, session: Session) -> bool:
        """Checked on every use of a session: a person switched off (by a bundle from
        central, the CLI or staff) is logged out at once, whichever way the switch came."""

    def _configure(self, cfg: PeopleConfig) -> None:  # noqa: B027 (optional hook)
        """Whatever else this kind of account reads from the config."""

    def retime(self, cfg: PeopleConfig) -> None:
        """A new idle time from the office (apply_settings), for open sessions too."""
        self.sessions.idle_s = self._idle_s(cfg)

    def session(self, token: str) -> Session | None:
        """The live session for a token (each use keeps it alive)."""
        return self.sessions.get(token)
