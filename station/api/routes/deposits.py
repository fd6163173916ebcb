"""Storage and charging lockers, and pickups with a one-time code."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from station.api.deps import (
    Kiosk,
    LockerId,
    OptionalMember,
    RowId,
    Staff,
    StaffOrCentral,
    Svc,
    refusals,
)
from station.api.models_services import (
    DepositRequest,
    DepositView,
    FlowView,
    PickupRequest,
    ReasonBody,
    ReissuedView,
    WaitingLocker,
    WaitingPickupView,
)
from station.services.deposits.records import Deposit
from station.services.pickup.records import Reissued, WaitingPickup

router = APIRouter(prefix="/api/v1", tags=["storage and pickups"])


@router.post(
    "/deposits",
    response_model=FlowView,
    status_code=status.HTTP_202_ACCEPTED,
    responses=refusals(409),
)
async def deposit(
    body: DepositRequest, who: Kiosk, ctx: OptionalMember, svc: Svc
) -> dict[str, Any]:
    """Leave a bag or a phone to charge: a free storage locker opens; when its door is closed
    the flow's result carries the pickup code (GET /flows/{id} by the kiosk only)."""
    if ctx is not None and ctx.by == "card":
        svc.cards.check_purpose("deposit")
    on_finish = svc.end_member_session_when_done(ctx.token) if ctx else []
    flow = await svc.storage.deposit(
        body.kind, body.size, ctx.member if ctx else None, who.actor, on_finish
    )
    return flow.started_view()


@router.get("/deposits", response_model=list[DepositView], responses=refusals())
async def list_deposits(
    _: Staff,
    svc: Svc,
    status: Annotated[
        str | None, Query(pattern="^(open|active|collected|cleared|abandoned)$")
    ] = None,
) -> list[Deposit]:
    return await svc.storage.list(status)


@router.get("/deposits/overtime", response_model=list[DepositView], responses=refusals())
async def overtime(_: StaffOrCentral, svc: Svc) -> list[Deposit]:
    """Deposits whose code ran out (and doors left open at deposit), for staff to clear."""
    return await svc.storage.overtime()


@router.post(
    "/deposits/{deposit_id}/clear", response_model=DepositView, responses=refusals(404, 409)
)
async def clear(deposit_id: RowId, body: ReasonBody, who: Staff, svc: Svc) -> Deposit:
    """Staff emptied the locker (open it first through POST /lockers/{id}/open with a reason)."""
    return await svc.storage.clear(deposit_id, body.reason, who.actor)


@router.get("/pickups/lockers", response_model=list[WaitingLocker], responses=refusals())
async def waiting(_: Kiosk, svc: Svc) -> list[dict[str, str]]:
    """Lockers holding something to pick up with a code, for the pickup screen's choice."""
    return [{"locker": locker} for locker in await svc.pickups.lockers_waiting()]


@router.post(
    "/pickups",
    response_model=FlowView,
    status_code=status.HTTP_202_ACCEPTED,
    responses=refusals(404, 409, 410, 429),
)
async def pickup(body: PickupRequest, who: Kiosk, svc: Svc) -> dict[str, Any]:
    """The code alone opens the door of its locker (`locker` optional: then only that one).
    403 `wrong_code` (`tries_left`: this kiosk's tries before its code checks pause); 429
    `codes_locked` (this kiosk, `locked_until`) or `guessing_throttled` (the whole station);
    410 `code_expired`, `code_used`; 404 `no_pickup` (the named locker holds nothing)."""
    flow = await svc.pickups.pickup(body.code, who.actor, body.locker)
    return flow.started_view()


@router.get("/pickups", response_model=list[WaitingPickupView], responses=refusals())
async def waiting_pickups(_: Staff, svc: Svc) -> list[WaitingPickup]:
    """What waits to be picked up, locker by locker, and where its code stands (never the
    code), for the maintenance screen."""
    return await svc.pickups.waiting()


@router.post(
    "/pickups/{locker_id}/reissue", response_model=ReissuedView, responses=refusals(404, 422)
)
async def reissue(locker_id: LockerId, body: ReasonBody, who: Staff, svc: Svc) -> Reissued:
    """A new code for what waits in the locker (its owner lost the code, or it expired); the old
    code stops working. The answer carries the code, once; the log names the staff member and
    the reason, never the code."""
    return await svc.pickups.reissue(locker_id, body.reason, who.actor)
