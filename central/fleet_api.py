"""The office's fleet API, central's /metrics, and the fleet dashboard page.

Every data route takes an office token. The dashboard's HTML, script and the charting library
hold no data and are served without one; the page asks for the office token once, keeps it in
the browser tab's sessionStorage, and sends it as a bearer token to the fleet API. The charting
library (plotly.js) is the copy inside the installed `plotly` package: nothing is fetched from
the internet and nothing is vendored into this repository.

No `from __future__ import annotations` here: the routes' dependency types are local to
install_fleet(), and FastAPI must see them as objects, not as names to look up later.
"""

import importlib.util
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from central.fleet import Fleet
from central.metrics import central_registry
from central.storage.base import TokenRecord
from wire.batch import StationId

STATIC = Path(__file__).parent / "static"
ASSETS = {
    "dashboard.js": "text/javascript",
    "office.js": "text/javascript",
    "reports.js": "text/javascript",
    "dashboard.css": "text/css",
}
_CACHE = {"Cache-Control": "public, max-age=3600"}
PAGE_HEADERS = {
    # Scripts and data only from central itself; no page may frame the dashboard (a hidden
    # frame on another site cannot click the office's buttons). Plotly adds inline styles,
    # and its bundle builds a function from text (no inline or foreign script is allowed).
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def plotly_js() -> Path | None:
    """plotly.min.js as the installed `plotly` wheel ships it (found without importing plotly)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        path = Path(root) / "package_data" / "plotly.min.js"
        if path.is_file():
            return path
    return None


def install_fleet(
    app: FastAPI,
    fleet: Fleet,
    office: Callable[..., Coroutine[Any, Any, TokenRecord]],
) -> None:
    """Add the fleet routes to central's app; `office` is its office-token dependency."""
    app.state.fleet = fleet
    registry = central_registry(fleet)
    router = APIRouter()
    Office = Annotated[TokenRecord, Depends(office)]
    Days = Annotated[int, Query(ge=1, le=92, description="Local days of history")]

    @router.get("/api/v1/fleet", tags=["fleet"])
    async def overview(_: Office) -> dict[str, Any]:
        """Every station: online/offline, health, what needs attention, key numbers."""
        return await run_in_threadpool(fleet.overview)

    @router.get("/api/v1/fleet/stations/{station_id}", tags=["fleet"])
    async def station(_: Office, station_id: StationId, days: Days = 7) -> dict[str, Any]:
        """One station: its summary, latest full snapshot and history."""
        found = await run_in_threadpool(fleet.station, station_id, days)
        if found is None:
            raise HTTPException(404, f"no station {station_id} is registered")
        return found

    @router.get("/api/v1/fleet/alarms", tags=["fleet"])
    async def alarms(_: Office) -> dict[str, Any]:
        """Open alarms across the fleet, newest first."""
        return {"alarms": await run_in_threadpool(fleet.alarms)}

    @router.get("/api/v1/fleet/loans/overdue", tags=["fleet"])
    async def overdue(_: Office) -> dict[str, Any]:
        """Overdue tool loans across the fleet (tool and locker; never the borrower)."""
        return {"loans": await run_in_threadpool(fleet.overdue_loans)}

    @router.get("/api/v1/fleet/supplies/low", tags=["fleet"])
    async def low_supplies(_: Office) -> dict[str, Any]:
        """Supplies at or below their restock threshold, per station."""
        return {"supplies": await run_in_threadpool(fleet.low_supplies)}

    @router.get("/api/v1/fleet/history", tags=["fleet"])
    async def history(
        _: Office, days: Days = 7, station: StationId | None = None
    ) -> dict[str, Any]:
        """Occupancy by hour of day, loans/returns/alarms per day, sync lag over 24 h."""
        return await run_in_threadpool(fleet.history, days, station)

    @router.get(
        "/metrics",
        tags=["fleet"],
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
    )
    async def metrics(_: Office) -> Response:
        """Per-station series for the office's Prometheus (central_station_*)."""
        body = await run_in_threadpool(generate_latest, registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    @router.get("/dashboard", include_in_schema=False)
    async def dashboard() -> FileResponse:
        return FileResponse(STATIC / "dashboard.html", media_type="text/html", headers=PAGE_HEADERS)

    @router.get("/dashboard/reports", include_in_schema=False)
    async def reports_page() -> FileResponse:
        return FileResponse(STATIC / "reports.html", media_type="text/html", headers=PAGE_HEADERS)

    @router.get("/dashboard/vendor/plotly.min.js", include_in_schema=False)
    async def plotly() -> FileResponse:
        path = plotly_js()
        if path is None:
            raise HTTPException(
                503,
                "the dashboard's charting library is missing: pip install the project "
                "again (it depends on the 'plotly' package, which ships plotly.min.js)",
            )
        return FileResponse(path, media_type="text/javascript", headers=_CACHE)

    @router.get("/dashboard/{asset}", include_in_schema=False)
    async def asset(asset: str) -> FileResponse:
        if asset not in ASSETS:
            raise HTTPException(404, f"no dashboard file {asset!r}")
        return FileResponse(STATIC / asset, media_type=ASSETS[asset])

    app.include_router(router)
