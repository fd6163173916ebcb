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
    CardIdentifyRequest,
    CardIdentifyResponse,
    CardReadRequest,
    IdentifyRequest,
    IdentifyResponse,
    LookupMember,
    MemberStatusChange,
    MemberView,
    PinReset,
    ReasonBody,
    RegisterMember,
    StaffBadgeView,
    StaffCreate,
    StaffLogin,
    StaffLoginResponse,
    StaffMe,
    StaffView,
    ThrottleView,
)
from station.people.card_desk import StaffBadge, pin_required
from station.people.members import Member
from station.people.staff import StaffMember, may_add_staff
from station.people.throttle import GuessThrottle
from station.refusals import Refusal, not_found
from station.services.registry import Services
from station.store import Tx

router = APIRouter(prefix="/api/v1", tags=["people"])


async def member_view(svc: Services, member: Member) -> MemberView:
    """The member record as staff and the kiosk see it, with the member's open loans."""
    loans = await svc.lending.member_loans(member.id)
    return MemberView(
        member_id=member.id,
        label=member.label,
        masked=member.masked,
        last4=member.last4,
        kind=member.kind,
        status=member.status,
        loans=loans,
        overdue=[loan for loan in loans if loan.overdue],
        max_loans=svc.lending.max_loans_for(member),
        locked_until=await svc.members.locked_until(member),
        cards=await svc.members.cards.count(member.card_owner),
        pin_state=member.pin_state,
    )


@router.post(
    "/members/identify",
    response_model=IdentifyResponse,
    responses=refusals(422, 429, 503),
)
async def identify(body: IdentifyRequest, who: Kiosk, svc: Svc) -> IdentifyResponse:
    """A member proves who they are with phone number and PIN; the session lasts one flow.

    Wrong PIN: 403 `wrong_pin` with `tries_left`. Locked: 429 `locked` with `locked_until`.
    The answer lists the member's loans; `overdue` is non-empty when one is late.
    """
    token, member = await svc.members.identify(body.phone, body.pin, who.actor)
    return IdentifyResponse(
        session=token,
        expires_in_s=svc.members.sessions.idle_s,
        member=await member_view(svc, member),
    )


@router.post(
    "/cards/identify",
    response_model=CardIdentifyResponse,
    responses=refusals(403, 404, 429, 503),
)
async def identify_by_card(body: CardIdentifyRequest, who: Kiosk, svc: Svc) -> dict[str, Any]:
    """The screen waits up to `wait_s` for a card or QR code on the station's reader.

    A member's card gives a member session for one flow (for the actions
    `people.card_alone_for` allows; other purposes are 403 `pin_required` at once); a staff
    badge gives the staff number for the login screen (`purpose` "staff"; the PIN is still
    asked). Nothing presented: `kind` "none" (ask again). Unknown card: 404 `card_unknown`,
    counted with wrong PINs. The card's number never leaves the daemon.
    """
    found = await svc.cards.identify(body.purpose, body.wait_s, who.actor)
    answer: dict[str, Any] = {"kind": found.kind}
    if found.member is not None:
        answer["session"] = found.token
        answer["expires_in_s"] = svc.members.sessions.idle_s
        answer["member"] = await member_view(svc, found.member)
    if found.staff_no:
        answer["staff_no"] = found.staff_no
    return answer


@router.post("/cards/cancel", status_code=204, responses=refusals())
async def cancel_card_wait(_: Kiosk, svc: Svc) -> Response:
    """The screen that waited for a card is gone: a card presented now identifies nobody."""
    svc.cards.cancel()
    return Response(status_code=204)


@router.get("/members/me", response_model=MemberView, responses=refusals())
async def me(_: Kiosk, ctx: MemberCtx, svc: Svc) -> MemberView:
    return await member_view(svc, await svc.members.get(ctx.member.id))


@router.post("/members/me/pin", response_model=MemberView, responses=refusals(422))
async def change_own_pin(body: PinReset, _: Kiosk, ctx: MemberCtx, svc: Svc) -> MemberView:
    """A member replaces the first PIN from the office (or their own) with one they chose; the
    session ends, so the next step identifies with the new PIN. A card alone may not choose
    a PIN (403 `pin_required`): the member identifies with phone number and PIN first."""
    if ctx.by == "card":
        raise pin_required("choose a PIN")
    member = await svc.members.reset_pin(ctx.member.id, body.pin, ctx.member.label)
    return await member_view(svc, await svc.members.get(member.id))


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
async def register_member(body: RegisterMember, who: Staff, svc: Svc) -> MemberView:
    """Staff register a resident or courier at the station."""
    member = await svc.members.register(body.phone, body.pin, body.kind, who.actor)
    return await member_view(svc, member)


@router.post("/members/lookup", response_model=MemberView, responses=refusals(404, 422, 503))
async def lookup_member(body: LookupMember, _: Staff, svc: Svc) -> MemberView:
    """Staff find a member by the phone number they tell them (never listed by number)."""
    return await member_view(svc, await svc.members.lookup(body.phone))


@router.patch("/members/{member_id}", response_model=MemberView, responses=refusals(404))
async def change_member(
    member_id: str, body: MemberStatusChange, who: Staff, svc: Svc
) -> MemberView:
    member = await svc.members.set_status(member_id, body.status, body.reason, who.actor)
    return await member_view(svc, member)


@router.post("/members/{member_id}/pin", response_model=MemberView, responses=refusals(404, 422))
async def reset_member_pin(member_id: str, body: PinReset, who: Staff, svc: Svc) -> MemberView:
    """Staff set a new PIN for a member who forgot theirs (this also ends a lockout)."""
    member = await svc.members.reset_pin(member_id, body.pin, who.actor)
    return await member_view(svc, member)


@router.post(
    "/members/{member_id}/cards/read",
    response_model=MemberView,
    responses=refusals(404, 409, 503),
)
async def bind_presented_card(
    member_id: str, body: CardReadRequest, who: Staff, svc: Svc
) -> MemberView:
    """Staff bind the next card presented on the station's reader (within `wait_s`) to this
    member; 409 `no_card` if none came, 409 `card_taken` if it is somebody else's."""
    member = await svc.cards.read_for_binding(member_id, body.wait_s, who.actor)
    return await member_view(svc, member)


@router.delete("/members/{member_id}/cards", response_model=MemberView, responses=refusals(404))
async def unbind_member_cards(member_id: str, who: Staff, svc: Svc) -> MemberView:
    """Staff remove every card or code bound to a member (a lost card, a moved resident)."""
    await svc.members.unbind_cards(member_id, who.actor)
    return await member_view(svc, await svc.members.get(member_id))


@router.post("/members/{member_id}/unlock", response_model=MemberView, responses=refusals(404, 409))
async def unlock_member(member_id: str, body: ReasonBody, who: Staff, svc: Svc) -> MemberView:
    member = await svc.members.unlock(member_id, body.reason, who.actor)
    return await member_view(svc, member)


# --- staff -----------------------------------------------------------------------------------


@router.post("/staff/login", response_model=StaffLoginResponse, responses=refusals(422, 429))
async def staff_login(body: StaffLogin, who: KioskOrStaff, svc: Svc) -> StaffLoginResponse:
    """Staff number and PIN give a staff bearer token that ends after idle_timeout_s unused."""
    token, staff = await svc.staff.login(body.staff_no, body.pin, who.actor)
    return StaffLoginResponse(
        token=token,
        staff_no=staff.staff_no,
        name=staff.name,
        idle_timeout_s=svc.staff.sessions.idle_s,
    )


@router.get("/staff/me", response_model=StaffMe, responses=refusals())
async def staff_me(request: Request, who: Staff, svc: Svc) -> StaffMe:
    token = bearer(request.headers.get("authorization")) or ""
    session = svc.staff.session(token)
    name = session.data["staff"].name if session else who.name
    return StaffMe(staff_no=who.name, name=name, idle_timeout_s=svc.staff.sessions.idle_s)


@router.post("/staff/logout", status_code=204, responses=refusals())
async def staff_logout(request: Request, _: Staff, svc: Svc) -> Response:
    await svc.staff.logout(bearer(request.headers.get("authorization")) or "")
    return Response(status_code=204)


@router.post("/staff", response_model=StaffView, status_code=201, responses=refusals(409, 422))
async def add_staff_member(
    request: Request, body: StaffCreate, who: Staff, svc: Svc
) -> StaffMember:
    """Only an admin adds staff: a logged-in staff member whose role is `admin`, or a staff
    token from the config (the technician's own)."""
    session = svc.staff.session(bearer(request.headers.get("authorization")) or "")
    if session is not None and not may_add_staff(session.data["staff"].role):
        raise Refusal("denied", "admin_only", "only an admin adds staff accounts: ask the office")
    return await svc.staff.add(body.staff_no, body.name, body.pin, who.actor, body.role)


@router.get("/staff", response_model=list[StaffView], responses=refusals())
async def list_staff(_: Staff, svc: Svc) -> list[StaffMember]:
    return await svc.staff.list()


def _own_badge_or_admin(request: Request, staff_no: str, svc: Services) -> None:
    """A staff member binds or removes their own badge; an admin (or the technician's config
    token) anybody's. A badge only stands for the staff number, but nobody should be able to
    take a colleague's badge away or slip their own card onto a colleague's account."""
    session = svc.staff.session(bearer(request.headers.get("authorization")) or "")
    if session is None:
        return
    staff = session.data["staff"]
    if staff.staff_no != staff_no and not may_add_staff(staff.role):
        raise Refusal("denied", "admin_only", "only an admin binds another staff member's badge")


@router.get("/staff/{staff_no}/cards", response_model=StaffBadgeView, responses=refusals(404))
async def staff_badges(staff_no: str, _: Staff, svc: Svc) -> StaffBadge:
    """How many badges an active staff account has (never their numbers)."""
    return await svc.cards.staff_badge(staff_no)


@router.post(
    "/staff/{staff_no}/cards/read",
    response_model=StaffBadgeView,
    responses=refusals(404, 409, 503),
)
async def bind_presented_badge(
    request: Request, staff_no: str, body: CardReadRequest, who: Staff, svc: Svc
) -> StaffBadge:
    """Staff bind the next card presented on the station's reader (within `wait_s`) as this
    staff account's badge: badge + PIN then log in. 409 `no_card`, `card_taken`; 403
    `admin_only` for another's account without the admin role."""
    _own_badge_or_admin(request, staff_no, svc)
    return await svc.cards.read_badge(staff_no, body.wait_s, who.actor)


@router.delete("/staff/{staff_no}/cards", response_model=StaffBadgeView, responses=refusals(404))
async def unbind_staff_badges(request: Request, staff_no: str, who: Staff, svc: Svc) -> StaffBadge:
    """A lost badge: every card of this staff account is removed (own, or admin)."""
    _own_badge_or_admin(request, staff_no, svc)
    return await svc.cards.unbind_badges(staff_no, who.actor)


# --- station-wide guessing budgets -------------------------------------------------------------


async def throttle_view(throttle: GuessThrottle) -> ThrottleView:
    return ThrottleView(
        kind=throttle.kind.name,
        limit=throttle.limit,
        window_s=throttle.window_s,
        blocked_until=await throttle.blocked_until(),
    )


@router.get("/throttles", response_model=list[ThrottleView], responses=refusals())
async def list_throttles(_: Staff, svc: Svc) -> list[ThrottleView]:
    """The station-wide budgets of wrong member PINs, staff PINs and pickup codes."""
    return [await throttle_view(t) for t in svc.throttles.by_kind.values()]


@router.post("/throttles/{kind}/release", response_model=ThrottleView, responses=refusals(404, 422))
async def release_throttle(kind: str, body: ReasonBody, who: Staff, svc: Svc) -> ThrottleView:
    """Staff checked the `guessing` alarm (nobody is attacking the screen now) and let guesses
    of this kind be checked again at once; earlier wrong guesses no longer count."""
    throttle = svc.throttles.by_kind.get(kind)
    if throttle is None:
        raise not_found(f"guessing budget '{kind}' (member_pin, staff_pin, code or claim)")

    def release(tx: Tx) -> None:
        throttle.release(tx, who.actor, body.reason)
        if kind == "code":  # and each kiosk's own pause of code checks
            svc.codes.release_kiosks(tx, who.actor, body.reason)

    await svc.store.write(release)
    return await throttle_view(throttle)
