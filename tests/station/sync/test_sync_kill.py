"""A station process killed with SIGKILL in the middle of a sync resumes without loss."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from station.store import Store
from tests.station.sync.synckit import STATION, Central, StepClock, fill, service, station_log

ROOT = Path(__file__).resolve().parents[3]


async def test_killed_mid_sync_resumes_without_loss(
    central: Central, make_store: Callable[..., Store]
) -> None:
    store = make_store(StepClock(wall=time.time()))  # recent: nothing old enough to prune
    fill(store, 40_000)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.station.sync.station_worker",
        str(store.path),
        central.url,
        central.token,
        STATION,
        "400",
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while central.acked() < 6_000:
            assert proc.returncode is None, "the station process died by itself"
            assert time.monotonic() < deadline, "the station process never got going"
            await asyncio.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        assert await proc.wait() == -signal.SIGKILL
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    acked_at_kill = central.acked()
    cursor = store.query("SELECT cursor FROM sync_state")[0]["cursor"]
    assert 0 < cursor <= acked_at_kill < 40_000  # stopped part way; cursor never ahead

    sync = service(store, central.url, central.token, batch_max_events=5000)
    assert (await sync.catch_up()).ok
    await sync.aclose()
    assert [(e["seq"], e["id"]) for e in central.events()] == station_log(store)
