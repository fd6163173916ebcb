"""The services' part of the API: their routers and the staff-session token resolver."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from station.api.auth import Authenticator, Principal
from station.api.routes_flows import router as flows_router
from station.api.routes_lending import router as lending_router
from station.api.routes_lostfound import router as lostfound_router
from station.api.routes_people import router as people_router
from station.api.routes_storage import router as storage_router
from station.api.routes_supplies import router as supplies_router
from station.services import Services

SERVICE_ROUTERS: tuple[APIRouter, ...] = (
    people_router,
    flows_router,
    lending_router,
    lostfound_router,
    storage_router,
    supplies_router,
)
"""Pass to create_app(station, extra_routers=SERVICE_ROUTERS)."""


def install_services(app: FastAPI, services: Services) -> None:
    """Let staff login sessions act as staff bearer tokens (each use keeps them alive)."""
    auth: Authenticator = app.state.auth

    def resolve(token: str) -> Principal | None:
        session = services.staff.session(token)
        return Principal(role="staff", name=session.subject) if session else None

    auth.add_resolver(resolve)
