"""Webhooks on loopback for the alert and reminder suites: what each hook received, and hooks
that can be made to refuse (503) as a channel that is down does."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request, Response


@dataclass
class Receiver:
    """Webhooks on loopback: every message each hook received; `down` hooks answer 503."""

    got: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    down: set[str] = field(default_factory=set)
    refused: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/hook/{name}")
        async def hook(name: str, request: Request) -> Response:
            body = await request.json()
            with self.lock:
                if name in self.down:
                    self.refused[name] = self.refused.get(name, 0) + 1
                    return Response(status_code=503)
                self.got.setdefault(name, []).append(body)
            return Response(status_code=200)

        return app

    def titles(self, name: str) -> list[str]:
        with self.lock:
            return [m["title"] for m in self.got.get(name, [])]
