"""Issue 18 at central: one station's requests can neither wedge its own sync, speak for
another station, nor make central hold far more than it was sent. Against a real central on
loopback (and a real station daemon syncing to it for the bundle)."""

from __future__ import annotations

import asyncio
import gzip
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher

from central.app import create_app
from central.auth import new_token, token_hash
from central.bundles import bundle_body
from central.server import BackgroundServer
from central.settings import CentralSettings
from central.storage.sqlite import SQLiteStorage
from station.people.staff import add_staff
from tests.central.fleetkit import LiveCentral, live_central
from tests.reliability.report import record
from tests.simstation import running_station
from tests.station.conftest import STAFF_NO, STAFF_PIN, services_config
from wire.bundle import parse_bundle
from wire.event import IncomingEvent


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


def post(c: httpx.Client, body: dict[str, Any] | bytes) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return c.post(
        "/api/v1/ingest", content=gzip.compress(raw), headers={"Content-Encoding": "gzip"}
    )


def client(central: LiveCentral, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=central.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


# --- 2: an event central cannot store is quarantined; the rest go on ----------------------------


def test_an_unstorable_event_is_quarantined_and_sync_goes_on(central: LiveCentral) -> None:
    with client(central, central.tokens["S001"]) as c:
        events = [event(1), event(2, payload={"place": "a\x00b"}), event(3, id="x\ud800")]
        events.append(event(4))
        r = post(c, json.dumps({"station": "S001", "after": 0, "events": events}).encode())
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["acked_seq"] == 4 and body["stored"] == 4
        assert [q["seq"] for q in body["quarantined"]] == [2, 3]
        # sent again (a station that did not hear the answer): the same placeholders, nothing new
        r = post(c, json.dumps({"station": "S001", "after": 0, "events": events}).encode())
        assert (r.status_code, r.json()["stored"], r.json()["duplicates"]) == (200, 0, 4)
        r = post(c, {"station": "S001", "after": 4, "events": [event(5)]})
        assert r.json()["acked_seq"] == 5
    with client(central, central.office_token) as office:
        stored = office.get("/api/v1/events", params={"station": "S001"}).json()["events"]
        q = office.get("/api/v1/events", params={"type": "quarantined"}).json()["events"]
    assert [e["seq"] for e in stored] == [1, 2, 3, 4, 5]
    assert [e["seq"] for e in q] == [2, 3]
    assert "NUL" in q[0]["payload"]["reason"] and "\\u0000" in q[0]["payload"]["original"]
    record("attacks_refused", 2)


async def test_the_bundle_is_fetched_even_when_central_refuses_the_upload(
    central: LiveCentral, tmp_path: Path
) -> None:
    """A station whose uploads central refuses for good (here a seq central already holds
    with another id: 409) still takes the office's bundle: a deactivated staff member is
    deactivated at the station."""
    token = central.register("S900", "wedged")
    clash = IncomingEvent(1, "not-the-station's", "x", 1.0, None, 1.0, "b", True, "a", None, "{}")
    central.storage.ingest("S900", 0, [clash], None, time.time())
    data = services_config(tmp_path / "st")
    data["station"]["id"] = "S900"
    data["sync"] = {
        "url": central.url,
        "token": token,
        "interval_s": 0.2,
        "backoff_base_s": 0.05,
        "backoff_cap_s": 0.2,
        "bundle_interval_s": 0.2,
    }
    pin_hash = PasswordHasher().hash(STAFF_PIN)
    async with running_station(data) as st:
        store = st.daemon.station.services.store  # type: ignore[union-attr]
        add_staff(store, STAFF_NO, "Staff", STAFF_PIN)
        doc = {
            "format": 1,
            "staff": [
                {"staff_no": STAFF_NO, "name": "Staff", "pin_hash": pin_hash, "active": False}
            ],
        }
        body, digest = bundle_body(parse_bundle(doc))
        central.storage.publish_bundle(body, digest, [], time.time())
        await st.wait_for(
            lambda: (
                not store.query("SELECT active FROM staff WHERE staff_no = ?", (STAFF_NO,))[0][
                    "active"
                ]
            ),
            within=20,
        )
        assert central.storage.station("S900").acked_seq == 1  # type: ignore[union-attr]
    record("attacks_refused", 1)


# --- 7: identity comes from the token only --------------------------------------------------------


def test_a_station_cannot_raise_an_alarm_for_another(central: LiveCentral) -> None:
    forged = {
        "type": "forced_open",
        "subject": "A03",
        "detail": "forced open, call police",
        "raised_at": time.time(),
        "station": "S001",
        "station_name": "one",
        "station_status": "ok",
    }
    telemetry = {"v": 1, "at": time.time(), "alarms": {"open": 1, "items": [forged]}}
    with client(central, central.tokens["S002"]) as c:
        r = post(c, {"station": "S002", "after": 0, "events": [], "telemetry": telemetry})
        assert r.status_code == 200, r.text
    with client(central, central.office_token) as office:
        alarms = office.get("/api/v1/fleet/alarms").json()["alarms"]
    assert [(a["station"], a["station_name"]) for a in alarms] == [("S002", "two")]
    record("attacks_refused", 1)


# --- 8: what a small upload may cost central ------------------------------------------------------


def test_a_gzip_bomb_and_an_oversized_event_cost_central_little(central: LiveCentral) -> None:
    limit = 16 * 1024 * 1024
    huge = {"station": "S001", "after": 0, "events": [event(1, payload={"x": "a" * (limit + 1)})]}
    raw = gzip.compress(json.dumps(huge).encode(), compresslevel=9)
    assert len(raw) < 100_000  # a small upload
    with client(central, central.tokens["S001"]) as c:
        r = c.post("/api/v1/ingest", content=raw, headers={"Content-Encoding": "gzip"})
        assert r.status_code == 413 and str(limit) in r.text, r.text
        # an event under the batch limit but over the event limit: quarantined, size named
        big = event(1, payload={"x": "a" * 200_000})
        r = post(c, {"station": "S001", "after": 0, "events": [big, event(2)]})
        assert r.status_code == 200, r.text
        (held,) = r.json()["quarantined"]
        assert held["seq"] == 1 and "200" in held["reason"] and "65536" in held["reason"]
    assert central.storage.count_events("S001") == 2
    with client(central, central.office_token) as office:
        first = office.get("/api/v1/events", params={"station": "S001"}).json()["events"][0]
    assert len(json.dumps(first)) < 10_000  # what central keeps of it is bounded
    record("attacks_refused", 2)


# --- 12: the dashboard cannot be framed; API answers are not cached ---------------------


def test_dashboard_pages_forbid_framing_and_api_answers_are_not_cached(
    central: LiveCentral,
) -> None:
    with httpx.Client(base_url=central.url) as anonymous:
        for page in ("/dashboard", "/dashboard/reports"):
            r = anonymous.get(page)
            assert r.status_code == 200, page
            csp = r.headers["content-security-policy"]
            assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
            assert r.headers["x-frame-options"] == "DENY"
    with client(central, central.office_token) as office:
        for path in ("/api/v1/events", "/api/v1/stations", "/api/v1/fleet/alarms"):
            r = office.get(path)
            assert r.status_code == 200 and r.headers["cache-control"] == "no-store", path


# --- 8, continued: ingests beyond the limit wait for a slot ------------------------------------


def _ingest_slots(app: Any) -> asyncio.Semaphore:
    """The real app's ingest semaphore, found in its route (observed, not replaced)."""
    (route,) = [r for r in app.routes if getattr(r, "path", "") == "/api/v1/ingest"]
    cells = [c.cell_contents for c in route.endpoint.__closure__ or ()]
    (slots,) = [c for c in cells if isinstance(c, asyncio.Semaphore)]
    return slots


def test_no_more_ingests_than_the_limit_are_read_at_once(tmp_path: Path) -> None:
    """With max_concurrent_ingests = 1, an upload trickling its body holds the one slot and a
    second upload waits for it, whoever sent it: central never inflates two at once."""
    storage = SQLiteStorage(tmp_path / "central.db")
    app = create_app(storage, CentralSettings(max_concurrent_ingests=1))
    slots = _ingest_slots(app)
    tokens = {}
    for station in ("S001", "S002"):
        tokens[station] = new_token()
        storage.add_station(station, station, token_hash(tokens[station]), time.time())
    go_on = threading.Event()
    answers: dict[str, int] = {}

    def body(station: str) -> bytes:
        return gzip.compress(
            json.dumps({"station": station, "after": 0, "events": [event(1)]}).encode()
        )

    def trickle() -> Iterator[bytes]:
        raw = body("S001")
        yield raw[:8]
        go_on.wait(60)
        yield raw[8:]

    def send(url: str, station: str, content: Any) -> None:
        with httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {tokens[station]}"}, timeout=60
        ) as c:
            answers[station] = c.post(
                "/api/v1/ingest", content=content, headers={"Content-Encoding": "gzip"}
            ).status_code

    def until(check: Any) -> None:
        deadline = time.monotonic() + 30
        while not check():
            assert time.monotonic() < deadline
            time.sleep(0.01)

    try:
        with BackgroundServer(app) as server:
            slow = threading.Thread(target=send, args=(server.url, "S001", trickle()))
            slow.start()
            until(slots.locked)  # the trickling upload holds the only slot
            quick = threading.Thread(target=send, args=(server.url, "S002", body("S002")))
            quick.start()
            until(lambda: len(getattr(slots, "_waiters", None) or ()) == 1)
            assert "S002" not in answers  # complete, small, and still waiting its turn
            go_on.set()
            slow.join(60)
            quick.join(60)
        assert answers == {"S001": 200, "S002": 200}
        assert storage.count_events("S001") == storage.count_events("S002") == 1
    finally:
        go_on.set()
        storage.close()
    record("attacks_refused", 1)
