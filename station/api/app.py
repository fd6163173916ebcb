"""The FastAPI application: routers of each service, authentication, size limits, errors."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterable
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from station.api.auth import Authenticator, Principal
from station.api.errors import install_error_handlers
from station.api.routes import ROUTERS
from station.api.routes.core import OPEN_PATH, Reader
from station.api.text import unstorable
from station.runtime import Station
from wire.headers import NoStore


class BodyLimit:
    """Refuse request bodies over the configured size before reading them whole."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _too_large(self.max_bytes)(scope, receive, send)
            return
        seen = 0
        over = started = False

        async def limited() -> dict:
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    over = True
                    raise _BodyTooLarge
            return message

        async def guarded(message: dict) -> None:
            # FastAPI turns any error while reading a body into its own 400 ("error parsing
            # the body"); a body cut off for its size (chunked, no Content-Length) must be a
            # 413 that says so, so the app's answer is dropped once the limit is crossed.
            nonlocal started
            if over:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        with contextlib.suppress(_BodyTooLarge):
            await self.app(scope, limited, guarded)
        if over and not started:
            await _too_large(self.max_bytes)(scope, receive, send)


class UnlockNotice:
    """Tells the lockers a door-open request has come, before anything else of it runs.

    Between the request's arrival and its handler's unlock lie HTTP parsing, the middleware,
    authentication and the body's validation (2-4 ms here); a status read of the door's board
    that starts in that time would take the bus for a whole exchange (8 ms at 19200 baud) just
    ahead of the unlock. Announced here, the board's bus holds back reads that have not
    started until the unlock comes or the request ends (LockerService.expect_unlock)."""

    def __init__(self, app: ASGIApp, station: Station) -> None:
        self.app = app
        self.lockers = station.lockers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        locker = _opened_locker(scope)
        if locker is None:
            await self.app(scope, receive, send)
            return
        release = self.lockers.expect_unlock(locker)
        try:
            await self.app(scope, receive, send)
        finally:
            release()


_OPEN_PREFIX, _, _OPEN_SUFFIX = OPEN_PATH.partition("{locker_id}")


def _opened_locker(scope: Scope) -> str | None:
    """The locker a `POST /api/v1/lockers/{id}/open` opens, else None (cheap: every request)."""
    if scope["type"] != "http" or scope["method"] != "POST":
        return None
    path: str = scope["path"]
    if not (path.startswith(_OPEN_PREFIX) and path.endswith(_OPEN_SUFFIX)):
        return None
    locker = path[len(_OPEN_PREFIX) : -len(_OPEN_SUFFIX)]
    return locker if locker and "/" not in locker else None


class _BodyTooLarge(Exception):
    pass


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse({"detail": f"request body over {limit} bytes"}, status_code=413)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        parts.append(f"{where or 'body'}: {err.get('msg', 'invalid')}")
    return "; ".join(parts)


async def storable_text(connection: HTTPConnection) -> None:
    """JSON may escape half of a UTF-16 pair (`"\\ud800"`), which Python decodes into a string
    no UTF-8 file or SQLite database can hold (a 500 deep in a write), or a NUL, which SQLite
    keeps but PostgreSQL at central refuses (the event would never sync). Refused here, for
    every route, as what they are: the client's bad text. The request models refuse it too
    (station/api/text.py), whatever the content type; this names the place in the body and
    covers the query string."""
    problem = unstorable(dict(connection.query_params.multi_items()), "query")
    if problem:
        raise HTTPException(422, problem)
    content_type = connection.headers.get("content-type", "").lower()
    if not isinstance(connection, Request) or "json" not in content_type:
        return
    try:
        data = await connection.json()
    except ValueError:
        return  # not JSON at all: the route's own validation says so
    problem = unstorable(data)
    if problem:
        raise HTTPException(422, problem)


def create_app(station: Station) -> FastAPI:
    app = FastAPI(
        dependencies=[Depends(storable_text)],
        title=f"共享益站 station {station.config.station.id}",
        version="1",
        description=(
            "Local API of a station controller. Every route except /healthz needs "
            "`Authorization: Bearer <token>`; roles are kiosk, staff and central."
        ),
        # The description of the API is served like the API itself: with a token.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.station = station
    # Tells the touchscreen, when its stream reconnects, whether this is still the daemon that
    # holds its sessions or a new one (a restart forgets every session).
    app.state.instance = secrets.token_hex(8)
    auth = Authenticator(station.config.api.tokens)
    app.state.auth = auth
    for router in ROUTERS:
        app.include_router(router)

    def staff_session(token: str) -> Principal | None:
        # A staff login session acts as a staff bearer token; each use keeps it alive.
        session = station.services.staff.session(token)
        return Principal(role="staff", name=session.subject) if session else None

    auth.add_resolver(staff_session)

    @app.get("/openapi.json", include_in_schema=False)
    async def _description(_: Reader) -> dict[str, Any]:
        return app.openapi()

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            {"detail": _validation_message(exc), "errors": _plain(exc.errors())},
            status_code=422,
        )

    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=station.config.api.max_body_bytes)
    app.add_middleware(NoStore)
    app.add_middleware(UnlockNotice, station=station)  # outermost: the earliest moment
    return app


def _plain(errors: Iterable[dict]) -> list[dict]:
    """Validation errors without the raw input, which may hold a PIN or a phone number."""
    return [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in errors
    ]
