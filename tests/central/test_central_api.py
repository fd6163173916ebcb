"""Central's HTTP API over real HTTP (uvicorn on loopback), on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from central.app import create_app
from central.auth import new_token, token_hash
from central.server import BackgroundServer
from central.settings import CentralSettings
from central.storage.base import Storage


@dataclass
class Central:
    url: str
    storage: Storage
    station_token: str
    other_token: str
    office_token: str

    def client(self, token: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)


@pytest.fixture
def central(storage: Storage) -> Iterator[Central]:
    tokens = [new_token() for _ in range(3)]
    storage.add_station("S001", "one", token_hash(tokens[0]), time.time())
    storage.add_station("S002", "two", token_hash(tokens[1]), time.time())
    storage.add_office_token("ops", token_hash(tokens[2]), time.time())
    settings = CentralSettings(
        max_body_bytes=64 * 1024, max_inflated_bytes=256 * 1024, max_batch_events=500, max_page=50
    )
    with BackgroundServer(create_app(storage, settings)) as server:
        yield Central(server.url, storage, *tokens)


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
        "actor": "staff:3",
        "locker": "A02",
        "payload": {"reason": "restock"},
    }
    e.update(over)
    return e


def batch(after: int, seqs: range, station: str = "S001", **extra: Any) -> dict[str, Any]:
    return {"station": station, "after": after, "events": [event(s) for s in seqs], **extra}


def post(client: httpx.Client, body: Any, gz: bool = True) -> httpx.Response:
    raw = json.dumps(body).encode() if not isinstance(body, bytes) else body
    headers = {"Content-Type": "application/json"}
    if gz:
        raw = gzip.compress(raw)
        headers["Content-Encoding"] = "gzip"
    return client.post("/api/v1/ingest", content=raw, headers=headers)


def test_healthz_needs_no_token(central: Central) -> None:
    with central.client(None) as c:
        r = c.get("/healthz")
    assert r.status_code == 200 and r.json()["ok"] is True


def test_ingest_gzip_and_plain_idempotent(central: Central) -> None:
    with central.client(central.station_token) as c:
        r = post(c, batch(0, range(1, 101), telemetry={"sync": {"pending": 0}}))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["acked_seq"] == 100 and body["stored"] == 100 and body["station"] == "S001"
        assert isinstance(body["server_time"], float)
        again = post(c, batch(0, range(1, 101)), gz=False)
        assert again.json() | {"server_time": 0} == {
            "station": "S001",
            "acked_seq": 100,
            "stored": 0,
            "duplicates": 100,
            "server_time": 0,
        }
        heartbeat = post(c, batch(100, range(0)))
        assert heartbeat.json()["acked_seq"] == 100
    assert central.storage.count_events("S001") == 100
    record = central.storage.station("S001")
    assert record is not None and record.telemetry == {"sync": {"pending": 0}}


def test_auth_refusals(central: Central) -> None:
    with central.client(None) as c:
        r = post(c, batch(0, range(1, 3)))
        assert r.status_code == 401 and "Bearer" in r.json()["detail"]
        assert r.headers["www-authenticate"] == "Bearer"
    with central.client("gxyz_not-a-token") as c:
        assert post(c, batch(0, range(1, 3))).status_code == 401
    with central.client(central.other_token) as c:
        r = post(c, batch(0, range(1, 3)))
        assert r.status_code == 403 and "belongs to station S002" in r.json()["detail"]
    with central.client(central.office_token) as c:
        assert post(c, batch(0, range(1, 3))).status_code == 403
    with central.client(central.station_token) as c:
        assert c.get("/api/v1/events").status_code == 403
    central.storage.revoke_station("S001", time.time())
    with central.client(central.station_token) as c:
        r = post(c, batch(0, range(1, 3)))
        assert r.status_code == 401 and "revoked" in r.json()["detail"]
    assert central.storage.count_events() == 0


@pytest.mark.parametrize(
    ("body", "gz", "status", "words"),
    [
        (b"\x1f\x8b\x08\x00garbage", False, 400, "gzip"),
        (gzip.compress(b'{"station": "S001"')[:-6], False, 400, "truncated"),
        (b"{not json", True, 400, "not valid JSON"),
        ({"station": "S001", "after": 5, "events": [event(5)]}, True, 422, "events[0].seq"),
        ({"station": "S001", "after": 0, "events": [event(1, extra=1)]}, True, 422, "unknown"),
        ({"station": "S001", "after": 0, "events": [event(1, ts="x")]}, True, 422, "ts"),
        ({"station": "S 1", "after": 0}, True, 422, "station"),
        (batch(0, range(1, 502)), True, 413, "sync.batch_max_events"),
        (b"\x00" * (70 * 1024), False, 413, "over the limit"),
        (gzip.compress(b" " * (300 * 1024)), False, 413, "inflates"),
    ],
    ids=[
        "bad-gzip",
        "truncated-gzip",
        "not-json",
        "seq-not-after",
        "unknown-field",
        "bad-type",
        "bad-station-id",
        "too-many-events",
        "body-too-large",
        "gzip-bomb",
    ],
)
def test_bad_bodies_get_clear_4xx(
    central: Central, body: Any, gz: bool, status: int, words: str
) -> None:
    raw_gz = isinstance(body, bytes) and body[:2] == b"\x1f\x8b"
    with central.client(central.station_token) as c:
        if raw_gz:
            r = c.post("/api/v1/ingest", content=body, headers={"Content-Encoding": "gzip"})
        else:
            r = post(c, body, gz=gz)
    assert r.status_code == status, r.text
    assert words in r.json()["detail"]
    assert central.storage.count_events() == 0


def test_unknown_content_encoding(central: Central) -> None:
    with central.client(central.station_token) as c:
        r = c.post("/api/v1/ingest", content=b"{}", headers={"Content-Encoding": "br"})
    assert r.status_code == 415 and "gzip" in r.json()["detail"]


def test_conflicting_event_gets_409(central: Central) -> None:
    with central.client(central.station_token) as c:
        post(c, batch(0, range(1, 4)))
        body = {"station": "S001", "after": 2, "events": [event(3, id="other")]}
        r = post(c, body)
    assert r.status_code == 409 and "new id" in r.json()["detail"]


def test_bundle_downlink(central: Central) -> None:
    with central.client(central.station_token) as c:
        assert c.get("/api/v1/bundle", params={"have": 0}).status_code == 304
        text = '{"format":1,"notices":[]}'
        digest = hashlib.sha256(text.encode()).hexdigest()
        version = central.storage.publish_bundle(text, digest, [], time.time())
        r = c.get("/api/v1/bundle", params={"have": 0})
        assert r.status_code == 200 and r.content == text.encode()
        assert r.headers["x-bundle-version"] == str(version)
        assert r.headers["x-bundle-sha256"] == digest
        assert c.get("/api/v1/bundle", params={"have": version}).status_code == 304
        assert c.get("/api/v1/bundle", params={"have": -1}).status_code == 422


def test_office_query_pages(central: Central) -> None:
    with central.client(central.station_token) as c:
        post(c, batch(0, range(1, 121)))
    with central.client(central.other_token) as c:
        post(c, batch(0, range(1, 11), station="S002"))
    with central.client(central.office_token) as c:
        got: list[tuple[str, int]] = []
        after = 0
        while True:
            r = c.get("/api/v1/events", params={"station": "S001", "after": after, "limit": 50})
            assert r.status_code == 200
            page = r.json()
            got += [(e["station"], e["seq"]) for e in page["events"]]
            after = page["next_after"]
            if not page["more"]:
                break
        assert got == [("S001", s) for s in range(1, 121)]
        r = c.get("/api/v1/events", params={"limit": 51})
        assert r.status_code == 422 and "after" in r.json()["detail"]
        since = 1_767_225_600.0 + 5
        r = c.get("/api/v1/events", params={"station": "S002", "since": since, "until": since + 2})
        assert [e["seq"] for e in r.json()["events"]] == [5, 6]
        stations = c.get("/api/v1/stations").json()["stations"]
        assert {s["id"]: s["acked_seq"] for s in stations} == {"S001": 120, "S002": 10}
