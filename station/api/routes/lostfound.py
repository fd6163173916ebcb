"""Lost and found: hand-in and browsing at the kiosk, claims, staff decisions and removals."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from station.api.deps import (
    AnyRole,
    Kiosk,
    OptionalMember,
    RowId,
    Staff,
    Svc,
    refusals,
)
from station.api.models_services import (
    ApproveResponse,
    ClaimRequest,
    ClaimView,
    FlowView,
    FoundOptions,
    FoundPublic,
    FoundStaff,
    HandIn,
    NoteBody,
    ReasonBody,
    RemoveRequest,
)
from station.refusals import invalid
from station.services.lostfound.records import (
    Approved,
    Claim,
    FoundItem,
    FoundRecord,
    Options,
)

router = APIRouter(prefix="/api/v1", tags=["lost and found"])


@router.get("/found/options", response_model=FoundOptions, responses=refusals())
async def options(_: AnyRole, svc: Svc) -> Options:
    """Categories (with which are valuables) and this station's preset places."""
    return svc.lostfound.options()


@router.post(
    "/found",
    response_model=FlowView,
    status_code=status.HTTP_202_ACCEPTED,
    responses=refusals(409, 422, 503),
)
async def hand_in(body: HandIn, who: Kiosk, svc: Svc) -> dict[str, Any]:
    """Hand in a found item (no identity needed): a free locker opens; follow the flow, whose
    result gives the item's number once the door is closed. 409 `no_free_locker`."""
    flow = await svc.lostfound.hand_in(
        category=body.category,
        colour=body.colour,
        place=body.place,
        description=body.description,
        finder_phone=body.finder_phone,
        actor=who.actor,
    )
    return flow.started_view()


@router.get("/found", response_model=list[FoundPublic], responses=refusals())
async def browse(
    _: AnyRole,
    svc: Svc,
    category: Annotated[str | None, Query(max_length=20)] = None,
    since: Annotated[float | None, Query(description="Found at or after (epoch s)")] = None,
    until: Annotated[float | None, Query(description="Found before (epoch s)")] = None,
) -> list[FoundItem]:
    """Items waiting for their owner, newest first: public fields only."""
    return await svc.lostfound.browse(category, since, until)


@router.get("/found/valuables", response_model=list[FoundStaff], responses=refusals())
async def valuables(_: Staff, svc: Svc) -> list[FoundRecord]:
    """Valuables still in a locker, with the time staff should collect them by."""
    return await svc.lostfound.valuables()


@router.get("/found/expired", response_model=list[FoundStaff], responses=refusals())
async def expired(_: Staff, svc: Svc) -> list[FoundRecord]:
    return await svc.lostfound.expired()


@router.get("/found/{number}", response_model=FoundPublic, responses=refusals(404))
async def item(number: str, _: AnyRole, svc: Svc) -> FoundItem:
    return await svc.lostfound.public_item(number)


@router.get("/found/{number}/record", response_model=FoundStaff, responses=refusals(404))
async def item_record(number: str, _: Staff, svc: Svc) -> FoundRecord:
    """The full record for staff, with its claims."""
    return await svc.lostfound.staff_item(number)


@router.post(
    "/found/{number}/claims",
    response_model=ClaimView,
    status_code=status.HTTP_201_CREATED,
    responses=refusals(404, 409, 422, 503),
)
async def claim(
    number: str, body: ClaimRequest, who: Kiosk, ctx: OptionalMember, svc: Svc
) -> Claim:
    """Claim an item: it waits for staff to verify. The claimant is the member of the session
    sent (a card where `people.card_alone_for` has `claim`, else phone and PIN; the session
    ends with the claim), or the phone number typed. 409 `already_claimed`,
    `duplicate_claim`, `not_claimable`; 403 `pin_required` for a card where cards may not
    claim; 422 with neither a session nor a phone."""
    if ctx is None:
        if body.phone is None:
            raise invalid("phone", "give the claimant's phone number, or identify as a member")
        return await svc.lostfound.claim(number, body.phone, body.description, who.actor)
    if ctx.by == "card":
        svc.cards.check_purpose("claim")
    claim = await svc.lostfound.claim(number, ctx.member.phone_id, body.description, who.actor)
    svc.members.end_session(ctx.token)
    return claim


@router.post("/found/{number}/collect", response_model=FoundStaff, responses=refusals(404, 409))
async def collect(number: str, body: NoteBody, who: Staff, svc: Svc) -> FoundRecord:
    """Staff took the item out of its locker into their custody."""
    return await svc.lostfound.collect(number, body.note, who.actor)


@router.post("/found/{number}/remove", response_model=FoundStaff, responses=refusals(404, 409))
async def remove(number: str, body: RemoveRequest, who: Staff, svc: Svc) -> FoundRecord:
    """Staff dispose of an expired item with a reason."""
    return await svc.lostfound.remove(number, body.disposition, body.reason, who.actor)


@router.get("/claims", response_model=list[ClaimView], responses=refusals())
async def claims(
    _: Staff,
    svc: Svc,
    status: Annotated[
        str,
        Query(
            pattern="^(pending|approved|rejected|picked_up|)$",
            description="Only claims in this state; empty for all",
        ),
    ] = "pending",
) -> list[Claim]:
    return await svc.lostfound.claims(status or None)


@router.post(
    "/claims/{claim_id}/approve", response_model=ApproveResponse, responses=refusals(404, 409)
)
async def approve(claim_id: RowId, body: NoteBody, who: Staff, svc: Svc) -> Approved:
    """Staff verified the claimant: a one-time pickup code for the locker (shown only here)."""
    return await svc.lostfound.approve(claim_id, body.note, who.actor)


@router.post("/claims/{claim_id}/reject", response_model=ClaimView, responses=refusals(404, 409))
async def reject(claim_id: RowId, body: ReasonBody, who: Staff, svc: Svc) -> Claim:
    return await svc.lostfound.reject(claim_id, body.reason, who.actor)
