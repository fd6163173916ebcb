"""Occupancy routes: the rest area's state for the touchscreen, relay overrides for staff."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from station.api.auth import Principal, require
from station.api.models import Problem, Strict, documented
from station.occupancy.tracker import OccupancyTracker

router = APIRouter(tags=["occupancy"])
ERRORS = {401: documented(Problem), 403: documented(Problem), 422: documented(Problem)}


class OverrideRequest(Strict):
    on: bool
    duration_s: float = Field(gt=0, description="How long the override lasts (capped by config)")
    reason: str = Field(min_length=2, max_length=200)


def _tracker(request: Request) -> OccupancyTracker:
    return request.app.state.station.occupancy


@router.get("/api/v1/occupancy", responses=ERRORS)
async def occupancy(
    request: Request, _: Annotated[Principal, Depends(require("kiosk", "staff", "central"))]
) -> dict[str, Any]:
    """Rest area `occupied`, `vacant` or `unknown` (a sensor silent), today's use, relays."""
    return _tracker(request).snapshot().to_dict()


@router.post("/api/v1/occupancy/relays/{relay}/override", responses=ERRORS)
async def set_override(
    request: Request,
    relay: str,
    body: OverrideRequest,
    who: Annotated[Principal, Depends(require("staff"))],
) -> dict[str, Any]:
    """Staff switch the fan or light by hand for a limited time; logged with the reason."""
    await _tracker(request).set_override(
        relay, body.on, actor=who.actor, reason=body.reason, duration_s=body.duration_s
    )
    return _tracker(request).snapshot().to_dict()


@router.delete("/api/v1/occupancy/relays/{relay}/override", responses=ERRORS)
async def clear_override(
    request: Request, relay: str, who: Annotated[Principal, Depends(require("staff"))]
) -> dict[str, Any]:
    """Hand the relay back to automatic control."""
    await _tracker(request).clear_override(relay, actor=who.actor)
    return _tracker(request).snapshot().to_dict()
