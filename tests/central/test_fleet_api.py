"""The fleet API after several simulated stations synced to a real central server.

Three real daemons on simulated lock boards sync over HTTP to central on uvicorn: one with a
door forced open and water running low, one with a jammed door and an overdue drill, and one
that stops reporting. The office then asks central about the fleet.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from central.storage.base import Storage
from tests.central.fleetkit import LiveCentral, live_central, synced_station
from tests.promtool import promtool_check
from tests.station.conftest import channel

PHONE = "13900001111"


@pytest.fixture
def central(storage: Storage) -> Iterator[LiveCentral]:
    with live_central(storage, offline_after_s=3.0, sample_every_s=0) as c:
        yield c


async def until(check: Callable[[], Any], within: float = 20.0) -> Any:
    async with asyncio.timeout(within):
        while True:
            result = await check()
            if result:
                return result
            await asyncio.sleep(0.1)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_fleet_after_three_stations_synced(central: LiveCentral, tmp_path: Path) -> None:
    office = central.office()
    async with (
        synced_station(central, tmp_path, "EAST-01", "东门站") as east,
        synced_station(central, tmp_path, "WEST-02", "西门站") as west,
    ):
        async with synced_station(central, tmp_path, "NORTH-03", "北门站"):
            await until(lambda: _seen(office, "NORTH-03"))
        # EAST-01: a door forced open, water low
        east.sim.force_open(channel("A03"))
        staff = east.client(role="staff")
        r = await staff.post("/api/v1/supplies/water/count", json={"count": 2, "note": "count"})
        assert r.status_code == 200, r.text
        # WEST-02: a drill borrowed and now overdue, a jammed door
        await west.register(PHONE)
        await west.add_tool("DRILL-9", "A04")
        session = await west.identify(PHONE)
        r = await west.kiosk.post(
            "/api/v1/loans", json={"tool_id": "DRILL-9"}, headers={"X-Member-Session": session}
        )
        assert r.status_code == 202, r.text
        assert (await west.finish(r.json()))["state"] == "completed"
        await west.sweep(advance_s=3 * 86_400)
        west.sim.set_jammed(channel("A07"), True)
        r = await west.client(role="staff").post(
            "/api/v1/lockers/A07/open", json={"reason": "inspection"}
        )
        assert r.status_code == 200, r.text

        async def settled() -> dict | None:
            fleet = (await office.get("/api/v1/fleet")).json()
            rows = {s["id"]: s for s in fleet["stations"]}
            ready = (
                rows["EAST-01"]["alarms_open"] == 2
                and rows["WEST-02"]["loans_overdue"] == 1
                and rows["WEST-02"]["doors"]["faulty"] == 1
                and rows["NORTH-03"]["status"] == "offline"
            )
            return fleet if ready else None

        fleet = await until(settled)
        detail = (await office.get("/api/v1/fleet/stations/WEST-02")).json()
        alarms = (await office.get("/api/v1/fleet/alarms")).json()["alarms"]
        overdue = (await office.get("/api/v1/fleet/loans/overdue")).json()["loans"]
        low = (await office.get("/api/v1/fleet/supplies/low")).json()["supplies"]
        history = (await office.get("/api/v1/fleet/history", params={"days": 3})).json()
        metrics = await office.get("/metrics")
        west_acked = west.daemon.station.sync.cursor()

    rows = {s["id"]: s for s in fleet["stations"]}
    assert fleet["counts"] == {"online": 2, "offline": 1, "never": 0, "total": 3}
    east, west_row, north = rows["EAST-01"], rows["WEST-02"], rows["NORTH-03"]
    assert (east["status"], east["health"]) == ("online", "critical")
    assert east["name"] == "东门站" and east["open_doors"] == ["A03"]
    assert east["problems"][0] == {"level": "critical", "text": "door forced open (1)"}
    assert east["supplies_low"] == 1
    assert (west_row["status"], west_row["health"]) == ("online", "warning")
    assert west_row["loans_out"] == 1
    assert any("A07 (door_jammed)" in p["text"] for p in west_row["problems"])
    assert (north["status"], north["health"]) == ("offline", "critical")
    assert north["problems"][0]["text"].startswith("offline: last heard")
    assert all(r["disk_free_bytes"] and r["sync_lag_s"] is not None for r in rows.values())

    assert detail["summary"]["id"] == "WEST-02"
    assert detail["telemetry"]["tools"]["overdue_items"][0]["tool_id"] == "DRILL-9"
    assert detail["telemetry"]["sync"]["cursor"] > 0
    assert sum(detail["history"]["stations"]["WEST-02"]["loans_per_day"]) == 1
    # the drill's door; A07 opened "three days later" on the station's jumped clock, which is
    # after central's today and so outside the window
    assert sum(detail["history"]["stations"]["WEST-02"]["door_openings_per_day"]) == 1
    assert west_acked > 0

    got = {(a["station"], a["type"], a["subject"]) for a in alarms}
    assert {
        ("EAST-01", "forced_open", "A03"),
        ("EAST-01", "low_stock", "water"),
        ("WEST-02", "door_jammed", "A07"),
    } <= got
    assert [(o["station"], o["tool_id"], o["locker"]) for o in overdue] == [
        ("WEST-02", "DRILL-9", "A04")
    ]
    assert overdue[0]["overdue_s"] > 0
    assert not any("member" in key for o in overdue for key in o)
    assert [(s["station"], s["id"], s["count"]) for s in low] == [("EAST-01", "water", 2)]

    assert set(history["stations"]) == {"EAST-01", "WEST-02", "NORTH-03"}
    assert len(history["days"]) == 3
    assert sum(history["stations"]["WEST-02"]["loans_per_day"]) == 1
    assert sum(history["stations"]["EAST-01"]["alarms_per_day"]) >= 2
    lag = history["stations"]["EAST-01"]["sync_lag"]
    assert lag and all(len(point) == 2 for point in lag)

    assert metrics.status_code == 200
    promtool_check(metrics.text)
    m = samples(metrics.text)
    assert m[("central_station_up", (("station", "EAST-01"),))] == 1
    assert m[("central_station_up", (("station", "NORTH-03"),))] == 0
    assert m[("central_stations", (("status", "offline"),))] == 1
    key = ("central_station_alarms_open", (("station", "EAST-01"), ("type", "forced_open")))
    assert m[key] == 1
    assert m[("central_station_loans_overdue", (("station", "WEST-02"),))] == 1
    assert m[("central_station_supply_low", (("station", "EAST-01"), ("supply", "water")))] == 1
    assert m[("central_station_events_received_total", (("station", "WEST-02"),))] > 0
    assert PHONE not in metrics.text and "****" not in metrics.text
    await office.aclose()


async def _seen(office: httpx.AsyncClient, station: str) -> bool:
    fleet = (await office.get("/api/v1/fleet")).json()
    row = next(s for s in fleet["stations"] if s["id"] == station)
    return row["telemetry_at"] is not None


async def test_fleet_routes_need_the_office_token(central: LiveCentral) -> None:
    station_token = central.register("S9", "nine")
    async with httpx.AsyncClient(base_url=central.url) as c:
        for path in (
            "/api/v1/fleet",
            "/api/v1/fleet/alarms",
            "/metrics",
            "/api/v1/fleet/stations/S9",
            "/api/v1/fleet/history",
        ):
            assert (await c.get(path)).status_code == 401, path
            r = await c.get(path, headers={"Authorization": f"Bearer {station_token}"})
            assert r.status_code == 403, path
        office = {"Authorization": f"Bearer {central.office_token}"}
        r = await c.get("/api/v1/fleet/stations/NOPE", headers=office)
        assert r.status_code == 404 and "NOPE" in r.json()["detail"]
        r = await c.get("/api/v1/fleet/history", params={"days": 0}, headers=office)
        assert r.status_code == 422
        fleet = (await c.get("/api/v1/fleet", headers=office)).json()
        assert fleet["stations"][0]["status"] == "never"
        assert fleet["stations"][0]["problems"][0]["text"].startswith("never reported")
        # the dashboard's files hold no data and load without a token
        page = await c.get("/dashboard")
        assert page.status_code == 200 and "plotly.min.js" in page.text
        js = await c.get("/dashboard/vendor/plotly.min.js")
        assert js.status_code == 200 and len(js.content) > 1_000_000
        assert (await c.get("/dashboard/secrets.txt")).status_code == 404
