"""The station's data partition fills up: doors stay shut rather than open unaudited, staff and
central are told, nothing committed is lost, and everything resumes once space is freed.

The disk is filled for real: the station's data directory is a small tmpfs mounted for the
test and a ballast file eats the rest. Where mounting is not allowed (no root), SQLite's
max_page_count caps the database instead, which fails writes the same way (SQLITE_FULL).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from central.auth import new_token, token_hash
from station.store import Store, StoreFull
from station.sync.service import SYNC_SCHEMA
from tests.reliability.netkit import lost_at_central
from tests.reliability.report import record
from tests.simstation import running_station, sim_config_data
from tests.station.sync.synckit import (
    STATION,
    Central,
    StepClock,
    central_server,
    fill,
    service,
)

STATION_ID = "TEST-0001"
TMPFS_MB = 128
"""Larger than the disk watch's 64 MB margin, so freeing the ballast really clears the alarm."""


class Disk:
    """The data partition, and a way to fill it to the last byte and free it again."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.mounted = False
        self._ballast = root / "ballast.bin"
        self._store: Store | None = None

    def mount(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() != 0:
            return
        result = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_MB}m", "tmpfs", str(self.root)],
            capture_output=True,
        )
        self.mounted = result.returncode == 0

    def unmount(self) -> None:
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.root)], check=False)

    async def fill(self, store: Store) -> int:
        """Fill until the store refuses a write; returns the events it still took."""
        self._store = store
        if self.mounted:
            await asyncio.to_thread(_fill_file, self._ballast)
        else:
            pages = store.query("PRAGMA page_count")[0]["page_count"]
            await store.write(lambda tx: tx.conn.execute(f"PRAGMA max_page_count = {pages}"))
        # SQLite reuses room inside its files: the station keeps logging until that is gone,
        # down to the smallest event.
        taken = 0
        for pad in ("x" * 400, "x" * 40, ""):
            for _ in range(100_000):
                try:
                    await store.write(
                        lambda tx, pad=pad: tx.append("filler", actor="system", payload={"p": pad})
                    )
                except StoreFull:
                    break
                taken += 1
            else:
                raise AssertionError("the store never reported the disk full")
        return taken

    async def free(self) -> None:
        if self.mounted:
            self._ballast.unlink()
        elif self._store is not None:
            await self._store.write(
                lambda tx: tx.conn.execute("PRAGMA max_page_count = 1073741823")
            )


def _fill_file(path: Path) -> None:
    """Write zeros until the file system has not one byte left."""
    with open(path, "wb", buffering=0) as f:
        for size in (1 << 20, 4096, 1):
            with contextlib.suppress(OSError):
                while True:
                    f.write(b"\0" * size)


@pytest.fixture(params=["tmpfs", "page_cap"])
def disk(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Disk]:
    d = Disk(tmp_path / "data")
    if request.param == "tmpfs":
        d.mount()  # stays unmounted (and caps pages instead) where mounting is not allowed
    else:
        d.root.mkdir(parents=True)
    yield d
    d.unmount()


@pytest.fixture
def central(tmp_path: Path) -> Iterator[Central]:
    with central_server(tmp_path / "central.db") as server:
        yield server


async def _until(predicate, within: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


def _central_health(central: Central) -> dict:
    record_ = central.storage.station(STATION_ID)
    telemetry = record_.telemetry if record_ is not None else None
    return (telemetry or {}).get("health", {})


async def test_a_full_disk_keeps_doors_shut_tells_everyone_and_recovers(
    disk: Disk, central: Central, caplog: pytest.LogCaptureFixture
) -> None:
    token = new_token()
    central.storage.add_station(STATION_ID, "booth", token_hash(token), time.time())
    data = sim_config_data(disk.root)
    data["sync"] = {
        "url": central.url,
        "token": token,
        "interval_s": 0.1,
        "heartbeat_s": 0.1,
        "backoff_base_s": 0.05,
        "backoff_cap_s": 0.2,
    }
    async with running_station(data) as st:
        store = st.daemon.station.store  # type: ignore[union-attr]
        db_path = store.path
        assert db_path.is_relative_to(disk.root)
        watch = st.daemon.disk_watch
        assert watch is not None
        channel = {lk.id: lk.channel for lk in st.config.lockers}
        async with st.client("staff") as staff, st.client() as anyone:
            opened = await staff.post("/api/v1/lockers/A01/open", json={"reason": "stock check"})
            assert opened.status_code == 200
            await st.wait_for(lambda: st.sim.is_open(channel["A01"]))
            st.sim.close_door(channel["A01"])
            left_open = await staff.post("/api/v1/lockers/A03/open", json={"reason": "cleaning"})
            assert left_open.status_code == 200
            await st.wait_for(lambda: st.daemon.station.lockers.door("A03") == "open")
            await _until(lambda: central.acked(STATION_ID) >= left_open.json()["unlock_seq"])

            taken = await disk.fill(store)
            caplog.clear()
            caplog.set_level(logging.INFO, logger="station.doors.lockers")
            st.sim.close_door(channel["A03"])  # a change that cannot be saved just now
            committed = store.query("SELECT seq, id FROM events ORDER BY seq")

            # An unlock whose audit cannot be written does not open the door, and says why.
            refused = await staff.post("/api/v1/lockers/A02/open", json={"reason": "refill"})
            assert refused.status_code == 507, refused.text
            detail = refused.json()["detail"]
            assert "disk is full" in detail and "Free space" in detail
            assert "Doors open only after their audit is logged" in detail
            await asyncio.sleep(0.3)
            assert st.sim.unlocks(channel["A02"]) == 0 and not st.sim.is_open(channel["A02"])

            # What needs no write still works: door states, health, telemetry.
            door = await staff.get("/api/v1/lockers/A02")
            assert door.status_code == 200 and door.json()["door"] == "closed"
            health = await anyone.get("/healthz")
            assert health.status_code == 200
            if disk.mounted:
                # (A page cap lets writes that fit in existing pages through, so only a really
                # full disk stays "full" from one write to the next.)
                assert health.json()["status"] == "degraded"
                telemetry = (await staff.get("/api/v1/telemetry")).json()
                assert telemetry["health"]["store_full_since"] is not None
                assert telemetry["health"]["disk_free_bytes"] < 1 << 20
                assert await watch.check()  # the alarm cannot be written yet; kept for later
                # Central hears of it: the sync heartbeat carries the disk state.
                await _until(lambda: _central_health(central).get("store_full_since") is not None)
            else:
                await watch.check()

            await asyncio.sleep(0.5)  # ten polls of the board, each unable to save
            if disk.mounted:
                trouble = [r for r in caplog.records if r.name == "station.doors.lockers"]
                assert len(trouble) <= 2, [r.getMessage() for r in trouble]
                assert "cannot be saved" in trouble[0].getMessage()

            await disk.free()

            # No restart: the next unlock is audited and opens the door.
            again = await staff.post("/api/v1/lockers/A02/open", json={"reason": "refill"})
            assert again.status_code == 200, again.text
            await st.wait_for(lambda: st.sim.is_open(channel["A02"]))
            assert st.sim.unlocks(channel["A02"]) == 1
            assert not await watch.check()
            # The door closed while nothing could be saved: its change is saved now.
            await st.wait_for(lambda: st.daemon.station.lockers.door("A03") == "closed")
            closed = store.query(
                "SELECT seq FROM events WHERE type = 'door_closed' AND locker = 'A03'"
            )
            assert closed, "the door's closing was never logged"
            health = await anyone.get("/healthz")
            assert health.json()["status"] == "ok"
            alarms = (await staff.get("/api/v1/alarms", params={"include_cleared": True})).json()

        await _until(lambda: _central_health(central).get("store_full_since", 0) is None)
        newest = store.query("SELECT MAX(seq) AS m FROM events")[0]["m"]
        await _until(lambda: central.acked(STATION_ID) >= newest)

    # The disk's story is in the log: raised while it was full, cleared when space came back.
    disk_alarms = [a for a in alarms if a["type"] == "disk_full"]
    if disk.mounted:
        assert [a["state"] for a in disk_alarms] == ["cleared"], alarms
        assert "disk full" in disk_alarms[0]["detail"] and "Free space" in disk_alarms[0]["detail"]
    assert all(a["state"] == "cleared" for a in disk_alarms)

    # Nothing committed before the disk filled is lost or damaged, at the station or central.
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute("SELECT seq, id FROM events ORDER BY seq").fetchall()
    finally:
        conn.close()
    assert [tuple(r) for r in rows[: len(committed)]] == [(r["seq"], r["id"]) for r in committed]
    # (The daemon's own `station_stopped`, logged as it stopped, goes up at its next start.)
    synced = {tuple(r) for r in rows if r[0] <= newest}
    lost = len(synced - {(e["seq"], e["id"]) for e in central.events(STATION_ID)})
    record("events_checked", len(synced))
    record("events_lost", lost)
    assert lost == 0
    print(f"disk full after {taken} more events (tmpfs: {disk.mounted}); {len(synced)} checked")


async def test_sync_tells_central_of_a_full_disk_even_when_nothing_can_move(
    tmp_path: Path, central: Central
) -> None:
    """Before each upload sync saves time corrections; with the disk full that fails, and the
    station used to fall silent, looking to the office like one without a network."""
    clock = StepClock()
    store = Store(tmp_path / "station.db", clock, [SYNC_SCHEMA])
    try:
        clock.is_synced = False
        fill(store, 200)  # written before the clock synchronised: sync must correct them first
        clock.is_synced = True
        pages = store.query("PRAGMA page_count")[0]["page_count"]
        store.write_now(lambda tx: tx.conn.execute(f"PRAGMA max_page_count = {pages}"))
        sync = service(store, central.url, central.token)
        outcome = await sync.sync_once()
        assert outcome.problem is not None and outcome.problem.kind == "disk"
        told = central.storage.station(STATION)
        assert told is not None and told.telemetry is not None
        assert told.telemetry["sync"]["last_error"] == "disk"
        assert told.telemetry["sync"]["pending"] == 200
        assert central.acked() == 0

        store.write_now(lambda tx: tx.conn.execute("PRAGMA max_page_count = 1073741823"))
        assert (await sync.catch_up()).ok
        await sync.aclose()
        checked, lost = lost_at_central(store, central)
        record("events_checked", checked)
        record("events_lost", lost)
        assert lost == 0 and checked == 200
    finally:
        store.close()
