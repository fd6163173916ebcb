"""Following a door flow: poll (optionally waiting for a change) and answer its question."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from station.api.deps import Kiosk, KioskOrStaff, Svc, refusals
from station.api.models_services import AnswerRequest, FlowView

router = APIRouter(prefix="/api/v1", tags=["flows"])

MAX_WAIT_S = 25.0


@router.get("/flows/{flow_id}", response_model=FlowView, responses=refusals(404))
async def get_flow(
    flow_id: str,
    who: KioskOrStaff,
    svc: Svc,
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT_S, description="Hold up to this long")] = 0,
    state: Annotated[str | None, Query(description="Answer once the state differs")] = None,
) -> dict[str, Any]:
    """A flow's progress. With `wait` and `state`, answers as soon as the state changes.

    Secret results (a deposit's pickup code) are shown to the kiosk only.
    """
    flow = await svc.flows.wait(flow_id, state, wait)
    return flow.view(include_secrets=who.role == "kiosk")


@router.post("/flows/{flow_id}/answer", response_model=FlowView, responses=refusals(404, 409))
async def answer_flow(flow_id: str, body: AnswerRequest, _: Kiosk, svc: Svc) -> dict[str, Any]:
    """Answer the flow's question (a return: works / needs repair / parts missing)."""
    flow = await svc.flows.answer(flow_id, body.model_dump())
    return flow.view(include_secrets=True)
