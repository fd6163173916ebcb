"""Notices from the central office, as the last good bundle carries them, for the Home screen."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from station.api.auth import Principal, require
from station.api.models import Problem
from wire.bundle import BundleNotice

router = APIRouter(tags=["notices"])


@router.get(
    "/api/v1/notices",
    response_model=list[BundleNotice],
    responses={401: {"model": Problem}, 403: {"model": Problem}},
)
async def notices(
    request: Request, _: Annotated[Principal, Depends(require("kiosk", "staff", "central"))]
) -> list[BundleNotice]:
    """Every notice of the bundle the station runs on; the screen shows those in their window.

    Empty until a bundle has been applied (a station that never reached central has none).
    """
    sync = request.app.state.station.sync
    bundle = sync.current_bundle() if sync is not None else None
    return list(bundle.notices) if bundle else []
