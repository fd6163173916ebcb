"""The office's contact routes: a member opting in to reminders (through staff), and deleting
the contact on request. Office token only. The phone number and contact travel in the body,
never in a URL (URLs end up in proxies' access logs), and no answer repeats them.

No `from __future__ import annotations` here: FastAPI must see the routes' dependency types
as objects.
"""

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from central.reminders.service import ContactRefused, Reminders
from central.storage.base import TokenRecord


async def _fields(request: Request, *names: str) -> list[str]:
    """The body's string fields, checked by hand so that a refusal never echoes a value."""
    try:
        body = await request.json()
    except ValueError:
        raise HTTPException(400, "body is not valid JSON") from None
    if not isinstance(body, dict) or set(body) != set(names):
        raise HTTPException(422, f"the body must be a JSON object with exactly: {', '.join(names)}")
    values = [body[n] for n in names]
    if not all(isinstance(v, str) for v in values):
        raise HTTPException(422, f"{', '.join(names)} must be strings")
    return values


def install_reminders(
    app: FastAPI,
    reminders: Reminders | None,
    office: Callable[..., Coroutine[Any, Any, TokenRecord]],
) -> None:
    router = APIRouter()
    Office = Annotated[TokenRecord, Depends(office)]

    def service() -> Reminders:
        if reminders is None:
            raise HTTPException(
                409, "reminders are not set up: add [reminders] to central's settings"
            )
        return reminders

    @router.post("/api/v1/contacts", tags=["reminders"], status_code=201)
    async def add(_: Office, request: Request) -> dict[str, Any]:
        """A member opts in: {"phone": their number, "contact": where reminders go}. Answers
        the member as the usage log names them (a hash prefix and the last four digits)."""
        s = service()
        phone, contact = await _fields(request, "phone", "contact")
        try:
            member = await run_in_threadpool(s.add_contact, phone, contact)
        except ContactRefused as exc:
            raise HTTPException(422, str(exc)) from None
        return {"member": member}

    @router.post("/api/v1/contacts/delete", tags=["reminders"])
    async def delete(_: Office, request: Request) -> dict[str, Any]:
        """A member opts out: {"phone": their number}. Every reminder not yet sent stops."""
        s = service()
        (phone,) = await _fields(request, "phone")
        try:
            member = s.member_of(phone)
        except ContactRefused as exc:
            raise HTTPException(422, str(exc)) from None
        if not await run_in_threadpool(s.delete_contact, member):
            raise HTTPException(404, f"no contact is held for {member}")
        return {"member": member, "deleted": True}

    app.include_router(router)
