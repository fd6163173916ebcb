"""Tools and loans: the catalogue for everyone, borrowing and returning at the kiosk, staff
actions on tools, and the overdue list for staff and the central office."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from station.api.deps import (
    AnyRole,
    Kiosk,
    MemberCtx,
    OptionalMember,
    Staff,
    StaffOrCentral,
    Svc,
    refusals,
)
from station.api.models_services import (
    ApprovalRequest,
    ApprovalView,
    AssignRequest,
    BorrowRequest,
    FlowView,
    LoanView,
    NoteBody,
    ReasonBody,
    ToolCreate,
    ToolPatch,
    ToolView,
)
from station.services.lending.records import Approval, Loan, Tool

router = APIRouter(prefix="/api/v1", tags=["lending"])
ToolStatus = Annotated[
    str | None,
    Query(pattern="^(available|on_loan|reserved|maintenance|missing|retired)$"),
]


@router.get("/tools", response_model=list[ToolView], responses=refusals())
async def list_tools(
    _: AnyRole,
    svc: Svc,
    status: ToolStatus = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
) -> list[Tool]:
    return await svc.lending.list_tools(status=status, category=category)


@router.get("/tools/{tool_id}", response_model=ToolView, responses=refusals(404))
async def get_tool(tool_id: str, _: AnyRole, svc: Svc) -> Tool:
    return await svc.lending.get_tool(tool_id)


@router.post(
    "/tools",
    response_model=ToolView,
    status_code=status.HTTP_201_CREATED,
    responses=refusals(409, 422),
)
async def create_tool(body: ToolCreate, who: Staff, svc: Svc) -> Tool:
    """A new tool enters the catalogue in `maintenance`; `restock` puts it in service."""
    return await svc.lending.create_tool(body.model_dump(), who.actor)


@router.patch("/tools/{tool_id}", response_model=ToolView, responses=refusals(404, 422))
async def update_tool(tool_id: str, body: ToolPatch, who: Staff, svc: Svc) -> Tool:
    return await svc.lending.update_tool(tool_id, body.model_dump(exclude_none=True), who.actor)


@router.post("/tools/{tool_id}/assign", response_model=ToolView, responses=refusals(404, 409, 422))
async def assign_tool(tool_id: str, body: AssignRequest, who: Staff, svc: Svc) -> Tool:
    return await svc.lending.assign(tool_id, body.locker, who.actor)


@router.post("/tools/{tool_id}/restock", response_model=ToolView, responses=refusals(404, 409))
async def restock_tool(tool_id: str, body: NoteBody, who: Staff, svc: Svc) -> Tool:
    """The tool is in its locker and ready to lend (from maintenance or missing)."""
    return await svc.lending.restock(tool_id, body.note, who.actor)


@router.post("/tools/{tool_id}/repaired", response_model=ToolView, responses=refusals(404, 409))
async def repaired_tool(tool_id: str, body: NoteBody, who: Staff, svc: Svc) -> Tool:
    """Staff release a tool from maintenance after repair."""
    return await svc.lending.repaired(tool_id, body.note, who.actor)


@router.post("/tools/{tool_id}/missing", response_model=ToolView, responses=refusals(404, 409))
async def missing_tool(tool_id: str, body: ReasonBody, who: Staff, svc: Svc) -> Tool:
    return await svc.lending.mark_missing(tool_id, body.reason, who.actor)


@router.post("/tools/{tool_id}/retire", response_model=ToolView, responses=refusals(404, 409))
async def retire_tool(tool_id: str, body: ReasonBody, who: Staff, svc: Svc) -> Tool:
    return await svc.lending.retire(tool_id, body.reason, who.actor)


@router.post(
    "/tools/{tool_id}/approvals",
    response_model=ApprovalView,
    status_code=status.HTTP_201_CREATED,
    responses=refusals(404, 409, 422, 503),
)
async def approve_tool(tool_id: str, body: ApprovalRequest, who: Staff, svc: Svc) -> Approval:
    """Staff let one member borrow this risky tool (valid lending.approval_valid_min)."""
    member = await svc.members.lookup(body.phone)
    return await svc.lending.approve(tool_id, member, who.actor)


@router.post(
    "/loans",
    response_model=FlowView,
    status_code=status.HTTP_202_ACCEPTED,
    responses=refusals(404, 409),
)
async def borrow(body: BorrowRequest, _: Kiosk, ctx: MemberCtx, svc: Svc) -> dict[str, Any]:
    """Borrow a tool: the rules are checked, then its door opens; follow the flow.

    Refusals: 403 `overdue`, `loan_limit`, `approval_required`; 409 `tool_unavailable`,
    `locker_unavailable`; 403 `pin_required` for a card session where cards may not borrow.
    """
    if ctx.by == "card":
        svc.cards.check_purpose("borrow")
    flow = await svc.lending.borrow(
        body.tool_id, ctx.member, svc.end_member_session_when_done(ctx.token)
    )
    return flow.started_view()


@router.post(
    "/returns",
    response_model=FlowView,
    status_code=status.HTTP_202_ACCEPTED,
    responses=refusals(404, 409),
)
async def return_tool(
    body: BorrowRequest, who: Kiosk, ctx: OptionalMember, svc: Svc
) -> dict[str, Any]:
    """Return a tool. Anyone may; a return by the borrower (their member session) is verified,
    anyone else's is recorded as unverified and the tool waits for staff to check it."""
    actor = ctx.member.label if ctx else who.actor
    on_finish = svc.end_member_session_when_done(ctx.token) if ctx else []
    flow = await svc.lending.return_tool(
        body.tool_id, actor, on_finish, member_id=ctx.member.id if ctx else None
    )
    return flow.started_view()


@router.get("/loans", response_model=list[LoanView], responses=refusals())
async def list_loans(
    _: StaffOrCentral,
    svc: Svc,
    open: Annotated[bool, Query(description="Only loans not yet returned")] = True,
) -> list[Loan]:
    return await svc.lending.loans(open_only=open)


@router.get("/loans/overdue", response_model=list[LoanView], responses=refusals())
async def overdue_loans(_: StaffOrCentral, svc: Svc) -> list[Loan]:
    return await svc.lending.overdue()
