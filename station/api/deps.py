"""What every services router shares: roles, the member session header, refusal docs.

Refusals raised by the services (or by a dependency) become JSON answers in station/api/errors.py
(`{"detail", "code", ...}` with the HTTP status of their kind), the one table for every error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Request

from station.api.auth import Principal, require
from station.api.models import documented
from station.api.models_services import RefusalBody
from station.people.members import Member, pin_change_required
from station.refusals import Refusal
from station.services.registry import Services


def refusals(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the refusal statuses a route may answer."""
    body = documented(RefusalBody)
    return {status: body for status in (401, 403, *statuses)}


async def services(request: Request) -> Services:
    """Async on purpose: FastAPI runs a plain def dependency on its thread pool."""
    return services_of(request)


def services_of(request: Request) -> Services:
    return request.app.state.station.services


Svc = Annotated[Services, Depends(services)]
Kiosk = Annotated[Principal, Depends(require("kiosk"))]
Staff = Annotated[Principal, Depends(require("staff"))]
KioskOrStaff = Annotated[Principal, Depends(require("kiosk", "staff"))]
StaffOrCentral = Annotated[Principal, Depends(require("staff", "central"))]
AnyRole = Annotated[Principal, Depends(require("kiosk", "staff", "central"))]
ROW_MAX = 2**53
"""The largest row number or sequence the API takes: a bigger one is a 422, not an SQLite
overflow (SQLite integers end at 2**63 - 1; JSON readers lose precision past 2**53)."""
RowId = Annotated[int, Path(ge=1, le=ROW_MAX, description="A row number")]
LockerId = Annotated[str, Path(pattern=r"^[A-Z][0-9]{2}$", description="A locker, like A14")]


@dataclass(frozen=True, slots=True)
class MemberContext:
    token: str
    member: Member
    by: str = "pin"
    """How the member identified: `pin` (phone and PIN) or `card` (people.card_alone_for)."""


def _session_refusal() -> Refusal:
    return Refusal(
        "session",
        "member_session_expired",
        "please identify again with your phone number and PIN",
    )


FIRST_PIN_PATHS = frozenset({"/api/v1/members/me/pin", "/api/v1/members/logout"})
"""The member routes a first PIN from the office may use: choosing the member's own, and
ending the session."""


def member_session(
    request: Request,
    x_member_session: Annotated[str | None, Header(max_length=200)] = None,
) -> MemberContext:
    if not x_member_session:
        raise _session_refusal()
    session = services_of(request).members.session(x_member_session)
    if session is None:
        raise _session_refusal()
    member = session.data["member"]
    if member.pin_state == "must_change" and request.url.path not in FIRST_PIN_PATHS:
        raise pin_change_required()
    return MemberContext(
        token=x_member_session,
        member=session.data["member"],
        by=str(session.data.get("by", "pin")),
    )


def optional_member_session(
    request: Request,
    x_member_session: Annotated[str | None, Header(max_length=200)] = None,
) -> MemberContext | None:
    """A member session if the kiosk sends one (a return or deposit may be anonymous)."""
    if not x_member_session:
        return None
    return member_session(request, x_member_session)


MemberCtx = Annotated[MemberContext, Depends(member_session)]
OptionalMember = Annotated[MemberContext | None, Depends(optional_member_session)]
