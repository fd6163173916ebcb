"""Schemathesis against the real daemon and the real central server, over loopback HTTP.

Every operation in each server's own OpenAPI document gets its boundary cases and random cases,
valid and invalid, sent with each role's token, so staff and kiosk routes are exercised past
authentication; known ids (a real tool, a real member, a member session) let random bodies reach
the services behind the lookups. The rule checked on every answer: no 5xx, no dropped
connection, and every 4xx says in JSON what was wrong.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from schemathesis import Case

from central.app import create_app
from central.auth import new_token, token_hash
from central.server import BackgroundServer
from central.settings import CentralSettings
from central.storage.pg_cluster import ThrowawayCluster
from central.storage.sqlite import SQLiteStorage
from tests.reliability.apifuzzkit import (
    BACKENDS,
    ApiFuzzer,
    CentralUnderTest,
    Tally,
    bound_long_poll,
    central_server,
    central_storage,
    daemon_known_ids,
    fixed_for,
    run_extremes,
    throwaway_cluster,
)
from tests.reliability.report import record
from tests.simstation import TOKENS
from tests.station.conftest import services_config, start_harness
from wire.batch import batch_schema

EXAMPLES = 12
"""Random cases per operation (and again with real ids where the route takes some)."""


def report(tally: Tally) -> None:
    record("requests_fuzzed", tally.requests)
    record("server_errors", tally.server_errors)
    assert tally.operations >= 10, f"only {tally.operations} operations found in the document"
    assert not tally.findings, (
        f"{len(tally.findings)} bad answers in {tally.requests} requests "
        f"({tally.server_errors} 5xx):\n{tally.distinct()}"
    )
    assert tally.requests > 30 * tally.operations, tally


# --- the daemon ----------------------------------------------------------------------------------


async def test_daemon_openapi_fuzz(tmp_path: Path) -> None:
    started = time.monotonic()
    async with start_harness(services_config(tmp_path)) as h:
        known = await daemon_known_ids(h)
        doc = (await h.kiosk.get("/openapi.json")).json()
        fuzzer = ApiFuzzer(
            doc,
            h.station.url,
            {"staff": TOKENS["staff"], "kiosk": TOKENS["kiosk"]},
            adjust=bound_long_poll,
        )
        fixed = fixed_for(fuzzer, known)
        tally = await asyncio.to_thread(fuzzer.run, examples=EXAMPLES, fixed=fixed)
        numeric = await asyncio.to_thread(run_extremes, fuzzer, fixed)
        health = await h.kiosk.get("/healthz")
        assert health.status_code == 200, "the daemon stopped answering after the fuzzing"
    report(tally)
    assert len(numeric) >= 10, f"only {len(numeric)} numeric fields: {numeric}"
    assert time.monotonic() - started < 120


# --- central -------------------------------------------------------------------------------------


def with_ingest_body(doc: dict[str, Any]) -> dict[str, Any]:
    """Central reads the ingest body itself (to cap and gunzip it), so FastAPI does not put it in
    the document; describe it here from the wire model so the fuzzer generates batches."""
    schema, defs = batch_schema("#/components/schemas/{name}")
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    components.update(defs)
    components["IngestBatch"] = schema
    doc["paths"]["/api/v1/ingest"]["post"]["requestBody"] = {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/IngestBatch"}}},
    }
    return doc


def own_station_half_the_time(station_token: str) -> Any:
    """Random batches name random stations (a 403); every other one is made the token's own,
    so batches also reach storage."""
    turn = itertools.cycle([True, False])

    def adjust(case: Case, token: str) -> None:
        body = case.body
        if token == station_token and isinstance(body, dict) and "station" in body and next(turn):
            body["station"] = "S001"

    return adjust


@pytest.fixture(scope="module")
def pg_cluster() -> Iterator[ThrowawayCluster]:
    with throwaway_cluster() as cluster:
        yield cluster


@pytest.fixture(params=BACKENDS)
def central(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CentralUnderTest]:
    with central_server(central_storage(request, tmp_path)) as server:
        yield server


def test_central_openapi_fuzz(central: CentralUnderTest) -> None:
    url, tokens = central.url, central.tokens
    office = {"Authorization": f"Bearer {tokens['office']}"}
    assert httpx.get(f"{url}/openapi.json", timeout=10).status_code == 401
    doc = httpx.get(f"{url}/openapi.json", headers=office, timeout=10).json()
    doc = with_ingest_body(doc)
    fuzzer = ApiFuzzer(doc, url, tokens, adjust=own_station_half_the_time(tokens["station"]))
    fixed = {"GET /api/v1/fleet/stations/{station_id}": {"path_parameters": {"station_id": "S001"}}}
    tally = fuzzer.run(examples=EXAMPLES * 2, fixed=fixed)
    numeric = run_extremes(fuzzer, fixed)
    assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200
    report(tally)
    assert len(numeric) >= 6, f"only {len(numeric)} numeric fields: {numeric}"


# --- what the fuzzing found, pinned --------------------------------------------------------------

HUGE = 2**70


async def test_daemon_refuses_numbers_past_sqlite(tmp_path: Path) -> None:
    """Found by the fuzzing: `after` of the usage log and an alarm id past 2**63 reached SQLite
    and overflowed (500). Now a 422 naming the parameter."""
    async with start_harness(services_config(tmp_path)) as h:
        staff = h.client(role="staff")
        r = await staff.get("/api/v1/events", params={"after": HUGE})
        assert r.status_code == 422 and "after" in r.json()["detail"], r.text
        r = await staff.post(f"/api/v1/alarms/{HUGE}/ack", json={})
        assert r.status_code == 422 and "alarm_id" in r.json()["detail"], r.text
        r = await staff.post("/api/v1/alarms/9999/ack", json={})
        assert r.status_code == 404, r.text


async def test_daemon_chunked_body_over_limit_is_413(tmp_path: Path) -> None:
    """A body sent chunked (no Content-Length) and cut off at the limit was answered 400 "error
    parsing the body"; now 413 like a declared one (tests/station/api/test_core_api.py covers
    the declared Content-Length), and the daemon answers the next request."""
    limit = 0

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(limit // 10_000 + 5):
            yield b" " * 10_000

    async with start_harness(services_config(tmp_path)) as h:
        limit = h.station.config.api.max_body_bytes
        staff = h.client(role="staff")
        r = await staff.post(
            "/api/v1/lockers/A01/open",
            content=chunks(),
            headers={"Content-Type": "application/json"},
        )
        assert "content-length" not in r.request.headers
        assert r.status_code == 413 and f"over {limit} bytes" in r.json()["detail"], r.text
        assert h.sim.unlocks(1) == 0
        r = await staff.post("/api/v1/lockers/A01/open", json={"reason": "after the flood"})
        assert r.status_code == 200, r.text


def test_central_refuses_sequences_past_bigint(central: CentralUnderTest) -> None:
    """Found by the fuzzing: `after` of the office's event query and an event's `seq` or a
    batch's `after` past 2**63 overflowed the database driver (500, then a reset connection)."""
    url, tokens = central.url, central.tokens
    office = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens['office']}"})
    station = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens['station']}"})
    with office, station:
        r = office.get("/api/v1/events", params={"after": HUGE})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "after"]
        for body in (
            {"station": "S001", "after": 0, "events": [wire_event(2**63)]},
            {"station": "S001", "after": 2**63, "events": []},
        ):
            r = station.post("/api/v1/ingest", json=body)
            detail = r.json()["detail"]
            # the answer names the field and the largest number storage holds
            assert r.status_code == 422, r.text
            assert str(2**63 - 1) in str(detail) or "less than or equal" in str(detail), r.text
        assert office.get("/api/v1/events").json()["events"] == []


def test_central_survives_a_sequence_jump(central: CentralUnderTest) -> None:
    """Found by the fuzzing: a batch claiming every sequence number up to 2**63 - 1 (after 0,
    one event at the top) made the fleet history fold 50,000 numbers at a time up to there:
    the ingest never answered and held the database. Now folding steps by stored events."""
    url, tokens = central.url, central.tokens
    station = httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {tokens['station']}"}, timeout=10
    )
    with station:
        top = 2**63 - 1
        body = {"station": "S001", "after": 0, "events": [wire_event(top)]}
        r = station.post("/api/v1/ingest", json=body)
        assert r.status_code == 200 and r.json()["acked_seq"] == top, r.text
        r = station.post("/api/v1/ingest", json={"station": "S001", "after": top, "events": []})
        assert r.status_code == 200, r.text


def test_central_chunked_body_over_limit_is_413(tmp_path: Path) -> None:
    """A chunked ingest with no Content-Length is cut off at the limit with a 413 (the declared
    size and the gzip bomb are in tests/central/test_central_api.py), and central goes on."""
    storage = SQLiteStorage(tmp_path / "central.db")
    token = new_token()
    storage.add_station("S001", "one", token_hash(token), time.time())
    settings = CentralSettings(max_body_bytes=64 * 1024)

    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b" " * 10_000

    try:
        with BackgroundServer(create_app(storage, settings)) as server:
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=server.url, headers=headers, timeout=10) as c:
                r = c.post("/api/v1/ingest", content=chunks())
                assert "content-length" not in r.request.headers
                assert r.status_code == 413 and "over the limit" in r.json()["detail"], r.text
                r = c.post("/api/v1/ingest", json={"station": "S001", "after": 0})
                assert r.status_code == 200, r.text
    finally:
        storage.close()


def wire_event(seq: int) -> dict[str, Any]:
    return {
        "seq": seq,
        "id": f"ev-{seq}",
        "type": "door_opened",
        "ts": 1_767_225_600.0,
        "mono": 50.0,
        "boot_id": "b1",
        "clock_synced": True,
        "actor": "staff:3",
        "payload": {},
    }
