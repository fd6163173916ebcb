"""The kiosk stands in the street: attacks by someone who broke out of the kiosk session and
holds the kiosk token (issue 18), each against the real daemon over HTTP and its live stream.

Each test is the regression of one finding of docs/security.md ("Findings, round two"): it
failed on the code before the fix.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import websockets

from tests.reliability.report import record
from tests.simstation import TOKENS
from tests.station.conftest import Harness, services_config, start_harness

VICTIM = "13900001111"
OTHER = "15011112222"


async def deposit(h: Harness, phone: str = VICTIM) -> dict[str, Any]:
    """A courier leaves a parcel: the flow as the screen that started it ended up seeing it."""
    session = await h.identify(phone)
    r = await h.kiosk.post(
        "/api/v1/deposits", json={"kind": "bag"}, headers={"X-Member-Session": session}
    )
    assert r.status_code == 202, r.text
    return await h.finish(r.json())


@contextlib.asynccontextmanager
async def stream(h: Harness, role: str) -> AsyncIterator[list[dict[str, Any]]]:
    """Every message the live stream sends `role` while the block runs."""
    url = h.station.url.replace("http://", "ws://") + f"/api/v1/stream?token={TOKENS[role]}"
    seen: list[dict[str, Any]] = []
    async with websockets.connect(url) as ws:
        seen.append(json.loads(await ws.recv()))  # the snapshot: subscribed from here on

        async def read() -> None:
            async for raw in ws:
                seen.append(json.loads(raw))

        reader = asyncio.create_task(read())
        try:
            yield seen
            await asyncio.sleep(0.2)  # what was published last reaches the socket
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader


# --- 1: a flow's secret result ------------------------------------------------------------------


async def test_a_pickup_code_goes_once_to_the_screen_that_started_the_deposit(
    tmp_path: Path,
) -> None:
    async with start_harness(services_config(tmp_path)) as h:
        await h.register(VICTIM, kind="courier")
        async with stream(h, "kiosk") as kiosk_stream:
            done = await deposit(h)
        code = done["result"]["code"]
        assert done["state"] == "completed" and len(code) == 6
        # a second kiosk client, with the flow id from the stream, and even with the key
        flow_ids = {m["flow"]["id"] for m in kiosk_stream if m["kind"] == "flow"}
        assert done["id"] in flow_ids
        thief = h.client(role="kiosk")
        for headers in ({}, {"X-Flow-Key": "guessed"}, {"X-Flow-Key": done["key"]}):
            r = await thief.get(f"/api/v1/flows/{done['id']}", headers=headers)
            assert r.status_code == 200 and "code" not in r.json()["result"], r.text
            assert code not in r.text
        assert code not in json.dumps(kiosk_stream)
        # nor can another client answer someone else's flow
        r = await thief.post(f"/api/v1/flows/{done['id']}/answer", json={"condition": "works"})
        assert r.status_code == 403 and r.json()["code"] == "not_your_flow", r.text
        record("attacks_refused", 5)
