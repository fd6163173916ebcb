"""Lost and found end to end: hand-in through a real door, claims, codes, expiry, removal."""

from __future__ import annotations

from tests.station.conftest import STAFF_NO, Harness, channel

FINDER = "18622223333"
OWNER = "17733334444"
STRANGER = "13544445555"


async def hand_in(h: Harness, **fields) -> dict:
    body = {"category": "keys", "colour": "black", "place": "公交站", **fields}
    if body.get("finder_phone"):
        h.phone(body["finder_phone"])
    r = await h.kiosk.post("/api/v1/found", json=body)
    assert r.status_code == 202, r.text
    done = await h.finish(r.json())
    assert done["state"] == "completed", done
    return done


async def claim(h: Harness, number: str, phone: str, description: str = "my black keys"):
    return await h.kiosk.post(
        f"/api/v1/found/{number}/claims",
        json={"phone": h.phone(phone), "description": description},
    )


async def pickup(h: Harness, locker: str, code: str):
    return await h.kiosk.post("/api/v1/pickups", json={"locker": locker, "code": code})


async def test_hand_in_registers_the_item_once_the_door_opens(sim_station: Harness) -> None:
    h = sim_station
    options = (await h.kiosk.get("/api/v1/found/options")).json()
    assert [c["code"] for c in options["categories"] if c["valuable"]] == [
        "documents",
        "electronics",
        "wallets",
    ]
    assert "公交站" in options["places"]
    r = await h.kiosk.post(
        "/api/v1/found",
        json={
            "category": "keys",
            "colour": "black",
            "place": "公交站",
            "description": "3 keys on a red ring",
            "finder_phone": h.phone(FINDER),
        },
    )
    flow = r.json()
    assert (flow["kind"], flow["locker"]) == ("handin", "A11")
    opened = await h.follow(flow["id"], {"open"})
    # registered as the door opens, so a restart before it shuts cannot lose the item's record
    assert opened["result"]["number"] == "F0001"
    assert len(await h.events("found_item_registered")) == 1
    h.close("A11")
    done = await h.follow(flow["id"], {"completed"})
    assert done["result"] == {
        "number": "F0001",
        "locker": "A11",
        "category": "keys",
        "valuable": False,
    }
    assert "F0001" in done["message"]
    reg = (await h.events("found_item_registered"))[0]
    assert reg["actor"] == "kiosk:test-kiosk" and reg["locker"] == "A11"
    assert "/3333" in reg["payload"]  # the finder, by hash prefix and last 4 only

    # browsing shows public fields, never the finder
    items = (await h.kiosk.get("/api/v1/found", params={"category": "keys"})).json()
    assert items == [
        {
            "number": "F0001",
            "category": "keys",
            "category_zh": "钥匙",
            "category_en": "Keys",
            "colour": "black",
            "place": "公交站",
            "description": "3 keys on a red ring",
            "found_at": h.clock.wall(),
            "status": "held",
        }
    ]
    assert (await h.kiosk.get("/api/v1/found", params={"category": "wallets"})).json() == []
    assert (await h.kiosk.get("/api/v1/found", params={"since": h.clock.wall() + 1})).json() == []
    staff = await h.staff()
    record = (await staff.get("/api/v1/found/F0001/record")).json()
    assert record["finder"] == "186****3333"
    # a second hand-in takes the next free lost-and-found locker
    second = await hand_in(h, category="umbrellas", colour="blue")
    assert (second["locker"], second["result"]["number"]) == ("A12", "F0002")


async def test_claim_approve_pickup_closes_the_case(sim_station: Harness) -> None:
    h = sim_station
    await hand_in(h)
    r = await claim(h, "F0001", OWNER)
    assert r.status_code == 201
    c = r.json()
    assert (c["status"], c["claimant"], c["item"]) == ("pending", "177****4444", "F0001")
    staff = await h.staff()
    pending = (await staff.get("/api/v1/claims")).json()
    assert [p["id"] for p in pending] == [c["id"]]
    r = await staff.post(f"/api/v1/claims/{c['id']}/approve", json={"note": "described the ring"})
    assert r.status_code == 200
    approval = r.json()
    assert approval["locker"] == "A11"
    assert approval["claim"]["status"] == "approved"
    assert approval["code_expires_at"] == h.clock.wall() + 48 * 3600
    code = approval["code"]
    assert len(code) == 8 and code.isdigit()
    assert (await h.kiosk.get("/api/v1/pickups/lockers")).json() == [{"locker": "A11"}]

    r = await pickup(h, "A11", code)
    assert r.status_code == 202
    done = await h.finish(r.json())
    assert done["state"] == "completed"
    assert done["result"]["kind"] == "claim" and done["result"]["number"] == "F0001"
    item = (await h.kiosk.get("/api/v1/found/F0001")).json()
    assert item["status"] == "claimed"
    assert (await h.kiosk.get("/api/v1/found")).json() == []
    claimed = (await h.events("found_item_claimed"))[0]
    assert claimed["actor"].endswith("/4444")
    # the code is used: it opens nothing again
    r = await pickup(h, "A11", code)
    assert r.status_code == 410 and r.json()["code"] == "code_used"
    assert h.sim.unlocks(channel("A11")) == 2  # the hand-in and the pickup
    # the code never reached the usage log
    assert not [e for e in await h.events() if code in e["payload"]]


async def test_claim_of_an_already_claimed_item_is_refused(sim_station: Harness) -> None:
    h = sim_station
    await hand_in(h)
    first = (await claim(h, "F0001", OWNER)).json()
    # a second person may also claim while the first waits; the same person claiming again is
    # answered like anyone (a different answer would tell a stranger who had claimed)
    assert (await claim(h, "F0001", STRANGER, "keys with a blue tag")).status_code == 201
    assert (await claim(h, "F0001", OWNER)).status_code == 201
    staff = await h.staff()
    await staff.post(f"/api/v1/claims/{first['id']}/approve", json={"note": "ok"})
    r = await claim(h, "F0001", "13900001111", "I lost keys too")
    assert r.status_code == 409
    assert r.json()["code"] == "already_claimed"
    # the competing claim was rejected when the other was approved
    rejected = (await staff.get("/api/v1/claims", params={"status": "rejected"})).json()
    every = (await staff.get("/api/v1/claims", params={"status": ""})).json()
    assert sorted(c["status"] for c in every) == ["approved", "rejected", "rejected"]
    assert [(x["claimant"], x["reason"]) for x in rejected] == [
        ("135****5555", "another claim was approved"),
        (f"{OWNER[:3]}****{OWNER[-4:]}", "another claim was approved"),
    ]
    r = await staff.post(f"/api/v1/claims/{first['id']}/approve", json={"note": "again"})
    assert r.status_code == 409 and r.json()["code"] == "invalid_state"


async def test_staff_reject_a_claim_with_a_reason(sim_station: Harness) -> None:
    h = sim_station
    await hand_in(h)
    c = (await claim(h, "F0001", STRANGER, "some keys")).json()
    staff = await h.staff()
    r = await staff.post(f"/api/v1/claims/{c['id']}/reject", json={"reason": "wrong key count"})
    assert r.json()["status"] == "rejected" and r.json()["reason"] == "wrong key count"
    rejected = (await h.events("claim_rejected"))[0]
    assert rejected["actor"] == f"staff:{STAFF_NO}"
    assert (await h.kiosk.get("/api/v1/found/F0001")).json()["status"] == "held"


async def test_wrong_and_expired_claim_codes(sim_station: Harness) -> None:
    h = sim_station
    await hand_in(h)
    c = (await claim(h, "F0001", OWNER)).json()
    staff = await h.staff()
    code = (await staff.post(f"/api/v1/claims/{c['id']}/approve", json={})).json()["code"]
    wrong = f"{(int(code) + 1) % 100_000_000:08d}"
    r = await pickup(h, "A11", wrong)
    assert r.status_code == 403
    assert (r.json()["code"], r.json()["tries_left"]) == ("wrong_code", 4)
    await h.sweep(advance_s=48 * 3600 + 1)
    r = await pickup(h, "A11", code)
    assert r.status_code == 410 and r.json()["code"] == "code_expired"
    assert h.sim.unlocks(channel("A11")) == 1
    r = await pickup(h, "A12", code)
    assert r.status_code == 404 and r.json()["code"] == "no_pickup"
    # staff give the claimant a new code, as long as the first; the code alone opens A11
    staff = await h.staff()  # a new shift: the session before the two days ran out
    r = await staff.post("/api/v1/pickups/A11/reissue", json={"reason": "claimant came late"})
    assert r.status_code == 200, r.text
    new = r.json()
    assert (new["purpose"], new["ref"]) == ("claim", c["id"])
    assert new["expires_at"] == h.clock.wall() + 48 * 3600
    r = await h.kiosk.post("/api/v1/pickups", json={"code": new["code"]})
    assert r.status_code == 202, r.text
    assert (await h.finish(r.json()))["result"]["number"] == "F0001"


async def test_valuables_are_listed_and_collected_by_staff(sim_station: Harness) -> None:
    h = sim_station
    await hand_in(h, category="wallets", colour="brown", place="地铁站")
    staff = await h.staff()
    valuables = (await staff.get("/api/v1/found/valuables")).json()
    assert [(v["number"], v["locker"]) for v in valuables] == [("F0001", "A11")]
    assert valuables[0]["collect_by"] == h.clock.wall() + 24 * 3600
    r = await staff.post("/api/v1/found/F0001/collect", json={"note": "to the office safe"})
    assert r.json()["status"] == "with_staff" and r.json()["locker"] is None
    assert (await staff.get("/api/v1/found/valuables")).json() == []
    # the locker is free again for the next hand-in
    assert (await hand_in(h))["locker"] == "A11"
    # a claim on an item with staff is handed over in person: no code, no door
    c = (await claim(h, "F0001", OWNER, "brown leather wallet")).json()
    r = await staff.post(f"/api/v1/claims/{c['id']}/approve", json={"note": "ID matched"})
    body = r.json()
    assert body["code"] is None and body["claim"]["status"] == "picked_up"
    assert (await h.kiosk.get("/api/v1/found/F0001")).json()["status"] == "claimed"


async def test_unclaimed_items_expire_and_staff_remove_them(sim_station: Harness) -> None:
    h = sim_station
    await hand_in(h, category="clothing", colour="grey")
    await h.sweep(advance_s=29 * 86400)
    staff = await h.staff()
    assert (await staff.get("/api/v1/found/expired")).json() == []
    await h.sweep(advance_s=1 * 86400 + 1)
    staff = await h.staff()
    expired = (await staff.get("/api/v1/found/expired")).json()
    assert [e["number"] for e in expired] == ["F0001"]
    assert (await h.kiosk.get("/api/v1/found")).json() == []  # no longer offered
    r = await claim(h, "F0001", OWNER)
    assert r.status_code == 409 and r.json()["code"] == "not_claimable"
    r = await staff.post(
        "/api/v1/found/F0001/remove", json={"disposition": "donated", "reason": "30 days"}
    )
    assert r.json()["status"] == "removed" and r.json()["disposition"] == "donated"
    removed = (await h.events("found_item_removed"))[0]
    assert (
        removed["actor"] == f"staff:{STAFF_NO}" and '"disposition":"donated"' in removed["payload"]
    )
    assert len(await h.events("found_item_expired")) == 1


async def test_no_free_lost_and_found_locker(sim_station: Harness) -> None:
    h = sim_station
    for _ in range(3):
        await hand_in(h)
    unlocks = h.sim.unlocks()
    r = await h.kiosk.post(
        "/api/v1/found", json={"category": "other", "colour": "red", "place": "公园"}
    )
    assert r.status_code == 409
    assert (r.json()["code"], r.json()["purpose"]) == ("no_free_locker", "lost_found")
    assert h.sim.unlocks() == unlocks


async def test_hand_in_door_that_never_opens_registers_nothing(sim_station_factory) -> None:
    async with sim_station_factory(fake_clock=False) as h:
        h.sim.set_jammed(channel("A11"))
        r = await h.kiosk.post(
            "/api/v1/found", json={"category": "keys", "colour": "black", "place": "公园"}
        )
        flow = await h.follow(r.json()["id"], {"cancelled", "open"})
        assert flow["state"] == "cancelled"
        assert not await h.events("found_item_registered")
        assert len(await h.events("found_handin_cancelled")) == 1
