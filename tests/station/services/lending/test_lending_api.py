"""Tool lending end to end: HTTP in, a pty-simulated lock board behind, doors and all."""

from __future__ import annotations

import asyncio

import pytest

from tests.station.conftest import STAFF_NO, Harness, channel

PHONE = "13812345678"
OTHER = "15011112222"


async def borrow(h: Harness, tool_id: str, session: str):
    return await h.kiosk.post(
        "/api/v1/loans", json={"tool_id": tool_id}, headers={"X-Member-Session": session}
    )


async def test_borrow_starts_the_loan_only_once_the_door_is_seen_open(
    sim_station: Harness,
) -> None:
    h = sim_station
    member = await h.register(PHONE)
    await h.add_tool("DRILL-1", "A03")
    session = await h.identify(PHONE)
    r = await borrow(h, "DRILL-1", session)
    assert r.status_code == 202
    flow = r.json()
    assert (flow["kind"], flow["locker"], flow["state"]) == ("loan", "A03", "opening")
    opened = await h.follow(flow["id"], {"open"})
    assert h.sim.unlocks(channel("A03")) == 1
    assert h.sim.is_open(channel("A03"))
    assert opened["result"]["tool_id"] == "DRILL-1"
    assert opened["result"]["due_at"] == pytest.approx(h.clock.wall() + 2 * 86400, abs=5)
    tool = (await h.kiosk.get("/api/v1/tools/DRILL-1")).json()
    assert tool["status"] == "on_loan"
    assert tool["borrowed_by"] == "138****5678"
    h.close("A03")
    done = await h.follow(flow["id"], {"completed"})
    assert done["message"] == "Done: door A03 is closed"
    # the member's session lasted one flow
    r = await h.kiosk.get("/api/v1/members/me", headers={"X-Member-Session": session})
    assert r.status_code == 401
    # the log tells the story in order, every step with its actor
    log = await h.events(
        "loan_requested", "door_unlocked", "door_opened", "loan_started", "door_closed"
    )
    first = next(i for i, e in enumerate(log) if e["type"] == "loan_requested")
    log = log[first:]
    assert [e["type"] for e in log] == [
        "loan_requested",
        "door_unlocked",
        "door_opened",
        "loan_started",
        "door_closed",
    ]
    assert {log[i]["actor"] for i in (0, 1, 3)} == {member["label"]}
    assert all(e["locker"] == "A03" for e in log)
    assert '"reason":"loan of tool DRILL-1"' in log[1]["payload"]
    # the member now sees the loan when identifying
    session = await h.identify(PHONE)
    me = (await h.kiosk.get("/api/v1/members/me", headers={"X-Member-Session": session})).json()
    assert [loan["tool_id"] for loan in me["loans"]] == ["DRILL-1"]


async def test_return_asks_the_condition_and_needs_repair_blocks_lending(
    sim_station: Harness,
) -> None:
    h = sim_station
    await h.register(PHONE)
    await h.register(OTHER)
    await h.add_tool("SAW-1", "A04")
    flow = (await borrow(h, "SAW-1", await h.identify(PHONE))).json()
    await h.finish(flow)

    # anyone may return a tool whose borrower is known: here a neighbour, without identifying
    r = await h.kiosk.post("/api/v1/returns", json={"tool_id": "SAW-1"})
    assert r.status_code == 202
    ret = r.json()
    asked = await h.finish(ret)
    assert asked["state"] == "awaiting_answer"
    assert asked["question"]["choices"] == ["works", "needs_repair", "parts_missing"]
    r = await h.kiosk.post(
        f"/api/v1/flows/{ret['id']}/answer",
        json={"condition": "needs_repair", "note": "blunt"},
        headers={"X-Flow-Key": ret["key"]},
    )
    assert r.status_code == 200
    assert r.json()["state"] == "completed"
    assert r.json()["result"]["tool_status"] == "maintenance"
    tool = (await h.kiosk.get("/api/v1/tools/SAW-1")).json()
    assert tool["status"] == "maintenance"
    assert tool["status_reason"].startswith("returned: needs repair: blunt; returned by someone")

    # a tool in maintenance cannot be lent until staff release it
    r = await borrow(h, "SAW-1", await h.identify(OTHER))
    assert r.status_code == 409
    assert r.json()["code"] == "tool_unavailable" and r.json()["status"] == "maintenance"
    staff = await h.staff()
    r = await staff.post("/api/v1/tools/SAW-1/repaired", json={"note": "sharpened"})
    assert r.json()["status"] == "available"
    r = await borrow(h, "SAW-1", await h.identify(OTHER))
    assert r.status_code == 202
    await h.finish(r.json())

    returned = (await h.events("tool_returned"))[0]
    assert returned["actor"] == "kiosk:test-kiosk"
    assert "/5678" in returned["payload"]  # the borrower, by hash prefix and last 4 only
    cond = (await h.events("return_condition"))[0]
    assert '"condition":"needs_repair"' in cond["payload"]
    assert (await h.events("tool_repaired"))[0]["actor"] == f"staff:{STAFF_NO}"


async def test_return_works_makes_the_tool_available(sim_station: Harness) -> None:
    h = sim_station
    await h.register(PHONE)
    await h.add_tool("LADDER", "A05")
    await h.finish((await borrow(h, "LADDER", await h.identify(PHONE))).json())
    session = await h.identify(PHONE)
    r = await h.kiosk.post(
        "/api/v1/returns", json={"tool_id": "LADDER"}, headers={"X-Member-Session": session}
    )
    ret = await h.finish(r.json())
    r = await h.kiosk.post(
        f"/api/v1/flows/{ret['id']}/answer",
        json={"condition": "works"},
        headers={"X-Flow-Key": ret["key"]},
    )
    assert r.json()["result"] == {
        "loan_id": 1,
        "tool_id": "LADDER",
        "condition": "works",
        "tool_status": "available",
    }
    assert (await h.kiosk.get("/api/v1/tools/LADDER")).json()["status"] == "available"
    loans = (await (await h.staff()).get("/api/v1/loans", params={"open": False})).json()
    assert loans[0]["return_condition"] == "works" and loans[0]["returned_at"] is not None


async def test_unanswered_return_sends_the_tool_to_maintenance(sim_station_factory) -> None:
    async with sim_station_factory(services={"lending": {"answer_wait_s": 0.3}}) as h:
        await h.register(PHONE)
        await h.add_tool("DRILL-2", "A06")
        await h.finish((await borrow(h, "DRILL-2", await h.identify(PHONE))).json())
        ret = (await h.kiosk.post("/api/v1/returns", json={"tool_id": "DRILL-2"})).json()
        await h.finish(ret)
        done = await h.follow(ret["id"], {"completed"})
        assert done["result"]["condition"] == "unreported"
        tool = (await h.kiosk.get("/api/v1/tools/DRILL-2")).json()
        assert tool["status"] == "maintenance"
        assert "without a condition report" in tool["status_reason"]


async def test_overdue_member_is_refused_and_listed(sim_station: Harness) -> None:
    h = sim_station
    await h.register(PHONE)
    await h.add_tool("DRILL-1", "A03", loan_period=3, loan_unit="hours")
    await h.add_tool("DRILL-2", "A04")
    await h.finish((await borrow(h, "DRILL-1", await h.identify(PHONE))).json())
    await h.sweep(advance_s=3 * 3600 + 60)

    overdue = (await h.central.get("/api/v1/loans/overdue")).json()
    assert [(loan["tool_id"], loan["member"]) for loan in overdue] == [("DRILL-1", "138****5678")]
    logged = await h.events("loan_overdue")
    assert len(logged) == 1 and logged[0]["locker"] == "A03"
    await h.sweep()
    assert len(await h.events("loan_overdue")) == 1  # logged once

    r = await h.kiosk.post(
        "/api/v1/members/identify", json={"phone": h.phone(PHONE), "pin": "527194"}
    )
    me = r.json()["member"]
    assert [loan["tool_id"] for loan in me["overdue"]] == ["DRILL-1"]
    r = await borrow(h, "DRILL-2", r.json()["session"])
    assert r.status_code == 403
    body = r.json()
    assert body["code"] == "overdue"
    assert "DRILL-1" in [loan["tool_id"] for loan in body["overdue"]]
    assert h.sim.unlocks(channel("A04")) == 0
    refused = await h.events("loan_refused")
    assert '"reason":"overdue"' in refused[0]["payload"]


async def test_loan_limit(sim_station: Harness) -> None:
    h = sim_station
    await h.register(PHONE)
    for tool, locker in (("T1", "A01"), ("T2", "A02"), ("T3", "A03")):
        await h.add_tool(tool, locker)
    for tool in ("T1", "T2"):
        await h.finish((await borrow(h, tool, await h.identify(PHONE))).json())
    r = await borrow(h, "T3", await h.identify(PHONE))
    assert r.status_code == 403
    assert (r.json()["code"], r.json()["limit"]) == ("loan_limit", 2)


async def test_approval_tier_tool_needs_staff_approval_for_that_member(
    sim_station: Harness,
) -> None:
    h = sim_station
    await h.register(PHONE)
    await h.register(OTHER)
    await h.add_tool(
        "CHAINSAW", "A07", staff_approval_required=True, safety_notice="Gloves and goggles"
    )
    r = await borrow(h, "CHAINSAW", await h.identify(PHONE))
    assert r.status_code == 403
    assert r.json()["code"] == "approval_required"
    assert h.sim.unlocks(channel("A07")) == 0
    assert (await h.kiosk.get("/api/v1/tools/CHAINSAW")).json()["status"] == "available"

    staff = await h.staff()
    r = await staff.post("/api/v1/tools/CHAINSAW/approvals", json={"phone": h.phone(PHONE)})
    assert r.status_code == 201
    assert r.json()["member"] == "138****5678"
    # the approval is for that member only
    r = await borrow(h, "CHAINSAW", await h.identify(OTHER))
    assert r.status_code == 403 and r.json()["code"] == "approval_required"
    r = await borrow(h, "CHAINSAW", await h.identify(PHONE))
    assert r.status_code == 202
    done = await h.finish(r.json())
    assert done["state"] == "completed"
    approved = (await h.events("loan_approved"))[0]
    assert approved["actor"] == f"staff:{STAFF_NO}"


async def test_jammed_door_during_a_borrow_cancels_the_loan(sim_station_factory) -> None:
    async with sim_station_factory(fake_clock=False) as h:
        await h.register(PHONE)
        await h.add_tool("DRILL-1", "A03")
        h.sim.set_jammed(channel("A03"))
        r = await borrow(h, "DRILL-1", await h.identify(PHONE))
        assert r.status_code == 202
        flow = await h.follow(r.json()["id"], {"cancelled", "completed", "open"})
        assert flow["state"] == "cancelled"
        assert flow["error"] == "door_not_opened"
        assert "did not open" in flow["message"]
        assert h.sim.unlocks(channel("A03")) == 1  # never re-sent by the station
        tool = (await h.kiosk.get("/api/v1/tools/DRILL-1")).json()
        assert tool["status"] == "available" and tool["borrowed_by"] is None
        staff = await h.staff()
        assert (await staff.get("/api/v1/loans")).json() == []
        cancelled = await h.events("loan_cancelled")
        assert "did not open" in cancelled[0]["payload"]
        assert not await h.events("loan_started")
        await h.station.wait_for(
            lambda: h.services.store.query("SELECT 1 FROM alarms WHERE type = 'door_jammed'") != []
        )
        # the locker is out of service: the next borrower is told before any unlock
        r = await borrow(h, "DRILL-1", await h.identify(PHONE))
        assert r.status_code == 409 and r.json()["code"] == "locker_unavailable"
        assert h.sim.unlocks(channel("A03")) == 1


async def test_two_requests_for_one_tool_get_one_loan(sim_station: Harness) -> None:
    h = sim_station
    await h.register(PHONE)
    await h.register(OTHER)
    await h.add_tool("DRILL-1", "A03")
    a, b = await h.identify(PHONE), await h.identify(OTHER)
    ra, rb = await asyncio.gather(borrow(h, "DRILL-1", a), borrow(h, "DRILL-1", b))
    assert sorted([ra.status_code, rb.status_code]) == [202, 409]
    winner = ra if ra.status_code == 202 else rb
    await h.finish(winner.json())
    assert h.sim.unlocks(channel("A03")) == 1


async def test_staff_catalogue_actions_are_audited(sim_station: Harness) -> None:
    h = sim_station
    staff = await h.staff()
    r = await staff.post(
        "/api/v1/tools",
        json={
            "id": "GLUE",
            "name_zh": "热熔胶枪",
            "name_en": "Glue gun",
            "category": "craft",
            "loan_period": 1,
            "accessories": ["10 sticks"],
        },
    )
    assert r.status_code == 201 and r.json()["status"] == "maintenance"
    r = await staff.post("/api/v1/tools/GLUE/restock", json={"note": "in"})
    assert r.status_code == 409 and r.json()["code"] == "invalid_state"  # no locker yet
    r = await staff.post("/api/v1/tools/GLUE/assign", json={"locker": "A11"})
    assert r.status_code == 422 and "lost_found" in r.json()["detail"]
    assert (
        await staff.post("/api/v1/tools/GLUE/assign", json={"locker": "A09"})
    ).status_code == 200
    assert (await staff.post("/api/v1/tools/GLUE/restock", json={"note": "in"})).json()[
        "status"
    ] == "available"
    await h.add_tool("OTHER", "A10")
    r = await staff.post("/api/v1/tools/OTHER/assign", json={"locker": "A09"})
    assert r.status_code == 409 and r.json()["code"] == "locker_taken"
    r = await staff.patch("/api/v1/tools/GLUE", json={"loan_period": 3, "loan_unit": "days"})
    assert r.json()["loan_period"] == 3
    r = await staff.post("/api/v1/tools/GLUE/missing", json={"reason": "locker found empty"})
    assert r.json()["status"] == "missing"
    r = await staff.post("/api/v1/tools/GLUE/retire", json={"reason": "broken beyond repair"})
    assert r.json()["status"] == "retired" and r.json()["locker"] is None
    r = await h.kiosk.post("/api/v1/tools", json={"id": "X"})
    assert r.status_code == 403
    log = await h.events(
        "tool_added",
        "tool_assigned",
        "tool_restocked",
        "tool_updated",
        "tool_missing",
        "tool_retired",
    )
    glue = [e for e in log if '"tool_id":"GLUE"' in e["payload"]]
    assert [e["type"] for e in glue] == [
        "tool_added",
        "tool_assigned",
        "tool_restocked",
        "tool_updated",
        "tool_missing",
        "tool_retired",
    ]
    assert {e["actor"] for e in glue} == {f"staff:{STAFF_NO}"}


async def test_borrowing_needs_a_member_session(sim_station: Harness) -> None:
    await sim_station.add_tool("DRILL-1", "A03")
    r = await sim_station.kiosk.post("/api/v1/loans", json={"tool_id": "DRILL-1"})
    assert r.status_code == 401 and r.json()["code"] == "member_session_expired"
    r = await sim_station.kiosk.post(
        "/api/v1/loans", json={"tool_id": "DRILL-1"}, headers={"X-Member-Session": "forged"}
    )
    assert r.status_code == 401
    assert sim_station.sim.unlocks() == 0
