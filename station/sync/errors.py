"""What went wrong talking to central, in words a technician can act on.

Every failure becomes a SyncProblem with a kind (for telemetry and the sync screen), a message
(what happened) and advice (what to do). None of them stops the station: events stay in the
local log until central acknowledges them, so the only question is how soon to try again.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass

from station.store import StoreError, StoreFull


@dataclass(frozen=True, slots=True)
class SyncProblem:
    kind: str
    message: str
    advice: str
    slow: bool = False
    """A retry will not help soon (revoked token, conflicting log): wait near the back-off cap."""
    shrink: bool = False
    """Central found the batch too large: halve the batch before retrying."""

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "message": self.message, "advice": self.advice}

    def line(self) -> str:
        return f"{self.message}. {self.advice}"


class SyncProtocolError(Exception):
    """Central answered, but not with a sync answer (a captive portal, a proxy's error page)."""


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        out.append(cur)
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return out


def classify_exception(exc: BaseException) -> SyncProblem:
    """A SyncProblem for an exception raised while talking to central or to the store."""
    import httpx  # loaded already when one of its errors is here: sync imports it to talk

    chain = _chain(exc)
    if any(isinstance(e, ssl.SSLError | ssl.CertificateError) for e in chain) or (
        isinstance(exc, httpx.ConnectError) and "SSL" in str(exc)
    ):
        return SyncProblem(
            "tls",
            f"TLS handshake with central failed ({exc})",
            "Check the station's clock (certificates look invalid to a clock that is far off), "
            "that sync.url is the central server's https address, and sync.ca_file if central "
            "uses a private CA. Events are kept and sent once it works.",
        )
    if isinstance(exc, StoreFull):
        return SyncProblem(
            "disk",
            f"the station's disk is full ({exc})",
            "Free space on the data partition; sync resumes where it stopped and no event is "
            "lost (central holds everything it acknowledged).",
        )
    if isinstance(exc, StoreError):
        return SyncProblem(
            "store",
            f"the station's database refused a sync write ({exc})",
            "Check the data partition's health; sync retries and re-sends from its last saved "
            "position, which is harmless.",
        )
    if isinstance(exc, httpx.TimeoutException):
        return SyncProblem(
            "timeout",
            f"central did not answer in time ({type(exc).__name__})",
            "Usually a slow or congested 4G link; sync retries. If it persists, raise "
            "sync.timeout_s or lower sync.batch_max_bytes. A batch central stored before the "
            "timeout is recognised on retry, never stored twice.",
        )
    if isinstance(exc, httpx.TransportError):
        return SyncProblem(
            "network",
            f"cannot reach central ({type(exc).__name__}: {exc or 'connection failed'})",
            "Check the 4G router and that sync.url is right; events wait on the station and "
            "go out when the link is back.",
        )
    if isinstance(exc, SyncProtocolError):
        return SyncProblem(
            "garbage",
            f"central's answer is not a sync answer ({exc})",
            "Something between the station and central (a captive portal, a proxy) answered "
            "instead, or sync.url points at the wrong server. Sync retries with back-off.",
        )
    return SyncProblem(
        "internal",
        f"unexpected error in sync ({type(exc).__name__}: {exc})",
        "This is a bug; report it with the log. Sync retries with back-off and keeps events.",
    )


def classify_status(status: int, detail: str) -> SyncProblem:
    """A SyncProblem for an HTTP status central (or something pretending to be it) returned."""
    shown = detail[:300] if detail else "no detail"
    if status == 401:
        return SyncProblem(
            "auth",
            f"central refused the station's token (401: {shown})",
            "The token was revoked or mistyped. Ask the central office for a new one "
            "(station central rotate <station id>) and put it in sync.token; events are kept "
            "until then.",
            slow=True,
        )
    if status == 403:
        return SyncProblem(
            "forbidden",
            f"central says this token may not do that (403: {shown})",
            "Check that station.id matches the station the token was issued for.",
            slow=True,
        )
    if status == 409:
        return SyncProblem(
            "conflict",
            f"central holds different events under this station's numbers (409: {shown})",
            "The station's database was probably replaced. Register it under a new station id "
            "at central and update station.id and sync.token.",
            slow=True,
        )
    if status == 413:
        return SyncProblem(
            "too_large",
            f"central found the batch too large (413: {shown})",
            "Sync halves the batch and retries; lower sync.batch_max_bytes to avoid this.",
            shrink=True,
        )
    if 500 <= status <= 599:
        return SyncProblem(
            "server",
            f"central failed with {status} ({shown})",
            "A problem at central (check its log); sync retries with back-off and nothing is lost.",
        )
    return SyncProblem(
        "refused",
        f"central refused the request ({status}: {shown})",
        "Station and central may run incompatible releases; upgrade the older one. Events "
        "are kept and sent once central accepts them.",
        slow=400 <= status <= 499,
    )
