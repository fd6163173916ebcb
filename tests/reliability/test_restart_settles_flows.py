"""The moments a power cut can split a door flow, each forced on purpose (the random power cuts
of test_power_cut.py find them by chance): how a restart settles what was cut short."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

from tests.reliability.powercutkit import (
    PHONES,
    PIN,
    Acknowledged,
    PoweredStation,
    check_after_restart,
    doors_match,
    powered_station,
)

TOOL, LOCKER, CH = "T01", "A01", 1


async def _loan_unlocked_then_killed(station: PoweredStation) -> None:
    """A member borrows T01; the lock clicks but the door sticks; the power goes."""
    async with station.client("staff") as staff:
        r = await staff.post("/api/v1/members", json={"phone": PHONES[0], "pin": PIN})
        assert r.status_code == 201, r.text
        body = {
            "id": TOOL,
            "name_zh": "打气筒",
            "name_en": "Pump",
            "category": "bike",
            "loan_period": 2,
            "loan_unit": "days",
            "locker": LOCKER,
        }
        assert (await staff.post("/api/v1/tools", json=body)).status_code == 201
        assert (await staff.post(f"/api/v1/tools/{TOOL}/restock", json={})).status_code == 200
    async with station.client("kiosk") as kiosk:
        r = await kiosk.post("/api/v1/members/identify", json={"phone": PHONES[0], "pin": PIN})
        session = r.json()["session"]
    await _flow_unlocked_then_killed(
        station, "/api/v1/loans", {"tool_id": TOOL}, CH, **{"X-Member-Session": session}
    )


def _events(station: PoweredStation, *types: str) -> list[dict]:
    with contextlib.closing(station.db()) as db:
        marks = ",".join("?" * len(types))
        rows = db.execute(f"SELECT * FROM events WHERE type IN ({marks}) ORDER BY seq", types)
        return [dict(r) | {"payload": json.loads(r["payload"])} for r in rows]


async def test_door_found_open_after_the_restart_starts_the_loan(tmp_path: Path) -> None:
    async with powered_station(tmp_path) as station:
        await station.start()
        await _loan_unlocked_then_killed(station)
        station.sim.force_open(CH)  # the door gave way while the station was down
        await station.start()
        assert check_after_restart(station, Acknowledged()) == []
        assert await doors_match(station) == []
        (started,) = _events(station, "loan_started")
        assert started["payload"]["tool_id"] == TOOL
        assert started["payload"]["recovered"]
        (opened,) = _events(station, "door_opened")
        (unlock,) = _events(station, "door_unlocked")
        assert opened["payload"]["cause"] == "unlock"
        assert opened["payload"]["unlock_seq"] == unlock["seq"]
        assert not _events(station, "alarm_raised"), "an explained door is no break-in"
        async with station.client("kiosk") as kiosk:
            tool = (await kiosk.get(f"/api/v1/tools/{TOOL}")).json()
        assert tool["status"] == "on_loan"


async def test_door_never_seen_open_sends_the_tool_to_staff(tmp_path: Path) -> None:
    async with powered_station(tmp_path) as station:
        await station.start()
        await _loan_unlocked_then_killed(station)
        await station.start()  # the door is shut: nobody can tell whether the pump left
        assert check_after_restart(station, Acknowledged()) == []
        assert not _events(station, "loan_started")
        (cancelled,) = _events(station, "loan_cancelled")
        assert cancelled["payload"]["tool_status"] == "maintenance"
        async with station.client("staff") as staff:
            tool = (await staff.get(f"/api/v1/tools/{TOOL}")).json()
            assert tool["status"] == "maintenance"
            assert "check whether the tool is in the locker" in tool["status_reason"]
            r = await staff.post(f"/api/v1/tools/{TOOL}/repaired", json={})
            assert r.json()["status"] == "available"


async def test_hand_in_cut_short_keeps_its_item(tmp_path: Path) -> None:
    async with powered_station(tmp_path) as station:
        await station.start()
        async with station.client("kiosk") as kiosk:
            r = await kiosk.post(
                "/api/v1/found", json={"category": "keys", "colour": "red", "place": "公园"}
            )
            flow = r.json()
            r = await kiosk.get(
                f"/api/v1/flows/{flow['id']}", params={"wait": 5, "state": "opening"}
            )
            assert r.json()["state"] == "open"
        await station.kill()  # the finder put the keys in; the power went before the door shut
        await station.start()
        assert check_after_restart(station, Acknowledged()) == []
        async with station.client("kiosk") as kiosk:
            items = (await kiosk.get("/api/v1/found")).json()
        assert [(i["number"], i["category"]) for i in items] == [("F0001", "keys")]


async def _flow_unlocked_then_killed(
    station: PoweredStation, path: str, body: dict, channel: int, **headers: str
) -> None:
    """The lock clicks but the door sticks; the power goes before anyone sees it open."""
    station.sim.set_jammed(channel)
    async with station.client("kiosk", **headers) as kiosk:
        r = await kiosk.post(path, json=body)
        assert r.status_code == 202, r.text
    async with asyncio.timeout(5):
        while station.sim.unlocks(channel) == 0:  # noqa: ASYNC110 - the board's thread counts
            await asyncio.sleep(0.01)
    await station.kill()
    station.sim.set_jammed(channel, False)


async def test_hand_in_whose_door_gave_way_during_the_outage_is_registered(
    tmp_path: Path,
) -> None:
    async with powered_station(tmp_path) as station:
        await station.start()
        body = {"category": "wallets", "colour": "brown", "place": "公交站"}
        await _flow_unlocked_then_killed(station, "/api/v1/found", body, 11)
        station.sim.force_open(11)  # the finder pulled it open and left the wallet
        await station.start()
        assert check_after_restart(station, Acknowledged()) == []
        (registered,) = _events(station, "found_item_registered")
        assert registered["payload"]["recovered"] and registered["locker"] == "A11"
        async with station.client("staff") as staff:
            item = (await staff.get("/api/v1/found/F0001/record")).json()
        assert (item["category"], item["colour"], item["place"]) == ("wallets", "brown", "公交站")
        assert item["valuable"] and item["collect_by"] is not None


async def test_deposit_cut_short_goes_to_staff_and_an_unopened_one_is_cancelled(
    tmp_path: Path,
) -> None:
    async with powered_station(tmp_path) as station:
        await station.start()
        async with station.client("staff") as staff:
            r = await staff.post("/api/v1/members", json={"phone": PHONES[1], "pin": PIN})
            assert r.status_code == 201, r.text
        for opened in (True, False):
            async with station.client("kiosk") as kiosk:
                r = await kiosk.post(
                    "/api/v1/members/identify", json={"phone": PHONES[1], "pin": PIN}
                )
                session = r.json()["session"]
            channel = 14 if opened else 15
            await _flow_unlocked_then_killed(
                station,
                "/api/v1/deposits",
                {"kind": "bag"},
                channel,
                **{"X-Member-Session": session},
            )
            if opened:
                station.sim.force_open(channel)
            await station.start()
            assert check_after_restart(station, Acknowledged()) == []
            if opened:
                station.sim.close_door(channel)
        (abandoned,) = _events(station, "deposit_abandoned")
        assert abandoned["locker"] == "A14"
        (cancelled,) = _events(station, "deposit_cancelled")
        assert cancelled["locker"] == "A15"
        assert cancelled["payload"]["reason"] == "station restarted before the door opened"
        async with station.client("staff") as staff:
            overtime = (await staff.get("/api/v1/deposits/overtime")).json()
        assert [(d["locker"], d["status"]) for d in overtime] == [("A14", "abandoned")]
