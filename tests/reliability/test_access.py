"""Who may call what: every route of the station daemon and of central, walked from OpenAPI.

The station part sends each route no token, a made-up token and each role's token, with path
parameters that name nothing (so an admitted request changes nothing), and compares who got in
with the access table below: a new route, or a route whose roles changed, fails here until the
table says so on purpose. Central's part walks its routes the same way and attacks sync: another
station's events, replayed batches (again, and an old one after later ones), a reused seq.

Already covered elsewhere, not repeated: central refusing a station token writing another
station's events, an office token ingesting, a revoked token and a station reading the office
event query (tests/central/test_central_api.py::test_auth_refusals); the same batch sent twice
(::test_ingest_gzip_and_plain_idempotent); a station whose token was revoked keeping its events
(tests/station/sync/test_sync_faults.py).
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from central.auth import new_token, token_hash
from central.storage.sqlite import SQLiteStorage
from tests.central.fleetkit import LiveCentral, live_central
from tests.reliability.attackkit import Route, call, role_refused, routes_of
from tests.reliability.report import record
from tests.simstation import TOKENS
from tests.station.conftest import PIN, Harness, services_config, start_harness

K, S, C = "kiosk", "staff", "central"
STATION_ACCESS: dict[str, set[str]] = {
    "GET /healthz": {K, S, C},
    "GET /api/v1/lockers": {K, S, C},
    "GET /api/v1/lockers/{locker_id}": {K, S, C},
    "POST /api/v1/lockers/{locker_id}/open": {S},
    "POST /api/v1/lockers/{locker_id}/release": {S},
    "GET /api/v1/alarms": {K, S, C},
    "POST /api/v1/alarms/{alarm_id}/ack": {S},
    "GET /api/v1/events": {S, C},
    "POST /api/v1/members/identify": {K},
    "GET /api/v1/members/me": {K},
    "POST /api/v1/members/logout": {K},
    "POST /api/v1/members": {S},
    "POST /api/v1/members/lookup": {S},
    "PATCH /api/v1/members/{member_id}": {S},
    "POST /api/v1/members/{member_id}/pin": {S},
    "POST /api/v1/members/{member_id}/unlock": {S},
    "DELETE /api/v1/members/{member_id}/cards": {S},
    "POST /api/v1/members/{member_id}/cards/read": {S},
    "POST /api/v1/cards/identify": {K},
    "POST /api/v1/cards/cancel": {K},
    "POST /api/v1/members/me/pin": {K},
    "POST /api/v1/staff/login": {K, S},
    "GET /api/v1/staff/me": {S},
    "POST /api/v1/staff/logout": {S},
    "GET /api/v1/staff": {S},
    "POST /api/v1/staff": {S},
    "GET /api/v1/staff/{staff_no}/cards": {S},
    "POST /api/v1/staff/{staff_no}/cards/read": {S},
    "DELETE /api/v1/staff/{staff_no}/cards": {S},
    "GET /api/v1/throttles": {S},
    "POST /api/v1/throttles/{kind}/release": {S},
    "GET /api/v1/flows/{flow_id}": {K, S},
    "POST /api/v1/flows/{flow_id}/answer": {K},
    "GET /api/v1/tools": {K, S, C},
    "POST /api/v1/tools": {S},
    "GET /api/v1/tools/{tool_id}": {K, S, C},
    "PATCH /api/v1/tools/{tool_id}": {S},
    "POST /api/v1/tools/{tool_id}/assign": {S},
    "POST /api/v1/tools/{tool_id}/restock": {S},
    "POST /api/v1/tools/{tool_id}/repaired": {S},
    "POST /api/v1/tools/{tool_id}/missing": {S},
    "POST /api/v1/tools/{tool_id}/retire": {S},
    "POST /api/v1/tools/{tool_id}/approvals": {S},
    "POST /api/v1/loans": {K},
    "GET /api/v1/loans": {S, C},
    "POST /api/v1/returns": {K},
    "GET /api/v1/loans/overdue": {S, C},
    "GET /api/v1/found/options": {K, S, C},
    "POST /api/v1/found": {K},
    "GET /api/v1/found": {K, S, C},
    "GET /api/v1/found/valuables": {S},
    "GET /api/v1/found/expired": {S},
    "GET /api/v1/found/{number}": {K, S, C},
    "GET /api/v1/found/{number}/record": {S},
    "POST /api/v1/found/{number}/claims": {K},
    "POST /api/v1/found/{number}/collect": {S},
    "POST /api/v1/found/{number}/remove": {S},
    "GET /api/v1/claims": {S},
    "POST /api/v1/claims/{claim_id}/approve": {S},
    "POST /api/v1/claims/{claim_id}/reject": {S},
    "POST /api/v1/deposits": {K},
    "GET /api/v1/deposits": {S},
    "GET /api/v1/deposits/overtime": {S, C},
    "POST /api/v1/deposits/{deposit_id}/clear": {S},
    "GET /api/v1/pickups/lockers": {K},
    "POST /api/v1/pickups": {K},
    "GET /api/v1/pickups": {S},
    "POST /api/v1/pickups/{locker_id}/reissue": {S},
    "GET /api/v1/supplies": {K, S, C},
    "POST /api/v1/supplies/{supply_id}/restock": {S},
    "POST /api/v1/supplies/{supply_id}/count": {S},
    "GET /api/v1/occupancy": {K, S, C},
    "POST /api/v1/occupancy/relays/{relay}/override": {S},
    "DELETE /api/v1/occupancy/relays/{relay}/override": {S},
    "GET /api/v1/telemetry": {S, C},
    "GET /metrics": {C},
    "GET /api/v1/notices": {K, S, C},
    "POST /api/v1/notices/{notice_id}/shown": {K},
}
"""The designed roles of every route: the kiosk runs flows and reads what the screen shows,
staff manage, central only reads. Changing a route's roles means changing this table."""
PUBLIC = {"GET /healthz"}
STAFF_ONLY_FLOOR = 30
"""The walker must find at least this many staff-only routes, so it cannot pass vacuously."""


async def station_spec(h: Harness) -> list[Route]:
    spec = (await h.kiosk.get("/openapi.json")).json()
    return routes_of(spec)


async def test_every_station_route_admits_exactly_its_roles(tmp_path: Path) -> None:
    async with start_harness(services_config(tmp_path)) as h:
        routes = await station_spec(h)
        assert {str(r) for r in routes} == set(STATION_ACCESS), "update the access table"
        login = await h.staff()  # a staff login session is a staff token too
        session = login.headers["authorization"].removeprefix("Bearer ")
        client = h.client()
        refused = 0
        for route in routes:
            expected = STATION_ACCESS[str(route)]
            for token in (None, "not-a-token", "Bearer-looking-but-unknown-0000000000"):
                r = await call(client, route, token)
                if str(route) in PUBLIC:
                    assert r.status_code == 200, (route, r.text)
                    continue
                assert r.status_code == 401, (route, token, r.text)
                assert r.headers["www-authenticate"] == "Bearer"
                refused += 1
            admitted = set()
            for role in (K, S, C):
                r = await call(client, route, TOKENS[role])
                assert r.status_code < 500, (route, role, r.text)
                if role_refused(r):
                    assert r.status_code == 403, (route, role, r.text)
                    detail = r.json()["detail"]
                    assert f"role '{role}' may not do this; needs " in detail, detail
                    refused += 1
                else:
                    admitted.add(role)
            assert admitted == expected, (str(route), admitted)
            if route.method == "POST" and route.path == "/api/v1/staff/logout":
                continue  # the session's own end; tried last, below
            r = await call(client, route, session)
            assert not role_refused(r) if S in expected else role_refused(r), (route, r.text)
        staff_only = [r for r in routes if STATION_ACCESS[str(r)] == {S}]
        assert len(staff_only) >= STAFF_ONLY_FLOOR, len(staff_only)
        central_writes = [r for r in routes if C in STATION_ACCESS[str(r)] and r.method != "GET"]
        assert central_writes == [], "central may only read a station"
        record("attacks_refused", refused)


async def test_the_api_description_needs_a_token_and_holds_no_data(tmp_path: Path) -> None:
    """/openapi.json is served like the API itself; no interactive pages that would fetch it
    without a token."""
    async with start_harness(services_config(tmp_path)) as h:
        await h.register("13812345678")
        anonymous = h.client()
        r = await anonymous.get("/openapi.json")
        assert r.status_code == 401 and "Bearer" in r.json()["detail"]
        for path in ("/docs", "/redoc"):
            assert (await anonymous.get(path)).status_code == 404, path
        r = await h.kiosk.get("/openapi.json")
        assert r.status_code == 200 and "/api/v1/lockers" in r.json()["paths"]
        assert "13812345678" not in r.text
        assert not [t for t in TOKENS.values() if t in r.text]


async def test_a_staff_session_ends_when_idle_everywhere(tmp_path: Path) -> None:
    async with start_harness(services_config(tmp_path)) as h:
        staff = await h.staff()
        routes = [
            r for r in await station_spec(h) if S in STATION_ACCESS[str(r)] and str(r) not in PUBLIC
        ]
        assert (await staff.get("/api/v1/staff/me")).status_code == 200
        idle = h.services.staff.sessions.idle_s
        h.clock.advance(idle - 1)  # just in time: a request keeps it alive
        assert (await staff.get("/api/v1/staff/me")).status_code == 200
        h.clock.advance(idle)
        token = staff.headers["authorization"].removeprefix("Bearer ")
        client = h.client()
        for route in routes:
            r = await call(client, route, token)
            assert r.status_code == 401 and "expired" in r.json()["detail"], (route, r.text)
        await h.sweep()
        assert [e["actor"] for e in await h.events("staff_session_expired")] == ["system"]
        record("attacks_refused", len(routes))


async def test_a_member_session_acts_only_for_its_member(tmp_path: Path) -> None:
    async with start_harness(services_config(tmp_path)) as h:
        alice = await h.register("13812345678")
        bob = await h.register("13900001111")
        a = await h.identify("13812345678")
        b = await h.identify("13900001111")
        me = await h.kiosk.get("/api/v1/members/me", headers={"X-Member-Session": a})
        assert me.json()["member_id"] == alice["member_id"]
        refused = 0
        # a member session is not a bearer token, and a bearer token is not a member session
        for token in (a, b):
            r = await h.client(token=token).get("/api/v1/members/me")
            assert r.status_code == 401
            refused += 1
        for forged in (TOKENS[K], TOKENS[S], a[:-1] + ("x" if a[-1] != "x" else "y"), ""):
            r = await h.kiosk.get("/api/v1/members/me", headers={"X-Member-Session": forged})
            assert r.status_code == 401 and r.json()["code"] == "member_session_expired"
            refused += 1
        # staff routes that name a member cannot be reached with a member's session
        suspend = {"status": "suspended", "reason": "x1"}
        for method, path, body in (
            ("PATCH", f"/api/v1/members/{bob['member_id']}", suspend),
            ("POST", f"/api/v1/members/{bob['member_id']}/pin", {"pin": "385720"}),
        ):
            r = await h.kiosk.request(method, path, json=body, headers={"X-Member-Session": a})
            assert r.status_code == 403, r.text
            refused += 1
        # one member ending their session does not end another's
        await h.kiosk.post("/api/v1/members/logout", headers={"X-Member-Session": a})
        r = await h.kiosk.get("/api/v1/members/me", headers={"X-Member-Session": a})
        assert r.status_code == 401
        r = await h.kiosk.get("/api/v1/members/me", headers={"X-Member-Session": b})
        assert r.json()["member_id"] == bob["member_id"]
        # and a member session ends when idle
        h.clock.advance(h.services.members.sessions.idle_s)
        r = await h.kiosk.get("/api/v1/members/me", headers={"X-Member-Session": b})
        assert r.status_code == 401
        assert (await h.identify("13900001111", PIN)) != b
        record("attacks_refused", refused + 2)


async def test_the_stream_needs_a_known_token(tmp_path: Path) -> None:
    async with start_harness(services_config(tmp_path)) as h:
        base = h.station.url.replace("http://", "ws://") + "/api/v1/stream"
        for url in (base, base + "?token=not-a-token"):
            # refused during the handshake (HTTP 403): not one message, not even the snapshot
            with pytest.raises(websockets.InvalidStatus) as refused:
                async with websockets.connect(url) as ws:
                    await ws.recv()
            assert refused.value.response.status_code == 403
        for role in (K, S, C):
            async with websockets.connect(f"{base}?token={TOKENS[role]}") as ws:
                assert json.loads(await ws.recv())["kind"] == "snapshot"
        record("attacks_refused", 2)


STREAM_ACCESS: dict[str, dict[str, bool]] = {
    K: {"door states": True, "occupancy": True, "flows": True, "actors": False, "payloads": False},
    S: {"door states": True, "occupancy": True, "flows": True, "actors": True, "payloads": True},
    C: {"door states": True, "occupancy": True, "flows": True, "actors": True, "payloads": True},
}
"""What the live stream gives each role (issue 18, finding 6): the kiosk, which may not read the
usage log, sees doors, occupancy and flows, never who did what or why."""


async def test_the_live_stream_gives_each_role_only_what_its_row_says(tmp_path: Path) -> None:
    from tests.reliability.test_kiosk_street import VICTIM, deposit, stream

    async with start_harness(services_config(tmp_path)) as h:
        await h.register(VICTIM, kind="courier")
        async with stream(h, K) as kiosk, stream(h, S) as staff_seen, stream(h, C) as office:
            staff = await h.staff()
            r = await staff.post("/api/v1/lockers/A02/open", json={"reason": "restock drills"})
            assert r.status_code == 200, r.text
            opened = "SELECT 1 FROM events WHERE type = 'door_opened' AND locker = 'A02'"
            await h.station.wait_for(lambda: bool(h.services.store.query(opened)), within=10)
            done = await deposit(h)
            # This station has no radar: an occupancy change as the daemon publishes one.
            h.daemon.station.live.publish({"kind": "occupancy", "occupancy": {"state": "free"}})
        code = done["result"]["code"]
        for role, seen in ((K, kiosk), (S, staff_seen), (C, office)):
            text = json.dumps(seen, ensure_ascii=False)
            events = [m["event"] for m in seen if m["kind"] == "event"]
            got = {
                "door states": any(e["type"] == "door_opened" for e in events),
                "occupancy": any(m["kind"] == "occupancy" for m in seen),
                "flows": any(m["kind"] == "flow" and m["flow"]["id"] == done["id"] for m in seen),
                "actors": "staff:" in text and "member:" in text,
                "payloads": "restock drills" in text,
            }
            assert got == STREAM_ACCESS[role], role
            assert code not in text, role  # a secret result never goes over the stream
            if not STREAM_ACCESS[role]["actors"]:
                assert all(e["actor"] is None and e["payload"] == {} for e in events)
        record("attacks_refused", 2)


# --- central ----------------------------------------------------------------------------------


STATION_ROUTES = {
    "POST /api/v1/ingest",
    "GET /api/v1/bundle",
    "GET /api/v1/station/commands",
    "POST /api/v1/station/commands/results",
    "PUT /api/v1/station/backup",
    "GET /api/v1/station/backup/latest",
    "GET /api/v1/station/events",
    "GET /api/v1/station/release",
    "GET /api/v1/station/releases/{version}/files/{name}",
    "POST /api/v1/station/update-report",
}
"""What only a station's own token may call: the sync exchange, its commands, backups and
software updates."""
CENTRAL_PUBLIC = {"GET /healthz"}
OFFICE_FLOOR = 8


@pytest.fixture
def central(tmp_path: Path) -> Iterator[LiveCentral]:
    storage = SQLiteStorage(tmp_path / "central.db")
    try:
        with live_central(storage) as live:
            live.register("S001", "one")
            live.register("S002", "two")
            yield live
    finally:
        storage.close()


def event(seq: int, **over: Any) -> dict[str, Any]:
    e = {
        "seq": seq,
        "id": f"id-{seq}",
        "type": "door_opened",
        "ts": 1_767_225_600.0 + seq,
        "ts_corrected": None,
        "mono": 50.0 + seq,
        "boot_id": "b1",
        "clock_synced": True,
        "actor": "staff:S001",
        "locker": "A02",
        "payload": {"reason": "restock"},
    }
    return e | over


def ingest(c: httpx.Client, station: str, after: int, events: list[dict]) -> httpx.Response:
    raw = gzip.compress(json.dumps({"station": station, "after": after, "events": events}).encode())
    return c.post("/api/v1/ingest", content=raw, headers={"Content-Encoding": "gzip"})


def client(central: LiveCentral, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=central.url, headers=headers, timeout=10)


def central_url(route: Route) -> str:
    return route.path.replace("{station_id}", "S002")


def test_every_central_route_takes_only_its_kind_of_token(central: LiveCentral) -> None:
    with client(central, central.office_token) as office:
        spec = office.get("/openapi.json").json()
    routes = routes_of(spec)
    office_routes = [r for r in routes if str(r) not in STATION_ROUTES | CENTRAL_PUBLIC]
    assert len(office_routes) >= OFFICE_FLOOR and {str(r) for r in routes} >= STATION_ROUTES
    revoked = new_token()
    central.storage.add_station("S003", "gone", token_hash(revoked), time.time())
    central.storage.revoke_station("S003", time.time())
    refused = 0
    for route in routes:
        if str(route) in CENTRAL_PUBLIC:
            continue
        for token in (None, "gxyz_not-a-token", revoked):
            with client(central, token) as c:
                r = c.request(route.method, central_url(route), content=b"{}")
            assert r.status_code == 401, (route, r.text)
            refused += 1
        wrong = central.office_token if str(route) in STATION_ROUTES else central.tokens["S001"]
        with client(central, wrong) as c:
            r = c.request(route.method, central_url(route), content=b"{}")
        assert r.status_code == 403, (route, r.text)
        assert "token" in r.json()["detail"]
        refused += 1
    assert central.storage.count_events() == 0
    record("attacks_refused", refused)


def test_a_station_gets_only_its_own_bundle(central: LiveCentral) -> None:
    body = '{"format":1,"notices":[]}'
    central.storage.publish_bundle(body, "0" * 64, ["S002"], time.time())
    with client(central, central.tokens["S001"]) as c:
        assert c.get("/api/v1/bundle", params={"have": 0}).status_code == 304
        # there is no way to name another station: unknown parameters change nothing
        r = c.get("/api/v1/bundle", params={"have": 0, "station": "S002"})
        assert r.status_code == 304
    with client(central, central.tokens["S002"]) as c:
        assert c.get("/api/v1/bundle", params={"have": 0}).status_code == 200
    record("attacks_refused", 2)


def stored(central: LiveCentral, station: str) -> list[dict[str, Any]]:
    with client(central, central.office_token) as office:
        page = office.get("/api/v1/events", params={"station": station, "limit": 50}).json()
    return page["events"]


def test_replayed_batches_store_nothing_twice_and_keep_the_ack(central: LiveCentral) -> None:
    with client(central, central.tokens["S001"]) as c:
        first = [event(s) for s in range(1, 11)]
        assert ingest(c, "S001", 0, first).json()["acked_seq"] == 10
        assert ingest(c, "S001", 10, [event(s) for s in range(11, 21)]).json()["acked_seq"] == 20
        # an old batch replayed after later ones: nothing stored, the ack stays at 20
        r = ingest(c, "S001", 0, first)
        assert r.status_code == 200
        assert (r.json()["acked_seq"], r.json()["stored"], r.json()["duplicates"]) == (20, 0, 10)
        # a slice from the middle, replayed
        r = ingest(c, "S001", 4, [event(s) for s in range(5, 8)])
        assert (r.json()["acked_seq"], r.json()["stored"]) == (20, 0)
        # a seq reused with other content: 409, and the original kept
        r = ingest(c, "S001", 4, [event(5, id="forged-5", payload={"reason": "forged"})])
        assert r.status_code == 409, r.text
        # the same id with other content counts as a copy of what central holds: nothing is
        # overwritten (central compares ids, which the station draws at random; docs/security.md)
        r = ingest(c, "S001", 4, [event(5, payload={"reason": "forged"})])
        assert (r.status_code, r.json()["stored"], r.json()["acked_seq"]) == (200, 0, 20), r.text
        # another station's token replaying S001's batch as its own
    with client(central, central.tokens["S002"]) as c:
        assert ingest(c, "S001", 0, first).status_code == 403
        r = ingest(c, "S002", 0, first)  # the same events, honestly as S002's: S002's own
        assert r.status_code == 200
    events = stored(central, "S001")
    assert [e["seq"] for e in events] == list(range(1, 21))
    fifth = next(e for e in events if e["seq"] == 5)
    assert fifth["id"] == "id-5" and fifth["payload"] == {"reason": "restock"}
    assert central.storage.count_events("S001") == 20
    assert central.storage.station("S001").acked_seq == 20  # type: ignore[union-attr]
    record("attacks_refused", 5)
