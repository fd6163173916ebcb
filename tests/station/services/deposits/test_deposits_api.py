"""Storage and charging lockers end to end: deposit through a real door, code, pickup."""

from __future__ import annotations

from tests.station.conftest import STAFF_NO, Harness, channel

COURIER = "13900001111"


async def deposit(h: Harness, session: str | None = None, **body) -> dict:
    headers = {"X-Member-Session": session} if session else {}
    r = await h.kiosk.post("/api/v1/deposits", json=body or {"kind": "bag"}, headers=headers)
    assert r.status_code == 202, r.text
    return await h.finish(r.json())


async def pickup(h: Harness, code: str):
    """The kiosk's pickup: the code alone."""
    return await h.kiosk.post("/api/v1/pickups", json={"code": code})


async def test_deposit_gives_a_code_after_the_door_closes_and_the_code_opens_it(
    sim_station: Harness,
) -> None:
    h = sim_station
    await h.register(COURIER, kind="courier")
    session = await h.identify(COURIER)
    r = await h.kiosk.post(
        "/api/v1/deposits", json={"kind": "phone_charge"}, headers={"X-Member-Session": session}
    )
    flow = r.json()
    assert (flow["kind"], flow["locker"]) == ("deposit", "A14")
    opened = await h.follow(flow["id"], {"open"}, key=flow["key"])
    assert "code" not in opened["result"]
    h.close("A14")
    done = await h.follow(flow["id"], {"completed"}, key=flow["key"])
    code = done["result"]["code"]
    assert len(code) == 8 and code.isdigit()
    assert done["result"]["code_expires_at"] == h.clock.wall() + 12 * 3600
    # the live stream view and staff never see the code
    staff = await h.staff()
    as_staff = (await staff.get(f"/api/v1/flows/{flow['id']}")).json()
    assert "code" not in as_staff["result"]
    deposits = (await staff.get("/api/v1/deposits")).json()
    assert [(d["locker"], d["status"], d["depositor"]) for d in deposits] == [
        ("A14", "active", "139****1111")
    ]
    assert (await h.kiosk.get("/api/v1/pickups/lockers")).json() == [{"locker": "A14"}]

    r = await pickup(h, code)
    assert r.status_code == 202
    done = await h.finish(r.json())
    assert done["result"] == {"kind": "deposit", "ref": 1}
    assert (await staff.get("/api/v1/deposits")).json()[0]["status"] == "collected"
    r = await pickup(h, code)
    assert r.status_code == 410 and r.json()["code"] == "code_used"
    log = await h.events("deposit_started", "deposit_code_issued", "deposit_collected")
    assert [e["type"] for e in log] == [
        "deposit_started",
        "deposit_code_issued",
        "deposit_collected",
    ]
    assert log[0]["actor"].endswith("/1111")
    assert not [e for e in await h.events() if code in e["payload"]]


async def test_five_wrong_codes_pause_the_kiosk_and_never_burn_the_deposits_code(
    sim_station: Harness,
) -> None:
    h = sim_station
    done = await deposit(h)
    code = done["result"]["code"]
    wrong = f"{(int(code) + 7) % 100_000_000:08d}"
    for left in (4, 3, 2, 1):
        r = await pickup(h, wrong)
        assert (r.status_code, r.json()["code"], r.json()["tries_left"]) == (
            403,
            "wrong_code",
            left,
        )
    r = await pickup(h, wrong)
    assert (r.status_code, r.json()["code"]) == (429, "codes_locked"), r.text
    assert r.json()["locked_until"] == h.clock.wall() + 300 and "Retry-After" in r.headers
    assert (await pickup(h, code)).status_code == 429  # this screen waits, even for the owner
    alarms = (await (await h.staff()).get("/api/v1/alarms")).json()
    assert [(a["type"], a["subject"]) for a in alarms] == [("guessing", "codes@kiosk:test-kiosk")]
    await h.sweep(advance_s=301)
    r = await pickup(h, code)  # the deposit's own code was never touched
    assert r.status_code == 202, r.text
    assert (await h.finish(r.json()))["state"] == "completed"
    assert h.sim.unlocks(channel("A14")) == 2
    assert len(await h.events("code_wrong")) == 5
    assert not await h.events("code_exhausted")
    walk_in = (await h.events("deposit_started"))[0]
    assert walk_in["actor"] == "kiosk:test-kiosk"


async def test_staff_list_what_waits_and_reissue_a_lost_code(sim_station: Harness) -> None:
    """A courier who lost the receipt: staff give a new code (the old one stops), audited."""
    h = sim_station
    old = (await deposit(h))["result"]["code"]
    staff = await h.staff()
    waiting = (await staff.get("/api/v1/pickups")).json()
    assert waiting == [
        {
            "locker": "A14",
            "purpose": "deposit",
            "ref": 1,
            "code_status": "active",
            "expires_at": h.clock.wall() + 12 * 3600,
        }
    ]
    assert old not in str(waiting)
    assert (await h.kiosk.get("/api/v1/pickups")).status_code == 403
    r = await h.kiosk.post("/api/v1/pickups/A14/reissue", json={"reason": "lost it"})
    assert r.status_code == 403
    r = await staff.post("/api/v1/pickups/A15/reissue", json={"reason": "lost it"})
    assert r.status_code == 404
    await h.sweep(advance_s=12 * 3600 + 1)  # the code ran out too: overtime
    staff = await h.staff()
    r = await staff.post("/api/v1/pickups/A14/reissue", json={"reason": "receipt lost, ID seen"})
    assert r.status_code == 200, r.text
    new = r.json()
    assert (new["locker"], new["purpose"], new["ref"]) == ("A14", "deposit", 1)
    assert len(new["code"]) == 8 and new["expires_at"] == h.clock.wall() + 12 * 3600
    assert (await staff.get("/api/v1/deposits/overtime")).json() == []
    [logged] = await h.events("code_reissued")
    assert logged["actor"].startswith("staff:") and "receipt lost" in logged["payload"]
    assert new["code"] not in str(await h.events())
    assert (await pickup(h, old)).json()["code"] in ("code_used", "code_expired")
    r = await pickup(h, new["code"])
    assert r.status_code == 202, r.text
    assert (await h.finish(r.json()))["result"] == {"kind": "deposit", "ref": 1}
    assert (await staff.get("/api/v1/pickups")).json() == []


async def test_expired_code_makes_the_deposit_overtime_for_staff(sim_station: Harness) -> None:
    h = sim_station
    code = (await deposit(h))["result"]["code"]
    await h.sweep(advance_s=12 * 3600 + 1)
    r = await pickup(h, code)
    assert r.status_code == 410 and r.json()["code"] == "code_expired"
    staff = await h.staff()
    overtime = (await staff.get("/api/v1/deposits/overtime")).json()
    assert [(d["id"], d["overtime"]) for d in overtime] == [(1, True)]
    assert (await h.central.get("/api/v1/deposits/overtime")).status_code == 200
    assert len(await h.events("deposit_overtime")) == 1
    # staff open the door with a reason (audited) and clear the deposit
    r = await staff.post("/api/v1/lockers/A14/open", json={"reason": "overtime deposit 1"})
    assert r.status_code == 200
    await h.station.wait_for(
        lambda: (
            h.services.store.query("SELECT door FROM lockers WHERE id = 'A14'")[0]["door"] == "open"
        )
    )
    h.close("A14")
    r = await staff.post("/api/v1/deposits/1/clear", json={"reason": "bag taken to the office"})
    assert r.json()["status"] == "cleared"
    cleared = (await h.events("deposit_cleared"))[0]
    assert cleared["actor"] == f"staff:{STAFF_NO}"
    assert (await staff.get("/api/v1/deposits/overtime")).json() == []


async def test_sizes_and_no_free_storage_locker(sim_station: Harness) -> None:
    h = sim_station
    r = await h.kiosk.post("/api/v1/deposits", json={"kind": "bag", "size": "L"})
    assert r.status_code == 409
    assert (r.json()["code"], r.json()["purpose"]) == ("no_free_locker", "storage")
    lockers = [(await deposit(h))["locker"] for _ in range(3)]
    assert lockers == ["A14", "A15", "A16"]
    unlocks = h.sim.unlocks()
    r = await h.kiosk.post("/api/v1/deposits", json={"kind": "bag"})
    assert r.status_code == 409 and r.json()["code"] == "no_free_locker"
    assert h.sim.unlocks() == unlocks


async def test_deposit_door_that_never_opens_starts_nothing(sim_station_factory) -> None:
    async with sim_station_factory(fake_clock=False) as h:
        h.sim.set_jammed(channel("A14"))
        r = await h.kiosk.post("/api/v1/deposits", json={"kind": "bag"})
        flow = await h.follow(r.json()["id"], {"cancelled", "open"})
        assert flow["state"] == "cancelled" and flow["error"] == "door_not_opened"
        staff = await h.staff()
        assert (await staff.get("/api/v1/deposits")).json() == []
        assert len(await h.events("deposit_cancelled")) == 1
        # the jammed locker is skipped by the next deposit once it is marked faulty
        await h.station.wait_for(
            lambda: (
                h.services.store.query("SELECT faulty FROM lockers WHERE id = 'A14'")[0]["faulty"]
                == 1
            )
        )
        r = await h.kiosk.post("/api/v1/deposits", json={"kind": "bag"})
        assert r.json()["locker"] == "A15"


async def test_a_door_left_open_abandons_the_deposit(sim_station_factory) -> None:
    async with sim_station_factory(services={"close_wait_s": 0.5}) as h:
        r = await h.kiosk.post("/api/v1/deposits", json={"kind": "bag"})
        flow = await h.follow(r.json()["id"], {"abandoned", "completed"})
        assert flow["state"] == "abandoned" and flow["error"] == "door_not_closed"
        assert "code" not in flow["result"]
        staff = await h.staff()
        overtime = (await staff.get("/api/v1/deposits/overtime")).json()
        assert [(d["status"], d["note"]) for d in overtime] == [
            ("abandoned", "door left open: no code issued")
        ]
        h.close("A14")
