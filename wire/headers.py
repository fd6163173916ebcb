"""Headers every API answer carries, at the station and at central: nothing personal is kept
by a cache or a browser. (Both sides' HTTP answers follow it, so it lives with the contract.)"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

NO_STORE = (b"cache-control", b"no-store")


class NoStore:
    """`Cache-Control: no-store` on every answer under the prefixes: they name members, lockers
    and staff, and no browser or proxy on the way may keep them. A pure ASGI wrapper, so
    streamed answers pass untouched."""

    def __init__(self, app: ASGIApp, prefixes: tuple[str, ...] = ("/api/", "/openapi")) -> None:
        self.app = app
        self.prefixes = prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(self.prefixes):
            await self.app(scope, receive, send)
            return

        async def with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0] != NO_STORE[0]]
                message = {**message, "headers": [*headers, NO_STORE]}
            await send(message)

        await self.app(scope, receive, with_header)
