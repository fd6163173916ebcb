"""Every router of the station's API, in one list: a new service adds its router here."""

from __future__ import annotations

from fastapi import APIRouter

from station.api.routes.core import router as core
from station.api.routes.deposits import router as deposits
from station.api.routes.flows import router as flows
from station.api.routes.lending import router as lending
from station.api.routes.lostfound import router as lostfound
from station.api.routes.notices import router as notices
from station.api.routes.occupancy import router as occupancy
from station.api.routes.people import router as people
from station.api.routes.supplies import router as supplies
from station.api.routes.telemetry import router as telemetry

ROUTERS: tuple[APIRouter, ...] = (
    core,
    people,
    flows,
    lending,
    lostfound,
    deposits,
    supplies,
    occupancy,
    telemetry,
    notices,
)
"""What create_app includes, in this order (the OpenAPI description lists them so)."""
