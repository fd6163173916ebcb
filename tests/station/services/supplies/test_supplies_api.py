"""Supplies over HTTP: counts, restocks, and the low-stock alarm for staff and central."""

from __future__ import annotations

from tests.station.conftest import STAFF_NO, Harness


def low_stock(h: Harness) -> list[dict]:
    return h.services.store.query(
        "SELECT subject, state FROM alarms WHERE type = 'low_stock' ORDER BY id"
    )


async def test_counts_restocks_and_the_low_stock_alarm(sim_station: Harness) -> None:
    h = sim_station
    supplies = (await h.kiosk.get("/api/v1/supplies")).json()
    assert [s["id"] for s in supplies] == ["water", "huoxiang", "balm", "wipes"]
    assert supplies[0]["count"] is None and supplies[0]["low"] is False
    assert low_stock(h) == []  # never counted: nothing to raise

    staff = await h.staff()
    r = await staff.post("/api/v1/supplies/water/count", json={"count": 5, "note": "stocktake"})
    assert r.json()["count"] == 5 and r.json()["low"] is True
    assert low_stock(h) == [{"subject": "water", "state": "raised"}]
    alarms = (await h.central.get("/api/v1/alarms")).json()
    assert "Drinking water (饮用水): 5 瓶 left" in alarms[0]["detail"]

    r = await staff.post("/api/v1/supplies/water/restock", json={"added": 24})
    assert r.json()["count"] == 29 and r.json()["low"] is False
    assert low_stock(h) == [{"subject": "water", "state": "cleared"}]
    log = await h.events("supply_counted", "supply_restocked")
    assert [(e["type"], e["actor"]) for e in log] == [
        ("supply_counted", f"staff:{STAFF_NO}"),
        ("supply_restocked", f"staff:{STAFF_NO}"),
    ]
    assert '"added":24' in log[1]["payload"] and '"count":29' in log[1]["payload"]


async def test_supply_refusals(sim_station: Harness) -> None:
    h = sim_station
    r = await h.kiosk.post("/api/v1/supplies/water/restock", json={"added": 5})
    assert r.status_code == 403
    staff = await h.staff()
    r = await staff.post("/api/v1/supplies/coffee/restock", json={"added": 5})
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = await staff.post("/api/v1/supplies/water/restock", json={"added": 0})
    assert r.status_code == 422
    r = await staff.post("/api/v1/supplies/water/count", json={"count": -1})
    assert r.status_code == 422


async def test_supplies_follow_the_config(sim_station_factory) -> None:
    supplies = [
        {"id": "water", "name": "水", "name_en": "Water", "threshold": 3},
        {"id": "masks", "name": "口罩", "name_en": "Masks", "unit": "个", "threshold": 20},
    ]
    async with sim_station_factory(services={"supplies": supplies}) as h:
        listed = (await h.kiosk.get("/api/v1/supplies")).json()
        assert [(s["id"], s["threshold"]) for s in listed] == [("water", 3), ("masks", 20)]
