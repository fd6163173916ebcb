"""Short sessions: staff at the maintenance screen, a member through one flow at the kiosk.

Sessions live in the daemon's memory only: a restart logs everybody out, which is what a
shared touchscreen wants. Tokens are 256-bit random strings; only their SHA-256 is kept, so a
memory dump does not hand out live tokens. Idle time is measured on the monotonic clock, so a
wall-clock jump (NTP after boot) neither ends nor prolongs a session.

A session also has an absolute lifetime (`max_age_s`, however busy it is), and the service
that owns it may say on every use whether its person is still allowed (`still_allowed`: a
staff account deactivated by a bundle or locally, a suspended member): a session whose person
was switched off ends at its next use, whichever way the switch came.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from station.clock import Clock


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


@dataclass
class Session:
    subject: str
    """Who: a staff number or a member id (phone hash)."""
    label: str
    """How the usage log names them."""
    created: float
    last_used: float
    data: dict[str, Any] = field(default_factory=dict)


class SessionStore:
    def __init__(
        self,
        clock: Clock,
        idle_s: float,
        max_age_s: float = float("inf"),
        still_allowed: Callable[[Session], bool] | None = None,
    ) -> None:
        self._clock = clock
        self.idle_s = idle_s
        self.max_age_s = max_age_s
        self._still_allowed = still_allowed
        self._sessions: dict[str, Session] = {}

    def _over(self, session: Session, now: float) -> bool:
        return now - session.last_used >= self.idle_s or now - session.created >= self.max_age_s

    def create(self, subject: str, label: str, **data: Any) -> tuple[str, Session]:
        token = secrets.token_urlsafe(32)
        now = self._clock.monotonic()
        session = Session(subject=subject, label=label, created=now, last_used=now, data=data)
        self._sessions[_digest(token)] = session
        return token, session

    def get(self, token: str, touch: bool = True) -> Session | None:
        """The live session for `token`; using it counts as activity."""
        key = _digest(token)
        session = self._sessions.get(key)
        if session is None:
            return None
        now = self._clock.monotonic()
        if self._over(session, now):
            return None
        if self._still_allowed is not None and not self._still_allowed(session):
            del self._sessions[key]
            return None
        if touch:
            session.last_used = now
        return session

    def end(self, token: str) -> Session | None:
        return self._sessions.pop(_digest(token), None)

    def end_subject(self, subject: str) -> int:
        """End every session of one person (a suspended member, a deactivated staff account)."""
        keys = [k for k, s in self._sessions.items() if s.subject == subject]
        for k in keys:
            del self._sessions[k]
        return len(keys)

    def expire(self) -> list[Session]:
        """Drop idle sessions and return them, for the log."""
        now = self._clock.monotonic()
        gone = [k for k, s in self._sessions.items() if self._over(s, now)]
        return [self._sessions.pop(k) for k in gone]

    def __len__(self) -> int:
        return len(self._sessions)
