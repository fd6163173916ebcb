"""The daemon syncs its usage log to a real central server: a door opening arrives at central."""

from __future__ import annotations

import time
from pathlib import Path

from central.app import create_app
from central.auth import new_token, token_hash
from central.bundles import bundle_body
from central.server import BackgroundServer
from central.storage.base import EventQuery
from central.storage.sqlite import SQLiteStorage
from tests.simstation import running_station, sim_config_data
from wire.bundle import parse_bundle


async def test_daemon_delivers_its_log_to_central(tmp_path: Path) -> None:
    storage = SQLiteStorage(tmp_path / "central.db")
    token = new_token()
    storage.add_station("TEST-0001", "test station", token_hash(token), time.time())
    with BackgroundServer(create_app(storage)) as server:
        data = sim_config_data(tmp_path)
        data["sync"] = {"url": server.url, "token": token, "interval_s": 0.2, "heartbeat_s": 1}
        async with running_station(data) as st, st.client("staff") as c:
            await c.post("/api/v1/lockers/A05/open", json={"reason": "sync test"})
            assert await st.daemon.station.lockers.wait_door("A05", "open", within=3)
            local = st.daemon.station.store.events_after(0, limit=10_000)
            last = local[-1].seq

            sync = st.daemon.station.sync

            def arrived() -> bool:
                # Central stores first; the station's cursor moves when it reads the answer.
                acked = storage.station("TEST-0001").acked_seq >= last
                return acked and sync.status()["cursor"] >= last

            await st.wait_for(arrived, within=20)
        got = storage.events(EventQuery(station="TEST-0001", limit=10_000))
    storage.close()
    by_seq = {e["seq"]: e for e in got}
    assert [by_seq[e.seq]["id"] for e in local] == [e.id for e in local]
    opened = [e for e in got if e["type"] == "door_unlocked" and e["locker"] == "A05"]
    assert opened and opened[0]["actor"] == "staff:test-staff"


async def test_notices_from_the_bundle_reach_the_kiosk(tmp_path: Path) -> None:
    storage = SQLiteStorage(tmp_path / "central.db")
    token = new_token()
    storage.add_station("TEST-0001", "test station", token_hash(token), time.time())
    document = {
        "notices": [{"id": "heat", "text": "高温天气，请多喝水", "text_en": "Hot day: drink water"}]
    }
    body, digest = bundle_body(parse_bundle(document))
    storage.publish_bundle(body, digest, [], time.time())
    with BackgroundServer(create_app(storage)) as server:
        data = sim_config_data(tmp_path)
        data["sync"] = {"url": server.url, "token": token, "interval_s": 0.2}
        async with running_station(data) as st, st.client("kiosk") as c:
            assert (await c.get("/api/v1/notices")).status_code == 200
            await st.wait_for(lambda: st.daemon.station.sync.current_bundle() is not None, 20)
            notices = (await c.get("/api/v1/notices")).json()
    storage.close()
    assert [n["text_en"] for n in notices] == ["Hot day: drink water"]
