"""A station process that only syncs: started by test_sync_kill and killed with SIGKILL mid-sync.

Usage: python -m tests.station.sync.station_worker DB URL TOKEN STATION BATCH
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from station.clock import SystemClock
from station.store import Store
from station.sync.config import SyncConfig
from station.sync.service import SYNC_SCHEMA, SyncService


async def main(db: str, url: str, token: str, station: str, batch: int) -> None:
    store = Store(Path(db), SystemClock(assume_synced=True), [SYNC_SCHEMA])
    config = SyncConfig(
        url=url,
        token=token,
        batch_max_events=batch,
        interval_s=0.05,
        backoff_base_s=0.05,
        backoff_cap_s=0.2,
    )
    print("ready", flush=True)
    await SyncService(store, config, station, store.clock).run()


if __name__ == "__main__":
    db, url, token, station, batch = sys.argv[1:6]
    asyncio.run(main(db, url, token, station, int(batch)))
