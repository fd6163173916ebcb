"""Bad input to the services API is a clear 4xx, never a 500 and never echoed."""

from __future__ import annotations

import json

import pytest

from tests.station.conftest import Harness


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/found", {"category": "keys", "colour": "\ud800", "place": "公园"}),
        ("POST", "/api/v1/found/F0001/claims", {"phone": "13812345678", "description": "\udfff!"}),
    ],
)
async def test_text_sqlite_cannot_store_is_refused(
    sim_station: Harness, method: str, path: str, body: dict
) -> None:
    # JSON can carry a lone surrogate as an escape; UTF-8 (and so SQLite) cannot: pydantic
    # refuses it before it reaches a service
    r = await sim_station.kiosk.request(
        method, path, content=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 422
    assert "unicode" in r.json()["detail"]
    assert sim_station.sim.unlocks() == 0


async def test_huge_and_negative_row_numbers_are_422(sim_station: Harness) -> None:
    staff = await sim_station.staff()
    for claim_id in ("99999999999999999999999", "0", "-4"):
        r = await staff.post(f"/api/v1/claims/{claim_id}/approve", json={})
        assert r.status_code == 422, claim_id
    r = await staff.post("/api/v1/deposits/12345678901234567890123/clear", json={"reason": "xx"})
    assert r.status_code == 422
    r = await staff.post("/api/v1/claims/77/approve", json={})
    assert r.status_code == 404 and r.json() == {"detail": "no claim 77", "code": "not_found"}


async def test_unknown_fields_and_wrong_types(sim_station: Harness) -> None:
    r = await sim_station.kiosk.post("/api/v1/deposits", json={"kind": "bag", "extra": 1})
    assert r.status_code == 422 and "extra" in r.json()["detail"]
    r = await sim_station.kiosk.post("/api/v1/deposits", json={"kind": "suitcase"})
    assert r.status_code == 422
    r = await sim_station.kiosk.post("/api/v1/pickups", json={"locker": "A14", "code": "12ab56"})
    assert r.status_code == 422 and "12ab56" not in r.text
    r = await sim_station.kiosk.get("/api/v1/flows/nope")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = await sim_station.kiosk.get("/api/v1/flows/nope", params={"wait": 99, "state": "open"})
    assert r.status_code == 422
