"""Nightly backups up to central and a replaced SD card rebuilt from central's copy.

A real central (uvicorn on loopback) keeps the uploads; the station is the real daemon on
simulated boards. After the restore into a fresh data directory the usage log must continue
with the next sequence number: no gap, no number used twice, central accepting every event.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from central.app import create_app
from central.auth import new_token, token_hash
from central.server import BackgroundServer
from central.settings import CentralSettings
from central.storage.base import EventQuery
from central.storage.sqlite import SQLiteStorage
from station.config import parse_config
from station.ops.central_backup import auto_backup
from station.ops.cli import run_restore
from tests.simstation import SimStation, running_station, sim_config_data

STATION = "TEST-0001"
DEAD = "http://127.0.0.1:9"  # nothing answers: "the daemon is stopped"


@pytest.fixture
def central(tmp_path: Path) -> Iterator[tuple[str, SQLiteStorage, str, Path]]:
    storage = SQLiteStorage(tmp_path / "central.db")
    token = new_token()
    storage.add_station(STATION, "test", token_hash(token), time.time())
    backups = tmp_path / "central-backups"
    settings = CentralSettings(backup_dir=str(backups), backup_keep=2)
    with BackgroundServer(create_app(storage, settings)) as server:
        yield server.url, storage, token, backups
    storage.close()


def _station_data(tmp_path: Path, name: str, url: str, token: str) -> dict[str, Any]:
    data = sim_config_data(tmp_path / name)
    data["sync"] = {"url": url, "token": token, "interval_s": 0.2, "heartbeat_s": 1}
    return data


async def _open_and_sync(st: SimStation, storage: SQLiteStorage, lockers: list[str]) -> int:
    async with st.client("staff") as c:
        for locker in lockers:
            r = await c.post(f"/api/v1/lockers/{locker}/open", json={"reason": "backup test"})
            assert r.status_code == 200, r.text
    assert st.daemon.station is not None
    last = st.daemon.station.store.events_after(0, limit=100_000)[-1].seq
    await st.wait_for(lambda: storage.station(STATION).acked_seq >= last, within=30)
    return last


async def test_restore_from_central_continues_the_log_without_gap_or_repeat(
    tmp_path: Path, central: tuple[str, SQLiteStorage, str, Path]
) -> None:
    url, storage, token, _ = central
    old = _station_data(tmp_path, "old-card", url, token)
    config = parse_config(old)
    async with running_station(old) as st:
        await _open_and_sync(st, storage, ["A01", "A02"])
        made = await asyncio.to_thread(auto_backup, config, 3)
        # Events after the nightly backup: central has them, the backup does not.
        last_before_death = await _open_and_sync(st, storage, ["A03", "A04"])
    assert made.uploaded, made.upload_error

    fresh = _station_data(tmp_path, "new-card", url, token)
    code = await asyncio.to_thread(
        run_restore, parse_config(fresh), None, force=False, daemon_url=DEAD
    )
    assert code == 0

    async with running_station(fresh) as st:
        assert st.daemon.station is not None
        restored = st.daemon.station.store.events_after(0, limit=100_000)
        last = await _open_and_sync(st, storage, ["A05"])
        assert st.daemon.station.sync.status()["last_error"] is None
    with sqlite3.connect(Path(fresh["station"]["data_dir"]) / "station.db") as db:
        local = [
            (seq, event_id, type_, locker)
            for seq, event_id, type_, locker in db.execute(
                "SELECT seq, id, type, locker FROM events ORDER BY seq"
            )
        ]

    seqs = [e[0] for e in local]
    assert seqs == list(range(1, len(local) + 1))  # no gap, no repeat
    assert [e.seq for e in restored][:last_before_death] == list(range(1, last_before_death + 1))
    at_central = storage.events(EventQuery(station=STATION, limit=1000))
    ids = {seq: event_id for seq, event_id, _, _ in local}
    assert {e["seq"]: e["id"] for e in at_central} == {
        s: ids[s] for s in sorted(ids) if s <= len(at_central)
    }
    assert storage.station(STATION).acked_seq >= last
    opened = [locker for _, _, type_, locker in local if type_ == "door_unlocked"]
    assert opened == ["A01", "A02", "A03", "A04", "A05"]


async def test_nightly_backups_keep_the_newest_n_here_and_at_central(
    tmp_path: Path, central: tuple[str, SQLiteStorage, str, Path]
) -> None:
    url, _storage, token, backups = central
    data = _station_data(tmp_path, "card", url, token)
    config = parse_config(data)
    async with running_station(data):
        made = []
        for i in range(3):
            made.append(await asyncio.to_thread(auto_backup, config, 2, now=1_767_225_600 + i))

    local = sorted((config.station.data_dir / "backups").glob("station-*.db"))
    assert [m.uploaded for m in made] == [True, True, True]
    assert local == [made[1].path, made[2].path]
    assert len(list((backups / STATION).glob("*.db"))) == 2


def test_restore_from_central_without_a_backup_says_so(
    tmp_path: Path, central: tuple[str, SQLiteStorage, str, Path]
) -> None:
    url, _storage, token, _ = central
    config = parse_config(_station_data(tmp_path, "card", url, token))

    code = run_restore(config, None, force=False, daemon_url=DEAD)

    assert code == 1
    assert not (config.station.data_dir / "station.db").exists()
