"""One table from the station's domain errors to HTTP answers, and the handlers that use it.

The services, the lockers and the alarms know nothing of HTTP: they raise their own errors
(a Refusal with a kind, an UnknownLocker, a full store). This module is the one place that
says which status each becomes, so a route never maps an error by hand and two routes can
never answer the same error differently.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from station.alarms import AlarmAlreadyCleared, UnknownAlarm
from station.doors.lockers import LockerUnavailable, UnknownLocker
from station.occupancy.tracker import OverrideError
from station.refusals import Refusal
from station.store import StoreError, StoreFull

REFUSAL_STATUS = {
    "denied": 403,
    "conflict": 409,
    "not_found": 404,
    "gone": 410,
    "invalid": 422,
    "locked": 429,
    "unavailable": 503,
    "session": 401,
}
"""A service's refusal, by its kind."""

ERROR_STATUS: dict[type[Exception], int] = {
    UnknownLocker: 404,
    LockerUnavailable: 409,
    UnknownAlarm: 404,
    AlarmAlreadyCleared: 409,
    OverrideError: 422,
    StoreFull: 507,
    StoreError: 503,
}
"""Every other domain error, by its class (a subclass takes its own entry first)."""


def refusal_response(refusal: Refusal) -> JSONResponse:
    headers = {}
    if refusal.kind == "locked" and "retry_after_s" in refusal.extra:
        headers["Retry-After"] = str(refusal.extra["retry_after_s"])
    return JSONResponse(
        refusal.body(), status_code=REFUSAL_STATUS.get(refusal.kind, 409), headers=headers or None
    )


def _detail(exc: Exception) -> str:
    if isinstance(exc, StoreFull):
        # A door opens only after its audit event is on disk: say so, so staff at the screen
        # know why the door stays shut and that freeing space is the fix.
        return f"{exc} Doors open only after their audit is logged: none opens until then."
    return str(exc)


async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    status = next(code for kind, code in ERROR_STATUS.items() if isinstance(exc, kind))
    return JSONResponse({"detail": _detail(exc)}, status_code=status)


async def _refusal(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Refusal)
    return refusal_response(exc)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Refusal, _refusal)
    for kind in ERROR_STATUS:
        app.add_exception_handler(kind, _domain_error)
