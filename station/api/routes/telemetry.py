"""Telemetry routes: the JSON snapshot for the office and staff, /metrics for Prometheus.

/metrics takes a bearer token like every other route but /healthz: Prometheus sends one from
`authorization: {credentials_file: ...}` in its scrape config (deploy/prometheus/). The door
states and alarms it reveals are not for anyone on the street's Wi-Fi.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from station.api.auth import Principal, require
from station.api.models import Problem, documented
from station.runtime import Station
from station.telemetry.metrics import station_registry

router = APIRouter(tags=["telemetry"])
ERRORS = {401: documented(Problem), 403: documented(Problem)}


def _registry(request: Request) -> CollectorRegistry:
    state = request.app.state
    registry = getattr(state, "metrics_registry", None)
    if registry is None:
        station: Station = state.station
        registry = station_registry(lambda: station.telemetry)
        state.metrics_registry = registry
    return registry


@router.get("/api/v1/telemetry", responses=ERRORS)
async def telemetry(
    request: Request, _: Annotated[Principal, Depends(require("central", "staff"))]
) -> dict[str, Any]:
    """Doors, alarms, the rest area, tools, lost items, supplies, sync and the Pi's health."""
    return request.app.state.station.telemetry.snapshot()


@router.get(
    "/metrics",
    responses=ERRORS | {200: {"content": {CONTENT_TYPE_LATEST: {}}}},
    response_class=Response,
)
async def metrics(
    request: Request, _: Annotated[Principal, Depends(require("central"))]
) -> Response:
    """The same snapshot in Prometheus' text format (station_* series)."""
    return Response(generate_latest(_registry(request)), media_type=CONTENT_TYPE_LATEST)
