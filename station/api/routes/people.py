"""Members and staff: identify at the kiosk, staff login, registration and staff actions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status

from station.api.auth import bearer
from station.api.deps import (
    Kiosk,
    KioskOrStaff,
    MemberCtx,
    Staff,
    Svc,
    refusals,
)
from station.api.models_services import (
    IdentifyRequest,
    IdentifyResponse,
    LookupMember,
    MemberStatusChange,
    MemberView,
    PinReset,
    ReasonBody,
    RegisterMember,
    StaffCreate,
    StaffLogin,
    StaffLoginResponse,
    StaffMe,
    StaffView,
    ThrottleView,
)
from station.people.members import Member
from station.people.throttle import GuessThrottle
from station.refusals import not_found
from station.services.registry import Services

router = APIRouter(prefix="/api/v1", tags=["people"])


async def member_view(svc: Services, member: Member) -> dict[str, Any]:
    loans = await svc.lending.member_loans(member.id)
    return {
        "member_id": member.id,
        "label": member.label,
        "masked": member.masked,
        "last4": member.last4,
        "kind": member.kind,
        "status": member.status,
        "loans": loans,
        "overdue": [loan for loan in loans if loan.overdue],
        "locked_until": await svc.members.locked_until(member),
    }


@router.post(
    "/members/identify",
    response_model=IdentifyResponse,
    responses=refusals(422, 429, 503),
)
async def identify(body: IdentifyRequest, who: Kiosk, svc: Svc) -> dict[str, Any]:
    """A member proves who they are with phone number and PIN; the session lasts one flow.

    Wrong PIN: 403 `wrong_pin` with `tries_left`. Locked: 429 `locked` with `locked_until`.
    The answer lists the member's loans; `overdue` is non-empty when one is late.
    """
    token, member = await svc.members.identify(body.phone, body.pin, who.actor)
    return {
        "session": token,
        "expires_in_s": svc.members.sessions.idle_s,
        "member": await member_view(svc, member),
    }


@router.get("/members/me", response_model=MemberView, responses=refusals())
async def me(_: Kiosk, ctx: MemberCtx, svc: Svc) -> dict[str, Any]:
    return await member_view(svc, await svc.members.get(ctx.member.id))


@router.post("/members/logout", status_code=204, responses=refusals())
async def member_logout(_: Kiosk, ctx: MemberCtx, svc: Svc) -> Response:
    """The member is done at the screen: end their session now."""
    svc.members.end_session(ctx.token)
    return Response(status_code=204)


@router.post(
    "/members",
    response_model=MemberView,
    status_code=status.HTTP_201_CREATED,
    responses=refusals(409, 422, 503),
)
async def register_member(body: RegisterMember, who: Staff, svc: Svc) -> dict[str, Any]:
    """Staff register a resident or courier at the station."""
    member = await svc.members.register(body.phone, body.pin, body.kind, who.actor)
    return await member_view(svc, member)


@router.post("/members/lookup", response_model=MemberView, responses=refusals(404, 422, 503))
async def lookup_member(body: LookupMember, _: Staff, svc: Svc) -> dict[str, Any]:
    """Staff find a member by the phone number they tell them (never listed by number)."""
    return await member_view(svc, await svc.members.lookup(body.phone))


@router.patch("/members/{member_id}", response_model=MemberView, responses=refusals(404))
async def change_member(
    member_id: str, body: MemberStatusChange, who: Staff, svc: Svc
) -> dict[str, Any]:
    member = await svc.members.set_status(member_id, body.status, body.reason, who.actor)
    return await member_view(svc, member)


@router.post("/members/{member_id}/pin", response_model=MemberView, responses=refusals(404, 422))
async def reset_member_pin(member_id: str, body: PinReset, who: Staff, svc: Svc) -> dict[str, Any]:
    """Staff set a new PIN for a member who forgot theirs (this also ends a lockout)."""
    member = await svc.members.reset_pin(member_id, body.pin, who.actor)
    return await member_view(svc, member)


@router.post("/members/{member_id}/unlock", response_model=MemberView, responses=refusals(404, 409))
async def unlock_member(member_id: str, body: ReasonBody, who: Staff, svc: Svc) -> dict[str, Any]:
    member = await svc.members.unlock(member_id, body.reason, who.actor)
    return await member_view(svc, member)


# --- staff -----------------------------------------------------------------------------------


@router.post("/staff/login", response_model=StaffLoginResponse, responses=refusals(422, 429))
async def staff_login(body: StaffLogin, who: KioskOrStaff, svc: Svc) -> dict[str, Any]:
    """Staff number and PIN give a staff bearer token that ends after idle_timeout_s unused."""
    token, staff = await svc.staff.login(body.staff_no, body.pin, who.actor)
    return {
        "token": token,
        "staff_no": staff.staff_no,
        "name": staff.name,
        "idle_timeout_s": svc.staff.sessions.idle_s,
    }


@router.get("/staff/me", response_model=StaffMe, responses=refusals())
async def staff_me(request: Request, who: Staff, svc: Svc) -> dict[str, Any]:
    token = bearer(request.headers.get("authorization")) or ""
    session = svc.staff.session(token)
    name = session.data["staff"].name if session else who.name
    return {"staff_no": who.name, "name": name, "idle_timeout_s": svc.staff.sessions.idle_s}


@router.post("/staff/logout", status_code=204, responses=refusals())
async def staff_logout(request: Request, _: Staff, svc: Svc) -> Response:
    await svc.staff.logout(bearer(request.headers.get("authorization")) or "")
    return Response(status_code=204)


@router.post("/staff", response_model=StaffView, status_code=201, responses=refusals(409, 422))
async def add_staff_member(body: StaffCreate, who: Staff, svc: Svc) -> dict[str, Any]:
    staff = await svc.staff.add(body.staff_no, body.name, body.pin, who.actor)
    return {"staff_no": staff.staff_no, "name": staff.name, "active": staff.active}


@router.get("/staff", response_model=list[StaffView], responses=refusals())
async def list_staff(_: Staff, svc: Svc) -> list[dict[str, Any]]:
    return [
        {"staff_no": s.staff_no, "name": s.name, "active": s.active} for s in await svc.staff.list()
    ]


# --- station-wide guessing budgets -------------------------------------------------------------


async def throttle_view(throttle: GuessThrottle) -> dict[str, Any]:
    return {
        "kind": throttle.kind.name,
        "limit": throttle.limit,
        "window_s": throttle.window_s,
        "blocked_until": await throttle.blocked_until(),
    }


@router.get("/throttles", response_model=list[ThrottleView], responses=refusals())
async def list_throttles(_: Staff, svc: Svc) -> list[dict[str, Any]]:
    """The station-wide budgets of wrong member PINs, staff PINs and pickup codes."""
    return [await throttle_view(t) for t in svc.throttles.by_kind.values()]


@router.post("/throttles/{kind}/release", response_model=ThrottleView, responses=refusals(404, 422))
async def release_throttle(kind: str, body: ReasonBody, who: Staff, svc: Svc) -> dict[str, Any]:
    """Staff checked the `guessing` alarm (nobody is attacking the screen now) and let guesses
    of this kind be checked again at once; earlier wrong guesses no longer count."""
    throttle = svc.throttles.by_kind.get(kind)
    if throttle is None:
        raise not_found(f"guessing budget '{kind}' (member_pin, staff_pin, code or claim)")
    await svc.store.write(lambda tx: throttle.release(tx, who.actor, body.reason))
    return await throttle_view(throttle)
