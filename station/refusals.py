"""Refusals: the services' way of saying "no" so that a person at the screen knows why.

A refusal is not a failure of the station: a wrong PIN, an overdue loan or a full row of
lockers are answers. Each carries a stable machine `code` the UI branches on, a sentence for
the screen, a `kind` the API maps to an HTTP status, and extra facts (tries left, locked until).
The services know nothing of HTTP; the API layer does the mapping in one place.
"""

from __future__ import annotations

from typing import Any, Literal

Kind = Literal[
    "denied", "conflict", "not_found", "gone", "invalid", "locked", "unavailable", "session"
]


class Refusal(Exception):
    def __init__(self, kind: Kind, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.kind: Kind = kind
        self.code = code
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"detail": self.message, "code": self.code, **self.extra}


def not_found(what: str) -> Refusal:
    return Refusal("not_found", "not_found", f"no {what}")


def invalid(field: str, message: str) -> Refusal:
    """A value refused on its meaning; the message must never repeat a phone number or PIN."""
    return Refusal("invalid", "invalid", message, field=field)


def invalid_state(message: str) -> Refusal:
    return Refusal("conflict", "invalid_state", message)
