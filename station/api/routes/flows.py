"""Following a door flow: poll (optionally waiting for a change) and answer its question."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query

from station.api.deps import Kiosk, KioskOrStaff, Svc, refusals
from station.api.models_services import AnswerRequest, FlowView
from station.refusals import Refusal

router = APIRouter(prefix="/api/v1", tags=["flows"])

MAX_WAIT_S = 25.0
FlowKey = Annotated[
    str | None,
    Header(max_length=64, description="The flow's `key`, from the POST that started it"),
]


@router.get("/flows/{flow_id}", response_model=FlowView, responses=refusals(404))
async def get_flow(
    flow_id: str,
    who: KioskOrStaff,
    svc: Svc,
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT_S, description="Hold up to this long")] = 0,
    state: Annotated[str | None, Query(description="Answer once the state differs")] = None,
    x_flow_key: FlowKey = None,
) -> dict[str, Any]:
    """A flow's progress. With `wait` and `state`, answers as soon as the state changes.

    A secret result (a deposit's pickup code) is sent once, to the caller sending the flow's
    `key` in `X-Flow-Key`, and never again; everybody else sees the flow without it.
    """
    flow = await svc.flows.wait(flow_id, state, wait)
    return flow.view_for(x_flow_key if who.role == "kiosk" else None)


@router.post("/flows/{flow_id}/answer", response_model=FlowView, responses=refusals(404, 409))
async def answer_flow(
    flow_id: str, body: AnswerRequest, _: Kiosk, svc: Svc, x_flow_key: FlowKey = None
) -> dict[str, Any]:
    """Answer the flow's question (a return: works / needs repair / parts missing). Only the
    screen that started the flow may answer: send its `key` in `X-Flow-Key`."""
    flow = svc.flows.get(flow_id)
    if not flow.holds(x_flow_key):
        raise Refusal(
            "denied", "not_your_flow", "only the screen that started this flow may answer it"
        )
    flow = await svc.flows.answer(flow_id, body.model_dump())
    return flow.view_for(x_flow_key)
