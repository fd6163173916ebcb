"""The core API over real HTTP: authentication, roles, validation, paging and the live stream."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import websockets

from drivers.lockboard import serial_bus
from station.api.app import _opened_locker
from station.telemetry.service import software_version
from tests.simstation import TOKENS, running_station, sim_config_data

ROUTES = [
    ("GET", "/api/v1/lockers", None),
    ("GET", "/api/v1/lockers/A01", None),
    ("POST", "/api/v1/lockers/A01/open", {"reason": "test"}),
    ("POST", "/api/v1/lockers/A01/release", {"note": "ok"}),
    ("GET", "/api/v1/alarms", None),
    ("POST", "/api/v1/alarms/1/ack", {}),
    ("GET", "/api/v1/events", None),
]


@pytest.fixture
async def station(tmp_path: Path):
    async with running_station(sim_config_data(tmp_path)) as st:
        yield st


async def test_health_needs_no_token(station) -> None:
    async with station.client() as c:
        r = await c.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {
        "status": "ok",
        "station": "TEST-0001",
        "boards_online": 1,
        "boards_total": 1,
        "version": software_version(),
        "quiet": True,
    }


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
async def test_missing_or_wrong_token_is_401(station, method, path, body) -> None:
    async with station.client() as c:
        r = await c.request(method, path, json=body)
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == "Bearer"
        r = await c.request(method, path, json=body, headers={"Authorization": "Bearer nope"})
        assert r.status_code == 401
        r = await c.request(method, path, json=body, headers={"Authorization": "Basic abc"})
        assert r.status_code == 401


@pytest.mark.parametrize(
    ("role", "method", "path", "body"),
    [
        ("kiosk", "POST", "/api/v1/lockers/A01/open", {"reason": "test"}),
        ("central", "POST", "/api/v1/lockers/A01/open", {"reason": "test"}),
        ("kiosk", "POST", "/api/v1/alarms/1/ack", {}),
        ("kiosk", "GET", "/api/v1/events", None),
        ("central", "POST", "/api/v1/lockers/A01/release", {"note": "ok"}),
    ],
)
async def test_role_without_the_right_is_403(station, role, method, path, body) -> None:
    async with station.client(role) as c:
        r = await c.request(method, path, json=body)
    assert r.status_code == 403
    assert f"role '{role}' may not do this" in r.json()["detail"]
    assert station.sim.unlocks(1) == 0


async def test_validation_errors_are_422_with_a_message(station) -> None:
    async with station.client("staff") as c:
        r = await c.post("/api/v1/lockers/A01/open", json={})
        assert r.status_code == 422
        assert r.json()["detail"] == "reason: Field required"
        r = await c.post("/api/v1/lockers/A01/open", json={"reason": "x"})
        assert r.status_code == 422 and "reason" in r.json()["detail"]
        r = await c.post("/api/v1/lockers/A01/open", json={"reason": "ok ok", "extra": 1})
        assert r.status_code == 422 and "extra" in r.json()["detail"]
        r = await c.post(
            "/api/v1/lockers/A01/open",
            content=b"{not json",
            headers={"Content-Type": "application/json"},
        )
        assert r.status_code == 422
        r = await c.get("/api/v1/events", params={"limit": 0})
        assert r.status_code == 422 and "limit" in r.json()["detail"]
        r = await c.post("/api/v1/lockers/Z99/open", json={"reason": "test"})
        assert r.status_code == 404 and "Z99" in r.json()["detail"]
    assert station.sim.unlocks(1) == 0


async def test_an_open_request_leaves_no_hold_on_its_board_s_bus(station, monkeypatch) -> None:
    """Each open request is announced to its board's bus on arrival (reads not yet started
    wait for the unlock). Refused before the unlock (no token, the wrong role, a bad body) or
    done, it leaves the board's reads free: a leaked notice would hold the next one a minute."""
    monkeypatch.setattr(serial_bus, "URGENT_NOTICE_S", 60.0)
    board = next(iter(station.daemon.boards.drivers.values()))
    async with station.client() as anon, station.client("kiosk") as kiosk:
        assert (
            await anon.post("/api/v1/lockers/A01/open", json={"reason": "t"})
        ).status_code == 401
        assert (
            await kiosk.post("/api/v1/lockers/A01/open", json={"reason": "test"})
        ).status_code == 403
    async with station.client("staff") as c:
        assert (await c.post("/api/v1/lockers/A01/open", json={})).status_code == 422
        assert (await asyncio.wait_for(board.read_status(), 10)).doors[1] is not None
        assert (
            await c.post("/api/v1/lockers/A01/open", json={"reason": "test"})
        ).status_code == 200
    assert (await asyncio.wait_for(board.read_status(), 10)).doors[1] is not None
    assert station.sim.unlocks(1) == 1


def test_only_a_locker_s_open_route_is_announced() -> None:
    def scope(method: str, path: str, kind: str = "http") -> dict:
        return {"type": kind, "method": method, "path": path}

    assert _opened_locker(scope("POST", "/api/v1/lockers/A01/open")) == "A01"
    assert _opened_locker(scope("GET", "/api/v1/lockers/A01/open")) is None
    assert _opened_locker(scope("POST", "/api/v1/lockers/A01/release")) is None
    assert _opened_locker(scope("POST", "/api/v1/lockers//open")) is None
    assert _opened_locker(scope("POST", "/api/v1/lockers/A/B/open")) is None
    assert _opened_locker({"type": "websocket", "path": "/api/v1/stream"}) is None


async def test_oversized_body_is_413(station) -> None:
    async with station.client("staff") as c:
        r = await c.post("/api/v1/lockers/A01/open", json={"reason": "x" * 300_000})
    assert r.status_code == 413


async def test_events_page_by_page(station) -> None:
    async with station.client("staff") as c:
        seen: list[int] = []
        after = 0
        while True:
            page = (await c.get("/api/v1/events", params={"after": after, "limit": 5})).json()
            seen += [e["seq"] for e in page["events"]]
            after = page["next_after"]
            if not page["more"]:
                break
        assert seen == list(range(1, len(seen) + 1)) and len(seen) >= 17
        only = (await c.get("/api/v1/events", params={"type": "station_started"})).json()
        assert [e["type"] for e in only["events"]] == ["station_started"]
    async with station.client("central") as c:
        assert (await c.get("/api/v1/events")).status_code == 200


async def test_live_stream_carries_door_changes(station) -> None:
    url = station.url.replace("http://", "ws://") + "/api/v1/stream"
    with pytest.raises(websockets.exceptions.InvalidStatus):
        async with websockets.connect(url):
            pass
    async with websockets.connect(f"{url}?token={TOKENS['kiosk']}") as ws:
        first = json.loads(await ws.recv())
        assert first["kind"] == "snapshot" and len(first["lockers"]) == 16
        async with station.client("staff") as c:
            await c.post("/api/v1/lockers/A12/open", json={"reason": "stream test"})
        got: list[str] = []
        while "door_opened" not in got:
            msg = json.loads(await ws.recv())
            if msg["kind"] == "event" and msg["event"]["locker"] == "A12":
                got.append(msg["event"]["type"])
        assert got == ["door_unlocked", "door_opened"]


async def test_openapi_describes_every_route(station) -> None:
    async with station.client() as c:
        assert (await c.get("/openapi.json")).status_code == 401  # served like the API
    async with station.client("kiosk") as c:
        spec = (await c.get("/openapi.json")).json()
    paths = spec["paths"]
    for _, path, _ in ROUTES:
        template = path.replace("A01", "{locker_id}").replace("/1/", "/{alarm_id}/")
        assert template in paths, template
    assert "/healthz" in paths
    opened = paths["/api/v1/lockers/{locker_id}/open"]["post"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(opened["responses"])


async def test_stream_subscriber_leaves_when_client_closes(station) -> None:
    url = station.url.replace("http://", "ws://") + f"/api/v1/stream?token={TOKENS['staff']}"
    live = station.daemon.station.live
    async with websockets.connect(url) as ws:
        await ws.recv()
        assert live.subscribers == 1
    await station.wait_for(lambda: live.subscribers == 0)


async def test_domain_errors_answer_from_the_one_table(station) -> None:
    """Unknown locker 404, an alarm that does not exist 404, a faulty door 409: each from the
    table in station/api/errors.py, with the domain's own words."""
    from station.api.errors import ERROR_STATUS
    from station.doors.lockers import UnknownLocker

    assert ERROR_STATUS[UnknownLocker] == 404
    async with station.client("staff") as c:
        r = await c.get("/api/v1/lockers/Z99")
        assert r.status_code == 404 and "Z99" in r.json()["detail"]
        r = await c.post("/api/v1/lockers/Z99/open", json={"reason": "test"})
        assert r.status_code == 404
        r = await c.post("/api/v1/alarms/987654/ack", json={})
        assert r.status_code == 404 and "no alarm" in r.json()["detail"]


async def test_open_answer_never_calls_a_just_unlocked_door_closed(station) -> None:
    """The board has just fired: the answer says unknown (or open), never "closed"."""
    async with station.client("staff") as c:
        r = await c.post("/api/v1/lockers/A02/open", json={"reason": "look inside"})
        assert r.status_code == 200
        assert r.json()["door"] in ("open", "unknown")
