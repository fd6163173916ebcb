"""Reminders to a member who opted in, end to end: a real station on simulated lock boards
syncs to central on uvicorn; the member borrows three tools (returning one) at the kiosk, the
office keeps their contact, and central's clock moves: "due tomorrow" goes out a day before
the due time and "overdue" after it, to a loopback SMS-gateway webhook through Apprise; the
returned tool is never reminded, nor one still out once the contact is deleted. The
same station's forced door reaches the duty channel as an alert.

The contact (here the member's own full number, as an SMS gateway takes it) must appear in no
station database, no synced event, no bundle, no log line and, sealed, not in central's
database file either.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from central.app import create_app
from central.auth import new_token, token_hash
from central.reminders.service import member_label
from central.server import BackgroundServer
from central.settings import CentralSettings
from central.storage.base import EventQuery, Storage
from central.storage.sqlite import SQLiteStorage
from tests.central.fleetkit import LiveCentral, synced_station
from tests.central.hookkit import Receiver
from tests.station.conftest import PHONE_KEY, channel

fernet = pytest.importorskip("cryptography.fernet", reason="cryptography is installed with central")
pytest.importorskip("apprise", reason="apprise is installed with central")

PHONE = "13911112222"
DAY = 86_400.0


class Clock:
    """Central's clock: real time that the test moves ahead."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def at(self, t: float) -> None:
        self.offset = t - time.time()


@pytest.fixture
def office(storage: Storage) -> Iterator[tuple[LiveCentral, Receiver, Clock, Any]]:
    receiver = Receiver()
    with BackgroundServer(receiver.app()) as hooks:
        base = f"{hooks.host}:{hooks.port}"
        settings = CentralSettings(
            alerts={
                "channels": {
                    "duty": {"url": f"json://{base}/hook/duty"},
                    "sms": {"url": f"json://{base}/hook/sms"},
                },
                "routes": [{"channels": ["duty"], "types": ["forced_open"]}],
                "max_reminders": 0,
            },
            reminders={
                "contact_key": fernet.Fernet.generate_key().decode(),
                "phone_hash_key": PHONE_KEY,
                "channel": "sms",
                "overdue_after_s": 3600,
            },
        )
        clock = Clock()
        token = new_token()
        storage.add_office_token("office", token_hash(token), time.time())
        app = create_app(storage, settings, clock=clock)
        with BackgroundServer(app) as server:
            yield LiveCentral(server.url, storage, token), receiver, clock, app


async def until(check: Callable[[], Any], within: float = 20.0) -> Any:
    async with asyncio.timeout(within):
        while True:
            result = await check()
            if result:
                return result
            await asyncio.sleep(0.1)


async def borrow(h: Any, tool: str) -> float:
    session = await h.identify(PHONE)
    r = await h.kiosk.post(
        "/api/v1/loans", json={"tool_id": tool}, headers={"X-Member-Session": session}
    )
    assert r.status_code == 202, r.text
    assert (await h.finish(r.json()))["state"] == "completed"
    rows = await h.events("loan_started")
    return next(json.loads(e["payload"])["due_at"] for e in rows if tool in e["payload"])


async def test_due_tomorrow_and_overdue_reach_the_member_and_nothing_leaks(
    office: tuple[LiveCentral, Receiver, Clock, Any],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    central, hooks, clock, app = office
    tick = app.state.notifier.tick
    http = central.office()
    async with synced_station(central, tmp_path, "WEST-02", "西门站") as west:
        r = await http.post("/api/v1/contacts", json={"phone": PHONE, "contact": PHONE})
        assert r.status_code == 201, r.text
        member = r.json()["member"]
        assert PHONE not in r.text
        await west.register(PHONE)
        for tool, locker in (("DRILL-9", "A04"), ("SAW-1", "A05")):
            await west.add_tool(tool, locker)
        await west.add_tool("LADDER-2", "A06", loan_period=5)
        drill_due = await borrow(west, "DRILL-9")
        await borrow(west, "SAW-1")
        session = await west.identify(PHONE)
        r = await west.kiosk.post(
            "/api/v1/returns", json={"tool_id": "SAW-1"}, headers={"X-Member-Session": session}
        )
        ret = await west.finish(r.json())
        await west.kiosk.post(
            f"/api/v1/flows/{ret['id']}/answer",
            json={"condition": "good"},
            headers={"X-Flow-Key": ret["key"]},
        )
        ladder_due = await borrow(west, "LADDER-2")
        assert ladder_due - drill_due > 2.5 * DAY
        # the station names the borrower as central computed it from the number
        started = await west.events("loan_started")
        assert {e["actor"] for e in started} == {member}
        west.sim.force_open(channel("A03"))

        async def synced() -> bool:
            rows = central.storage.events(EventQuery(station="WEST-02", limit=1000))
            types = {e["type"] for e in rows}
            return {"tool_returned", "alarm_raised"} <= types

        await until(synced)
        await asyncio.sleep(0.5)  # the batch's folds run right after it is stored
        assert tick() >= 1
        assert any("door forced open" in t for t in hooks.titles("duty"))
        assert hooks.titles("sms") == []

        # a day before the drill is due: not yet, then "due tomorrow"
        clock.at(drill_due - DAY - 60)
        assert tick() == 0
        clock.at(drill_due - DAY + 1)
        assert tick() == 1
        sms = hooks.got["sms"]
        assert sms[0]["to"] == PHONE and "DRILL-9" in sms[0]["message"]
        assert "西门站" in sms[0]["message"] and "Loan due soon" in sms[0]["title"]
        clock.at(drill_due + 600)
        assert tick() == 0
        clock.at(drill_due + 3601)
        assert tick() == 1
        assert "Loan overdue" in hooks.got["sms"][1]["title"]
        assert tick() == 0

        # the member opts out: the ladder, still out, is never reminded
        r = await http.post("/api/v1/contacts/delete", json={"phone": PHONE})
        assert r.status_code == 200 and r.json() == {"member": member, "deleted": True}
        for t in (ladder_due - DAY + 1, ladder_due + 3601):
            clock.at(t)
            tick()
        texts = [m["message"] for m in hooks.got["sms"]]
        assert len(texts) == 2 and not any("SAW-1" in t or "LADDER-2" in t for t in texts)
        r = await http.post("/api/v1/contacts/delete", json={"phone": PHONE})
        assert r.status_code == 404

        assert west.leaked_phones() == []
    await http.aclose()

    # nothing of the contact anywhere but the sealed column
    events = central.storage.events(EventQuery(limit=1000))
    assert events and PHONE not in json.dumps(events, ensure_ascii=False)
    assert all(PHONE not in b.body for b in central.storage.bundles())
    logged = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert PHONE not in logged and PHONE[-8:] not in logged
    if isinstance(central.storage, SQLiteStorage):
        for f in central.storage.path.parent.glob(central.storage.path.name + "*"):
            assert PHONE.encode() not in f.read_bytes(), f


def test_the_member_is_named_as_the_station_names_them() -> None:
    """The contract between central's label and the station's (station/people/phone.py)."""
    from station.people.phone import label
    from wire.identity import phone_hash

    h = phone_hash(PHONE_KEY, PHONE)
    assert member_label(h, PHONE[-4:]) == label(h, PHONE[-4:])


def test_contacts_refused_without_echoing_them(office: Any) -> None:
    central, *_ = office
    with httpx.Client(
        base_url=central.url, headers={"Authorization": f"Bearer {central.office_token}"}
    ) as http:
        r = http.post("/api/v1/contacts", json={"phone": "12345", "contact": "x"})
        assert r.status_code == 422 and "12345" not in r.text
        r = http.post("/api/v1/contacts", json={"phone": PHONE, "contact": "a\x01b"})
        assert r.status_code == 422 and PHONE not in r.text
        r = http.post("/api/v1/contacts", json={"phone": PHONE})
        assert r.status_code == 422 and "contact" in r.text
        assert httpx.post(f"{central.url}/api/v1/contacts", json={}).status_code == 401
