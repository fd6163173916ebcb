"""A station with a Modbus RTU board beside its cu board (the demo's Modbus variant), end to end:
the real daemon, the real drivers, both simulators on their own ptys."""

from __future__ import annotations

from pathlib import Path

import pytest

from launcher.demo import MODBUS_LOCKERS, demo_config
from station.config import ConfigError, parse_config
from tests.simstation import running_station, sim_config_data


def modbus_station(tmp_path: Path) -> dict:
    data = sim_config_data(tmp_path, open_window_s=1.0)
    variant = demo_config(tmp_path, modbus=True)
    data["boards"] = variant["boards"]
    data["lockers"] = variant["lockers"]
    for board in data["boards"]:
        board["sim_auto_close_s"] = 0.0
    return data


async def test_doors_on_the_modbus_board_open_close_and_jam_like_any_other(tmp_path: Path) -> None:
    async with running_station(modbus_station(tmp_path)) as st, st.client("staff") as c:
        boards = st.daemon.boards
        assert boards is not None
        sim = boards.simulators["M1"]
        lockers = st.daemon.station.lockers
        locker = MODBUS_LOCKERS[1]
        r = await c.post(f"/api/v1/lockers/{locker}/open", json={"reason": "restock"})
        assert r.status_code == 200 and r.json()["confirmed"] is True
        assert await lockers.wait_door(locker, "open", within=3)
        assert sim.unlocks(2) == 1 and not sim.coil_on(2)
        sim.close_door(2)
        assert await lockers.wait_door(locker, "closed", within=3)
        # Seen open during the pulse the driver times: this unlock's opening, not a forced one.
        forced = await st.daemon.station.store.aquery(
            "SELECT subject FROM alarms WHERE type = 'forced_open'"
        )
        assert forced == []
        opened = [
            e
            for e in st.daemon.station.store.events_after(0, limit=1000)
            if e.type == "door_opened" and e.locker == locker
        ]
        assert opened and opened[0].payload["cause"] == "unlock"

        sim.set_jammed(3)
        await c.post(f"/api/v1/lockers/{MODBUS_LOCKERS[2]}/open", json={"reason": "borrow"})
        await st.wait_for(lambda: lockers.view(MODBUS_LOCKERS[2])["faulty"], within=4)
        assert sim.unlocks(3) == 1

        assert await lockers.wait_door("A03", "closed", within=3)  # the cu bus is untouched
        r = await c.post("/api/v1/lockers/A03/open", json={"reason": "restock"})
        assert r.status_code == 200
        assert await lockers.wait_door("A03", "open", within=3)


def test_check_config_refuses_a_modbus_board_on_a_cu_adapter(tmp_path: Path) -> None:
    data = sim_config_data(tmp_path)
    data["boards"] = [
        {"id": "B0", "protocol": "cu", "port": "/dev/station-locks", "address": 0},
        {"id": "M1", "protocol": "modbus", "port": "/dev/station-locks", "address": 1},
    ]
    with pytest.raises(ConfigError, match="cannot share one adapter"):
        parse_config(data)
    data["boards"][1]["port"] = "/dev/station-modbus"
    data["boards"][1]["address"] = 0
    with pytest.raises(ConfigError, match=r"slave addresses 1\.\.247"):
        parse_config(data)
