"""The office's alert routes: the alerts central tracks, and acknowledging one (no more
reminders). Office token only.

No `from __future__ import annotations` here: FastAPI must see the routes' dependency types
as objects.
"""

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path
from fastapi.concurrency import run_in_threadpool

from central.storage.base import Storage, TokenRecord


def install_alerts(
    app: FastAPI,
    storage: Storage,
    clock: Callable[[], float],
    office: Callable[..., Coroutine[Any, Any, TokenRecord]],
) -> None:
    router = APIRouter()
    Office = Annotated[TokenRecord, Depends(office)]

    @router.get("/api/v1/alerts", tags=["alerts"])
    async def alerts(_: Office, all: bool = False) -> dict[str, Any]:
        """Alerts sent to the office's channels: open ones (or all with ?all=true), newest
        first."""
        rows = await run_in_threadpool(storage.alerts, not all)
        return {"alerts": [a.to_dict() for a in rows]}

    @router.post("/api/v1/alerts/{alert_id}/ack", tags=["alerts"])
    async def acknowledge(
        _: Office, alert_id: Annotated[int, Path(ge=1, le=2**63 - 1)]
    ) -> dict[str, Any]:
        """Someone at the office has it in hand: no more reminders (it still clears by
        itself when its condition ends, with a message)."""
        found = await run_in_threadpool(storage.acknowledge_alert, alert_id, clock())
        if found is None:
            raise HTTPException(404, f"no alert {alert_id}: GET /api/v1/alerts lists them")
        return found.to_dict()

    app.include_router(router)
