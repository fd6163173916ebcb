"""Occupancy through the daemon: a virtual LD2410 on a pty, the API and the live stream."""

from __future__ import annotations

import json
from pathlib import Path

import websockets

from drivers.sim.radar import VirtualRadar
from tests.simstation import TOKENS, running_station, sim_config_data


async def test_radar_presence_reaches_api_and_stream(tmp_path: Path) -> None:
    with VirtualRadar(tmp_path / "radar").start() as radar:
        data = sim_config_data(tmp_path)
        data["occupancy"] = {"radar_port": radar.path, "hold_s": 1.0, "stale_s": 3.0}
        async with running_station(data) as st, st.client("kiosk") as c:
            url = st.url.replace("http://", "ws://") + f"/api/v1/stream?token={TOKENS['kiosk']}"
            async with websockets.connect(url) as ws:
                await ws.recv()
                radar.person_sits_still()
                while True:
                    msg = json.loads(await ws.recv())
                    if msg["kind"] == "occupancy" and msg["occupancy"]["state"] == "occupied":
                        break
            body = (await c.get("/api/v1/occupancy")).json()
            assert body["state"] == "occupied"
            assert body["sensors"]["radar"]["online"] is True
            radar.person_leaves()
            await st.wait_for(
                lambda: st.daemon.station.occupancy.snapshot().state == "vacant", within=10
            )
            assert (await c.get("/api/v1/occupancy")).json()["state"] == "vacant"
            radar.mute()
            await st.wait_for(
                lambda: st.daemon.station.occupancy.snapshot().state == "unknown", within=10
            )
            alarms = st.daemon.station.store.query(
                "SELECT type, subject FROM alarms WHERE type = 'sensor_offline'"
            )
        assert alarms == [{"type": "sensor_offline", "subject": "radar"}]


async def test_override_needs_staff_and_is_checked(tmp_path: Path) -> None:
    data = sim_config_data(tmp_path)
    data["occupancy"] = {"fan": {"pin": 20}, "override_max_s": 600}
    from gpiozero.pins.mock import MockFactory

    factory = MockFactory()
    async with running_station(data, pin_factory=factory) as st:
        async with st.client("kiosk") as c:
            r = await c.post(
                "/api/v1/occupancy/relays/fan/override",
                json={"on": True, "duration_s": 60, "reason": "hot day"},
            )
            assert r.status_code == 403
        async with st.client("staff") as c:
            r = await c.post(
                "/api/v1/occupancy/relays/fan/override",
                json={"on": True, "duration_s": 6000, "reason": "hot day"},
            )
            assert r.status_code == 422 and "at most 600" in r.json()["detail"]
            r = await c.post(
                "/api/v1/occupancy/relays/fan/override",
                json={"on": True, "duration_s": 60, "reason": "hot day"},
            )
            assert r.status_code == 200 and r.json()["relays"]["fan"]["on"] is True
            # active-low relay board: on = pin driven low
            assert factory.pin(20).state == 0
            r = await c.delete("/api/v1/occupancy/relays/fan/override")
            assert r.status_code == 200
    factory.reset()
