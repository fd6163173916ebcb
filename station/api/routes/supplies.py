"""Supplies on the shelf: what is in stock for everyone, restocks and counts by staff."""

from __future__ import annotations

from fastapi import APIRouter

from station.api.deps import AnyRole, Staff, Svc, refusals
from station.api.models_services import CountRequest, RestockRequest, SupplyView
from station.services.supplies.records import Supply

router = APIRouter(prefix="/api/v1", tags=["supplies"])


@router.get("/supplies", response_model=list[SupplyView], responses=refusals())
async def list_supplies(_: AnyRole, svc: Svc) -> list[Supply]:
    return await svc.supplies.list()


@router.post("/supplies/{supply_id}/restock", response_model=SupplyView, responses=refusals(404))
async def restock(supply_id: str, body: RestockRequest, who: Staff, svc: Svc) -> Supply:
    return await svc.supplies.restock(supply_id, body.added, body.note, who.actor)


@router.post("/supplies/{supply_id}/count", response_model=SupplyView, responses=refusals(404))
async def count(supply_id: str, body: CountRequest, who: Staff, svc: Svc) -> Supply:
    """A stocktake: the count staff see on the shelf."""
    return await svc.supplies.count(supply_id, body.count, body.note, who.actor)
