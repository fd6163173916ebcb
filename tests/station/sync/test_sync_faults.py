"""Sync against a central server that is down, flaky, wrong or refusing: nothing is lost."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import Callable

import pytest

from central.auth import new_token, token_hash
from station.store import Store
from tests.station.sync.synckit import (
    STATION,
    Central,
    FlakyProxy,
    fill,
    service,
    station_log,
)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _until(predicate: Callable[[], bool], within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


async def test_down_then_flaky_central_ends_with_exactly_the_log(
    central: Central,
    make_store: Callable[..., Store],
    flaky_proxy: Callable[..., FlakyProxy],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="station.sync")
    store = make_store()
    fill(store, 12_000)

    # Central unreachable: every try fails, nothing moves, nothing is lost.
    down = service(store, f"http://127.0.0.1:{_closed_port()}", central.token)
    for _ in range(3):
        outcome = await down.sync_once()
        assert not outcome.ok and outcome.problem is not None
        assert outcome.problem.kind == "network"
    status = down.status()
    assert status["cursor"] == 0 and status["pending"] == 12_000
    assert (
        status["last_error"]["kind"] == "network" and "4G router" in status["last_error"]["advice"]
    )
    await down.aclose()
    assert "cannot reach central" in caplog.text

    # Then a proxy that drops 30%, answers 500s, times out after central processed the batch,
    # answers an HTML portal page and replays old batches, while the station keeps logging.
    proxy = flaky_proxy(
        central.url,
        drop=30,
        error500=12,
        hang=8,
        garbage=5,
        replay=15,
        **{"pass": 30},
        hang_s=1.2,
    )
    sync = service(store, proxy.url, central.token, batch_max_events=700, timeout_s=0.8)
    task = asyncio.create_task(sync.run())
    try:
        for _ in range(20):
            fill(store, 25, kind="loan_started")
            await asyncio.sleep(0.05)
        newest = store.query("SELECT MAX(seq) AS m FROM events")[0]["m"]
        await _until(lambda: central.acked() == newest, within_s=90)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    held = central.events()
    assert [(e["seq"], e["id"]) for e in held] == station_log(store)
    assert len(held) == newest == 12_500
    for fate in ("drop", "error500", "hang", "garbage", "replay", "pass"):
        assert proxy.counts[fate] > 0, proxy.counts
    assert "central failed with 500" in caplog.text
    assert "not a sync answer" in caplog.text


async def test_revoked_token_keeps_events_and_says_what_to_do(
    central: Central, make_store: Callable[..., Store], caplog: pytest.LogCaptureFixture
) -> None:
    store = make_store()
    fill(store, 50)
    sync = service(store, central.url, central.token)
    assert (await sync.sync_once()).ok
    fill(store, 30)
    central.storage.revoke_station(STATION, time.time())
    outcome = await sync.sync_once()
    assert not outcome.ok and outcome.problem is not None
    assert outcome.problem.kind == "auth" and outcome.problem.slow
    assert "station central rotate" in outcome.problem.advice
    assert "rotate" in caplog.text
    assert sync.status()["pending"] == 30
    await sync.aclose()

    fresh = new_token()
    central.storage.rotate_station_token(STATION, token_hash(fresh), time.time())
    renewed = service(store, central.url, fresh)
    assert (await renewed.catch_up()).ok
    await renewed.aclose()
    assert [(e["seq"], e["id"]) for e in central.events()] == station_log(store)


async def test_tls_error_is_named(central: Central, make_store: Callable[..., Store]) -> None:
    store = make_store()
    fill(store, 5)
    sync = service(store, central.url.replace("http://", "https://"), central.token)
    outcome = await sync.sync_once()
    await sync.aclose()
    assert outcome.problem is not None and outcome.problem.kind == "tls"
    assert "clock" in outcome.problem.advice
    assert sync.status()["pending"] == 5


@pytest.mark.parametrize(
    ("fate", "kind"),
    [("error500", "server"), ("garbage", "garbage"), ("hang", "timeout"), ("drop", "network")],
)
async def test_each_failure_kind_backs_off_and_keeps_events(
    central: Central,
    make_store: Callable[..., Store],
    flaky_proxy: Callable[..., FlakyProxy],
    fate: str,
    kind: str,
) -> None:
    store = make_store()
    fill(store, 20)
    proxy = flaky_proxy(central.url, **{fate: 1}, hang_s=0.6)
    sync = service(store, proxy.url, central.token, timeout_s=0.3)
    for attempt in range(1, 3):
        outcome = await sync.sync_once()
        assert not outcome.ok and outcome.problem is not None
        assert outcome.problem.kind == kind
        status = sync.status()
        assert status["pending"] == 20 and status["cursor"] == 0
        assert status["last_error"]["kind"] == kind
        assert status["failures"] == attempt
    await sync.aclose()


async def test_full_disk_is_reported_and_nothing_is_lost(
    central: Central, make_store: Callable[..., Store]
) -> None:
    store = make_store()
    store.clock.is_synced = False
    fill(store, 3000)
    store.clock.is_synced = True
    pages = store.query("PRAGMA page_count")[0]["page_count"]
    store.write_now(lambda tx: tx.conn.execute(f"PRAGMA max_page_count = {pages}"))
    sync = service(store, central.url, central.token)
    outcome = await sync.sync_once()
    assert not outcome.ok and outcome.problem is not None
    assert outcome.problem.kind == "disk" and "Free space" in outcome.problem.advice
    assert central.acked() == 0
    store.write_now(lambda tx: tx.conn.execute("PRAGMA max_page_count = 1073741823"))
    assert (await sync.catch_up()).ok
    await sync.aclose()
    held = central.events()
    assert [(e["seq"], e["id"]) for e in held] == station_log(store)
    assert {e["time_source"] for e in held} == {"corrected"}


async def test_oversized_batches_are_halved(
    tmp_path: object, make_store: Callable[..., Store]
) -> None:
    from central.app import create_app
    from central.server import BackgroundServer
    from central.settings import CentralSettings
    from central.storage.sqlite import SQLiteStorage

    storage = SQLiteStorage(tmp_path / "small.db")  # type: ignore[operator]
    token = new_token()
    storage.add_station(STATION, "s", token_hash(token), time.time())
    store = make_store()
    fill(store, 400)
    with BackgroundServer(create_app(storage, CentralSettings(max_batch_events=100))) as srv:
        sync = service(store, srv.url, token, batch_max_events=400)
        first = await sync.sync_once()
        assert first.problem is not None and first.problem.kind == "too_large"
        rounds = [await sync.catch_up() for _ in range(3)]
        await sync.aclose()
    assert rounds[-1].ok and sync.status()["pending"] == 0
    assert storage.count_events(STATION) == 400
    storage.close()


async def test_an_answer_claiming_more_than_was_sent_skips_nothing(
    central: Central, make_store: Callable[..., Store]
) -> None:
    """A central (or something in the middle) that acks 800 seqs beyond each batch: the cursor
    stops at the batch's end, so every event still reaches the real central."""
    import httpx
    from starlette.requests import Request
    from starlette.responses import Response

    from central.server import BackgroundServer

    async def overclaiming(scope: dict, receive: Callable, send: Callable) -> None:
        request = Request(scope, receive)
        async with httpx.AsyncClient(base_url=central.url) as upstream:
            answer = await upstream.request(
                request.method,
                request.url.path,
                params=request.query_params,
                content=await request.body(),
                headers={k: v for k, v in request.headers.items() if k != "host"},
            )
        body = answer.content
        if request.url.path == "/api/v1/ingest" and answer.status_code == 200:
            data = answer.json()
            data["acked_seq"] += 800
            body = json.dumps(data).encode()
        await Response(body, answer.status_code, media_type="application/json")(
            scope, receive, send
        )

    store = make_store()
    fill(store, 1000)
    with BackgroundServer(overclaiming) as liar:
        sync = service(store, liar.url, central.token, batch_max_events=100)
        for _ in range(30):
            await sync.sync_once()
        await sync.aclose()
    assert [(e["seq"], e["id"]) for e in central.events()] == station_log(store)
