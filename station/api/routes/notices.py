"""Notices from the central office, as the last good bundle carries them, for the Home screen,
and how often the screen showed each (the office's promotions are paid for by showings).

The screen counts its showings itself and reports them in batches, so the usage log gets one
`notice_shown` event per batch (with its count), not one per turn of the strip.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from station.api.auth import Principal, require
from station.api.models import Problem, documented
from station.refusals import not_found
from station.store import Tx
from wire.bundle import BundleNotice

router = APIRouter(tags=["notices"])

MAX_SHOWN = 1000
"""Most showings one report may carry: the strip turns every few seconds, and the screen
reports every few minutes."""


class Shown(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: Annotated[int, Field(ge=1, le=MAX_SHOWN)]


def _notices(request: Request) -> list[BundleNotice]:
    station = request.app.state.station
    sync = station.sync
    bundle = sync.current_bundle() if sync is not None else None
    if bundle is None:
        return []
    here = station.config.station.id
    mine = [n for n in bundle.notices if n.shown_at(here)]
    return sorted(mine, key=lambda n: -n.priority)


@router.get(
    "/api/v1/notices",
    response_model=list[BundleNotice],
    responses={401: documented(Problem), 403: documented(Problem)},
)
async def notices(
    request: Request, _: Annotated[Principal, Depends(require("kiosk", "staff", "central"))]
) -> list[BundleNotice]:
    """The notices of the bundle the station runs on that are meant for this station, highest
    priority first; the screen shows those in their window.

    Empty until a bundle has been applied (a station that never reached central has none).
    """
    return _notices(request)


@router.post(
    "/api/v1/notices/{notice_id}/shown",
    status_code=204,
    responses={401: documented(Problem), 403: documented(Problem), 404: documented(Problem)},
)
async def shown(
    request: Request,
    notice_id: str,
    body: Shown,
    principal: Annotated[Principal, Depends(require("kiosk"))],
) -> None:
    """The screen showed this notice `count` times since its last report (logged as one
    `notice_shown` event, which central's reports count)."""
    if not any(n.id == notice_id for n in _notices(request)):
        raise not_found(f"notice {notice_id!r} shown at this station")
    payload = {"notice": notice_id, "count": body.count}

    def write(tx: Tx) -> None:
        tx.append("notice_shown", actor=principal.actor, payload=payload)

    await request.app.state.station.store.write(write)
