"""A whole day at the station over HTTP, then a search for phone numbers everywhere they could
leak: every API response, every live-stream message, every log line, the usage log and the
database files. Also: every event has an actor, and members appear only as hash/last 4.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re

import pytest
import websockets

from tests.simstation import TOKENS
from tests.station.conftest import PIN, Harness

RESIDENT = "138 1234 5678"
COURIER = "+86 139-0000-1111"
FINDER = "18622223333"
OWNER = "177 3333 4444"
MEMBER_ACTOR = re.compile(r"^member:[0-9a-f]{8}/[0-9]{4}$")
ACTOR = re.compile(r"^(system|cli|member:[0-9a-f]{8}/[0-9]{4}|(kiosk|staff|central):[\w-]+)$")


async def test_a_day_at_the_station_leaks_no_phone_number(
    sim_station: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    h = sim_station
    stream: list[str] = []
    url = h.station.url.replace("http://", "ws://") + f"/api/v1/stream?token={TOKENS['kiosk']}"

    async def listen() -> None:
        async with websockets.connect(url) as ws:
            async for message in ws:
                stream.append(str(message))

    listener = asyncio.create_task(listen())
    await asyncio.sleep(0.2)

    # morning: staff set up the station
    staff = await h.staff()
    await h.register(RESIDENT)
    await h.register(COURIER, kind="courier")
    await h.add_tool("DRILL", "A01")
    await h.add_tool("SAW", "A02", staff_approval_required=True)
    await staff.post("/api/v1/supplies/water/count", json={"count": 3})
    await staff.post("/api/v1/tools/SAW/approvals", json={"phone": h.phone(RESIDENT)})

    # a resident borrows two tools, one of them needing approval, with one wrong PIN first
    r = await h.kiosk.post(
        "/api/v1/members/identify", json={"phone": h.phone(RESIDENT), "pin": "000111"}
    )
    assert r.status_code == 403
    for tool in ("DRILL", "SAW"):
        session = await h.identify(RESIDENT)
        r = await h.kiosk.post(
            "/api/v1/loans", json={"tool_id": tool}, headers={"X-Member-Session": session}
        )
        assert (await h.finish(r.json()))["state"] == "completed"

    # a courier leaves a phone to charge and picks it up
    session = await h.identify(COURIER)
    r = await h.kiosk.post(
        "/api/v1/deposits", json={"kind": "phone_charge"}, headers={"X-Member-Session": session}
    )
    deposit = await h.finish(r.json())
    code = deposit["result"]["code"]
    r = await h.kiosk.post("/api/v1/pickups", json={"locker": deposit["locker"], "code": code})
    await h.finish(r.json())

    # a finder hands in a wallet; its owner claims it; staff approve; the owner picks it up
    r = await h.kiosk.post(
        "/api/v1/found",
        json={
            "category": "wallets",
            "colour": "brown",
            "place": "公园",
            "finder_phone": h.phone(FINDER),
        },
    )
    number = (await h.finish(r.json()))["result"]["number"]
    r = await h.kiosk.post(
        f"/api/v1/found/{number}/claims",
        json={"phone": h.phone(OWNER), "description": "brown wallet, 2 bank cards"},
    )
    claim = r.json()
    approval = (await staff.post(f"/api/v1/claims/{claim['id']}/approve", json={})).json()
    r = await h.kiosk.post(
        "/api/v1/pickups", json={"locker": approval["locker"], "code": approval["code"]}
    )
    await h.finish(r.json())

    # the drill comes back broken
    r = await h.kiosk.post("/api/v1/returns", json={"tool_id": "DRILL"})
    ret = await h.finish(r.json())
    await h.kiosk.post(
        f"/api/v1/flows/{ret['id']}/answer",
        json={"condition": "parts_missing"},
        headers={"X-Flow-Key": ret["key"]},
    )

    # staff look at everything a staff member can list
    for path in (
        "/api/v1/loans",
        "/api/v1/loans/overdue",
        "/api/v1/claims?status=picked_up",
        "/api/v1/deposits",
        "/api/v1/found/valuables",
        f"/api/v1/found/{number}/record",
        "/api/v1/alarms?include_cleared=true",
        "/api/v1/events?limit=1000",
        "/api/v1/tools",
        "/api/v1/staff",
    ):
        assert (await staff.get(path)).status_code == 200, path
    await staff.post("/api/v1/members/lookup", json={"phone": h.phone(RESIDENT)})
    await h.sweep(advance_s=3 * 86400)  # overdue loans, expired codes

    await asyncio.sleep(0.2)
    listener.cancel()
    with pytest.raises(asyncio.CancelledError):
        await listener

    # the stream carried the flows, but never a pickup code
    flows = [json.loads(m) for m in stream if '"kind":"flow"' in m.replace(" ", "")]
    assert {f["flow"]["kind"] for f in flows} == {"loan", "deposit", "pickup", "handin", "return"}
    assert not [m for m in stream if code in m or approval["code"] in m]

    # every event has an actor; members appear only as hash prefix / last 4
    events = await h.events()
    assert events
    for e in events:
        assert ACTOR.match(e["actor"]), e
    member_actors = {e["actor"] for e in events if e["actor"].startswith("member:")}
    assert {a[-4:] for a in member_actors} == {"5678", "1111", "4444"}
    assert all(MEMBER_ACTOR.match(a) for a in member_actors)
    # codes never reach the log
    assert not [e for e in events if code in e["payload"] or approval["code"] in e["payload"]]

    # and no phone number anywhere: responses, stream, log lines, usage log, database files
    typed = h.typed_phones
    digits = {"".join(ch for ch in p if ch.isdigit())[-11:] for p in typed}
    assert digits == {"13812345678", "13900001111", "18622223333", "17733334444"}
    everywhere = "\n".join(
        [*h.transcript, *stream, caplog.text, json.dumps(events, ensure_ascii=False)]
    )
    for needle in typed | digits:
        assert needle not in everywhere, needle
    assert not h.leaked_phones()
    # nor a PIN (responses never echo a request body)
    assert PIN not in everywhere
