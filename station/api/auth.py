"""Bearer-token authentication with roles.

Tokens come from the config (`[[api.tokens]]`, role kiosk/staff/central) and from resolvers
other services register (a staff login session is a short-lived staff token). A missing or
unknown token is 401; a known token whose role may not use the route is 403.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from fastapi import HTTPException, Request, WebSocket, status
from starlette.concurrency import run_in_threadpool

from station.config import ApiToken


@dataclass(frozen=True, slots=True)
class Principal:
    role: str
    name: str

    @property
    def actor(self) -> str:
        """How this caller is named in the usage log."""
        return f"{self.role}:{self.name}"


TokenResolver = Callable[[str], Principal | None]


class Authenticator:
    def __init__(self, tokens: Iterable[ApiToken]) -> None:
        self._tokens = list(tokens)
        self._resolvers: list[TokenResolver] = []

    def add_resolver(self, resolver: TokenResolver) -> None:
        self._resolvers.append(resolver)

    def resolve(self, token: str) -> Principal | None:
        return self.configured(token) or self.from_sessions(token)

    def configured(self, token: str) -> Principal | None:
        """A token from the config: a hash compare, cheap enough for the event loop."""
        for t in self._tokens:
            if t.matches(token):
                return Principal(role=t.role, name=t.name)
        return None

    def from_sessions(self, token: str) -> Principal | None:
        """A token a resolver knows (a login session); may read the database."""
        for resolver in self._resolvers:
            principal = resolver(token)
            if principal is not None:
                return principal
        return None


def bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )


def require(*roles: str) -> Callable[[Request], Awaitable[Principal]]:
    """A FastAPI dependency admitting callers whose token has one of `roles`."""

    async def dependency(request: Request) -> Principal:
        # Async, so a configured token costs no trip to the thread pool (FastAPI runs a plain
        # def dependency there); only a session token, which may read the database, goes.
        token = bearer(request.headers.get("authorization"))
        if token is None:
            raise _unauthorized("missing bearer token: send 'Authorization: Bearer <token>'")
        auth: Authenticator = request.app.state.auth
        principal = auth.configured(token) or await run_in_threadpool(auth.from_sessions, token)
        if principal is None:
            raise _unauthorized("unknown or expired token")
        if principal.role not in roles:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"role '{principal.role}' may not do this; needs {' or '.join(roles)}",
            )
        return principal

    return dependency


def websocket_principal(ws: WebSocket) -> Principal | None:
    """WebSockets from a browser cannot set headers, so the token may come as ?token=."""
    token = bearer(ws.headers.get("authorization")) or ws.query_params.get("token")
    if not token:
        return None
    auth: Authenticator = ws.app.state.auth
    return auth.resolve(token)
