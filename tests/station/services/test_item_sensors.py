"""Item sensors end to end: a cu board with infrared "item present" sensors, the real daemon,
real HTTP. Lockers report what they hold; deposits closed empty ask before a code ties the
locker up; pickups that leave something behind remind, then tell staff; a locker the station
thinks empty that holds something raises item_unexpected."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import websockets

from tests.simstation import TOKENS
from tests.station.conftest import Harness, channel, services_config, start_harness


@contextlib.asynccontextmanager
async def sensing_station(tmp_path: Path) -> AsyncIterator[Harness]:
    data = services_config(tmp_path)
    data["boards"][0]["item_sensor"] = True
    data["services"]["storage"] = {"answer_wait_s": 5.0}
    async with start_harness(data) as h:
        yield h


async def until(predicate: Callable[[], bool], within: float = 5.0) -> None:
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 - the state lives in the daemon's tasks
            await asyncio.sleep(0.02)


async def alarm_states(h: Harness, type: str, subject: str) -> list[str]:
    rows = await h.services.store.aquery(
        "SELECT state FROM alarms WHERE type = ? AND subject = ? ORDER BY id", (type, subject)
    )
    return [r["state"] for r in rows]


async def start_deposit(h: Harness) -> dict:
    r = await h.kiosk.post("/api/v1/deposits", json={"kind": "bag"})
    assert r.status_code == 202, r.text
    flow = r.json()
    await h.follow(flow["id"], {"open"})
    return flow


async def answer(h: Harness, flow: dict, choice: str) -> dict:
    r = await h.kiosk.post(
        f"/api/v1/flows/{flow['id']}/answer",
        json={"choice": choice},
        headers={"X-Flow-Key": flow["key"]},
    )
    assert r.status_code == 200, r.text
    if r.json()["state"] in {"completed", "cancelled", "abandoned", "failed"}:
        return r.json()  # the answer itself brought the secret result, once
    return await h.follow(
        flow["id"], {"completed", "cancelled", "abandoned", "failed"}, key=flow["key"]
    )


async def test_lockers_report_what_they_hold_in_the_api_and_the_stream(tmp_path: Path) -> None:
    async with sensing_station(tmp_path) as h:
        lockers = h.daemon.station.lockers
        await until(lambda: lockers.item_present("A03") is False)
        url = h.station.url.replace("http://", "ws://") + f"/api/v1/stream?token={TOKENS['staff']}"
        async with websockets.connect(url) as ws:
            snapshot = json.loads(await ws.recv())
            assert {lk["item_present"] for lk in snapshot["lockers"]} == {False}
            h.sim.set_item(3, True)
            async with asyncio.timeout(5):
                while True:
                    event = json.loads(await ws.recv()).get("event") or {}
                    if event.get("type") == "item_sensed":
                        break
        assert (event["locker"], event["payload"]) == ("A03", {"present": True})
        r = await h.kiosk.get("/api/v1/lockers/A03")
        assert r.json()["item_present"] is True
        h.sim.set_silent()  # a board that cannot be read: unknown, not "empty"
        await until(lambda: lockers.view("A03")["item_present"] is None, within=8)


async def test_a_deposit_closed_empty_asks_and_no_releases_the_locker(tmp_path: Path) -> None:
    async with sensing_station(tmp_path) as h:
        flow = await start_deposit(h)
        h.close(flow["locker"])  # nothing was put in: the sensor sees an empty compartment
        asked = await h.follow(flow["id"], {"awaiting_answer", "completed"})
        assert asked["state"] == "awaiting_answer"
        assert asked["question"]["id"] == "item_missing"
        assert asked["question"]["choices"] == ["yes", "no"]
        done = await answer(h, flow, "no")
        assert done["state"] == "completed"
        assert done["result"]["released"] is True and "code" not in done["result"]
        assert [e["type"] for e in await h.events("deposit_code_issued", "deposit_released")] == [
            "deposit_released"
        ]
        staff = await h.staff()
        assert (await staff.get("/api/v1/deposits")).json()[0]["status"] == "cleared"
        again = await start_deposit(h)  # the same locker is free again
        assert again["locker"] == flow["locker"]


async def test_a_deposit_closed_empty_answered_yes_still_gets_its_code(tmp_path: Path) -> None:
    async with sensing_station(tmp_path) as h:
        flow = await start_deposit(h)
        h.close(flow["locker"])
        await h.follow(flow["id"], {"awaiting_answer"})
        done = await answer(h, flow, "yes")  # a flat envelope the sensor cannot see
        assert len(done["result"]["code"]) == 8


async def test_a_deposit_with_something_inside_is_not_asked(tmp_path: Path) -> None:
    async with sensing_station(tmp_path) as h:
        flow = await start_deposit(h)
        h.sim.set_item(channel(flow["locker"]), True)
        h.close(flow["locker"])
        done = await h.follow(flow["id"], {"completed", "awaiting_answer"}, key=flow["key"])
        assert done["state"] == "completed" and len(done["result"]["code"]) == 8


async def deposit_with_bag(h: Harness) -> tuple[str, str]:
    flow = await start_deposit(h)
    h.sim.set_item(channel(flow["locker"]), True)
    h.close(flow["locker"])
    done = await h.follow(flow["id"], {"completed"}, key=flow["key"])
    return flow["locker"], done["result"]["code"]


async def start_pickup(h: Harness, locker: str, code: str) -> dict:
    r = await h.kiosk.post("/api/v1/pickups", json={"locker": locker, "code": code})
    assert r.status_code == 202, r.text
    flow = r.json()
    await h.follow(flow["id"], {"open"})
    return flow


async def test_a_pickup_that_leaves_something_reminds_then_tells_staff(tmp_path: Path) -> None:
    async with sensing_station(tmp_path) as h:
        locker, code = await deposit_with_bag(h)
        flow = await start_pickup(h, locker, code)
        h.close(locker)  # the bag is still inside
        asked = await h.follow(flow["id"], {"awaiting_answer", "completed"})
        assert asked["question"]["id"] == "item_left"
        done = await answer(h, flow, "leave_it")
        assert done["result"]["item_left"] is True
        assert await alarm_states(h, "item_left", locker) == ["raised"]
        assert await alarm_states(h, "item_unexpected", locker) == []


async def test_a_pickup_reminded_opens_once_more_and_all_is_well(tmp_path: Path) -> None:
    async with sensing_station(tmp_path) as h:
        locker, code = await deposit_with_bag(h)
        flow = await start_pickup(h, locker, code)
        h.close(locker)
        await h.follow(flow["id"], {"awaiting_answer"})
        r = await h.kiosk.post(
            f"/api/v1/flows/{flow['id']}/answer",
            json={"choice": "open_again"},
            headers={"X-Flow-Key": flow["key"]},
        )
        assert r.status_code == 200
        await h.follow(flow["id"], {"open"})
        h.sim.set_item(channel(locker), False)  # taken this time
        h.close(locker)
        done = await h.follow(flow["id"], {"completed"})
        assert "item_left" not in done["result"]
        assert await alarm_states(h, "item_left", locker) == []
        unlocks = await h.events("door_unlocked")
        assert [e["locker"] for e in unlocks].count(locker) == 3  # deposit, pickup, once more


async def test_something_in_a_locker_thought_empty_is_item_unexpected(tmp_path: Path) -> None:
    async with sensing_station(tmp_path) as h:
        lockers = h.daemon.station.lockers
        await until(lambda: lockers.item_present("A15") is False)
        h.sim.set_item(15, True)  # a storage locker with no deposit
        await until(lambda: lockers.item_present("A15") is True)
        await h.sweep()
        assert await alarm_states(h, "item_unexpected", "A15") == ["raised"]
        h.sim.set_item(3, True)  # a tool locker: lending does not say, so it is not judged
        await until(lambda: lockers.item_present("A03") is True)
        assert await alarm_states(h, "item_unexpected", "A03") == []
        h.sim.set_item(15, False)
        await until(lambda: lockers.item_present("A15") is False)
        assert await alarm_states(h, "item_unexpected", "A15") == ["cleared"]


async def test_a_hand_in_closed_empty_asks_and_no_closes_the_record(tmp_path: Path) -> None:
    async with sensing_station(tmp_path) as h:
        body = {"category": "keys", "colour": "black", "place": "公交站"}
        r = await h.kiosk.post("/api/v1/found", json=body)
        assert r.status_code == 202, r.text
        flow = r.json()
        await h.follow(flow["id"], {"open"})
        h.close(flow["locker"])
        asked = await h.follow(flow["id"], {"awaiting_answer", "completed"})
        assert asked["question"]["id"] == "item_missing"
        done = await answer(h, flow, "no")
        assert done["result"]["released"] is True
        assert [e["type"] for e in await h.events("found_handin_released")] == [
            "found_handin_released"
        ]
        listed = (await h.kiosk.get("/api/v1/found", params={"category": "keys"})).json()
        assert listed == []
        assert await alarm_states(h, "item_unexpected", flow["locker"]) == []
