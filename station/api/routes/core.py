"""Core routes: health, lockers, alarms, the usage log and the live stream."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, WebSocket
from starlette.websockets import WebSocketDisconnect

from station.api.auth import Principal, require, websocket_principal
from station.api.deps import ROW_MAX, RowId
from station.api.models import (
    AckRequest,
    Alarm,
    EventPage,
    Health,
    LockerView,
    OpenRequest,
    OpenResponse,
    Problem,
    ReleaseRequest,
    documented,
)
from station.live import view_of
from station.runtime import Station
from station.telemetry.service import software_version
from wire.event import WireEvent

router = APIRouter()
ANY_ROLE = ("kiosk", "staff", "central")
Staff = Annotated[Principal, Depends(require("staff"))]
Reader = Annotated[Principal, Depends(require(*ANY_ROLE))]
LogReader = Annotated[Principal, Depends(require("staff", "central"))]
ERRORS = {401: documented(Problem), 403: documented(Problem)}


def station_of(request: Request) -> Station:
    return request.app.state.station


@router.get("/healthz", response_model=Health, tags=["health"])
async def healthz(request: Request) -> Health:
    """Liveness for systemd, the kiosk and load balancers; needs no token."""
    st = station_of(request)
    online = sum(1 for b in st.config.boards if st.lockers.board_online(b.id))
    total = len(st.config.boards)
    doors = st.lockers.snapshot()
    busy = any(d["door"] == "open" or d["opening"] for d in doors) or st.services.flows.active()
    return Health(
        status="ok"
        if online == total and st.store.full_since is None and st.store.behind is None
        else "degraded",
        station=st.config.station.id,
        boards_online=online,
        boards_total=total,
        version=software_version(),
        quiet=not busy,
    )


@router.get("/api/v1/lockers", response_model=list[LockerView], responses=ERRORS, tags=["lockers"])
async def list_lockers(request: Request, _: Reader) -> list[dict]:
    """Every locker with its live door state (`unknown` when its board cannot say)."""
    return station_of(request).lockers.snapshot()


@router.get(
    "/api/v1/lockers/{locker_id}",
    response_model=LockerView,
    responses={**ERRORS, 404: documented(Problem)},
    tags=["lockers"],
)
async def get_locker(request: Request, locker_id: str, _: Reader) -> dict:
    return station_of(request).lockers.view(locker_id)


OPEN_PATH = "/api/v1/lockers/{locker_id}/open"
"""Staff's door opening: also what the app's outermost middleware watches for (UnlockNotice)."""


@router.post(
    OPEN_PATH,
    response_model=OpenResponse,
    responses={**ERRORS, 404: documented(Problem), 409: documented(Problem)},
    tags=["lockers"],
)
async def open_locker(
    request: Request, locker_id: str, body: OpenRequest, who: Staff
) -> OpenResponse:
    """Staff open a door. The reason and the caller go to the usage log before the unlock."""
    lockers = station_of(request).lockers
    result = await lockers.open_door(
        locker_id, actor=who.actor, reason=body.reason, allow_faulty=body.allow_faulty
    )
    # The board has just fired: a door not yet seen open is swinging, not "closed". Unseen is
    # unknown; the stream (or GET the locker) tells when it is seen open and closed again.
    door = "open" if lockers.door(locker_id) == "open" else "unknown"
    return OpenResponse(
        locker=result.locker, unlock_seq=result.unlock_seq, confirmed=result.confirmed, door=door
    )


@router.post(
    "/api/v1/lockers/{locker_id}/release",
    response_model=LockerView,
    responses={**ERRORS, 404: documented(Problem)},
    tags=["lockers"],
)
async def release_locker(
    request: Request, locker_id: str, body: ReleaseRequest, who: Staff
) -> dict:
    """Staff put a locker marked faulty back in service."""
    lockers = station_of(request).lockers
    await lockers.release(locker_id, actor=who.actor, note=body.note)
    return lockers.view(locker_id)


@router.get("/api/v1/alarms", response_model=list[Alarm], responses=ERRORS, tags=["alarms"])
async def list_alarms(
    request: Request,
    _: Reader,
    include_cleared: Annotated[bool, Query(description="Also list cleared alarms")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict]:
    return await station_of(request).alarms.list(include_cleared=include_cleared, limit=limit)


@router.post(
    "/api/v1/alarms/{alarm_id}/ack",
    response_model=Alarm,
    responses={**ERRORS, 404: documented(Problem), 409: documented(Problem)},
    tags=["alarms"],
)
async def ack_alarm(request: Request, alarm_id: RowId, body: AckRequest, who: Staff) -> dict:
    """Staff acknowledge an alarm; it clears by itself when its condition ends."""
    return await station_of(request).alarms.acknowledge(alarm_id, who.actor, body.note)


@router.get("/api/v1/events", response_model=EventPage, responses=ERRORS, tags=["usage log"])
async def list_events(
    request: Request,
    _: LogReader,
    after: Annotated[
        int, Query(ge=0, le=ROW_MAX, description="Return events with seq greater than this")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    type: Annotated[list[str] | None, Query(description="Only these event types")] = None,
) -> EventPage:
    """The usage log, oldest first, page by page."""
    store = station_of(request).store
    events = await asyncio.get_running_loop().run_in_executor(
        None, lambda: store.events_after(after, limit + 1, type or ())
    )
    more = len(events) > limit
    events = events[:limit]
    return EventPage(
        events=[WireEvent(**e.to_dict()) for e in events],
        next_after=events[-1].seq if events else after,
        more=more,
    )


@router.websocket("/api/v1/stream")
async def stream(ws: WebSocket) -> None:
    """Live door, alarm and occupancy changes: committed usage-log events, as JSON.

    Authenticate with `Authorization: Bearer` or `?token=`. The first message is a snapshot of
    the lockers, with `daemon`, an id of this daemon's run (a client that reconnects learns
    from it whether the daemon restarted), and `station`, the settings the screens show
    (`help_phone`; a `{"kind": "station", ...}` message follows a remote change); then one
    message per event (`{"kind": "event", "event": {...}}`). Staff and central get every
    event whole; the kiosk gets doors, occupancy and flows, and other events without actor or
    payload (station/live.py).
    """
    principal = websocket_principal(ws)
    if principal is None:
        await ws.close(code=4401, reason="missing or unknown token")
        return
    st: Station = ws.app.state.station
    queue, unsubscribe = st.live.subscribe(view_of(principal.role))
    await ws.accept()
    sender = asyncio.create_task(_send_all(ws, queue, st))
    try:
        # Reading is how a closed connection is noticed even when no event is flowing.
        while True:
            await ws.receive_text()
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
            await sender
        unsubscribe()


async def _send_all(ws: WebSocket, queue: asyncio.Queue[dict], st: Station) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        await ws.send_json(
            {
                "kind": "snapshot",
                "daemon": ws.app.state.instance,
                "station": st.live.facts,
                "lockers": st.lockers.snapshot(),
            }
        )
        while True:
            await ws.send_json(await queue.get())
