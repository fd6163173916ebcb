"""Members and staff over real HTTP: login, sessions, wrong PINs, lockouts, registration."""

from __future__ import annotations

import pytest

from tests.station.conftest import PIN, STAFF_NO, STAFF_PIN, Harness

PHONE = "13812345678"


async def test_staff_login_gives_a_staff_token_that_expires_after_two_idle_minutes(
    sim_station: Harness,
) -> None:
    staff = await sim_station.staff()
    r = await staff.get("/api/v1/staff/me")
    assert r.status_code == 200
    assert r.json() == {"staff_no": STAFF_NO, "name": f"Staff {STAFF_NO}", "idle_timeout_s": 120.0}
    # activity keeps the session alive
    sim_station.clock.advance(100)
    assert (await staff.get("/api/v1/claims")).status_code == 200
    sim_station.clock.advance(100)
    assert (await staff.get("/api/v1/claims")).status_code == 200
    # two minutes without a request end it
    sim_station.clock.advance(121)
    r = await staff.get("/api/v1/claims")
    assert r.status_code == 401
    assert r.json()["detail"] == "unknown or expired token"
    await sim_station.sweep()
    expired = await sim_station.events("staff_session_expired")
    assert [e["actor"] for e in expired] == ["system"]
    assert f"staff:{STAFF_NO}" in expired[0]["payload"]
    logins = await sim_station.events("staff_login")
    assert logins[0]["actor"] == f"staff:{STAFF_NO}"


async def test_staff_logout_ends_the_session(sim_station: Harness) -> None:
    staff = await sim_station.staff()
    assert (await staff.post("/api/v1/staff/logout")).status_code == 204
    assert (await staff.get("/api/v1/staff/me")).status_code == 401
    assert [e["actor"] for e in await sim_station.events("staff_logout")] == [f"staff:{STAFF_NO}"]


async def test_a_kiosk_token_is_not_staff(sim_station: Harness) -> None:
    r = await sim_station.kiosk.post(
        "/api/v1/members", json={"phone": sim_station.phone(PHONE), "pin": PIN}
    )
    assert r.status_code == 403


async def test_wrong_staff_pin_counts_down_then_locks_the_staff_number(
    sim_station: Harness,
) -> None:
    await sim_station.staff()  # creates the account
    for left in (4, 3, 2, 1):
        r = await sim_station.kiosk.post(
            "/api/v1/staff/login", json={"staff_no": STAFF_NO, "pin": "111333"}
        )
        assert r.status_code == 403
        assert r.json()["code"] == "wrong_pin"
        assert r.json()["tries_left"] == left
    r = await sim_station.kiosk.post(
        "/api/v1/staff/login", json={"staff_no": STAFF_NO, "pin": "111333"}
    )
    assert r.status_code == 429
    body = r.json()
    assert body["code"] == "locked"
    assert body["locked_until"] == pytest.approx(sim_station.clock.wall() + 300)
    assert r.headers["retry-after"] == "300"
    # even the right PIN is refused while locked, without a PIN check
    r = await sim_station.kiosk.post(
        "/api/v1/staff/login", json={"staff_no": STAFF_NO, "pin": STAFF_PIN}
    )
    assert r.status_code == 429
    staff_alarm = [
        a
        for a in sim_station.services.store.query("SELECT * FROM alarms")
        if a["type"] == "pin_lockout"
    ]
    assert [a["subject"] for a in staff_alarm] == [f"staff:{STAFF_NO}"]
    # an unknown staff number is answered the same way as a wrong PIN
    r = await sim_station.kiosk.post(
        "/api/v1/staff/login", json={"staff_no": "S999", "pin": STAFF_PIN}
    )
    assert r.status_code == 403 and r.json()["tries_left"] == 4


async def test_member_registration_identify_and_what_the_member_sees(
    sim_station: Harness,
) -> None:
    member = await sim_station.register("+86 138-1234-5678")
    assert member["masked"] == "138****5678"
    assert member["last4"] == "5678"
    assert member["label"] == f"member:{member['member_id'][:8]}/5678"
    r = await sim_station.kiosk.post(
        "/api/v1/members/identify", json={"phone": sim_station.phone(PHONE), "pin": PIN}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["member"]["member_id"] == member["member_id"]
    assert body["member"]["loans"] == [] and body["member"]["overdue"] == []
    me = await sim_station.kiosk.get(
        "/api/v1/members/me", headers={"X-Member-Session": body["session"]}
    )
    assert me.status_code == 200 and me.json()["masked"] == "138****5678"
    out = await sim_station.kiosk.post(
        "/api/v1/members/logout", headers={"X-Member-Session": body["session"]}
    )
    assert out.status_code == 204
    me = await sim_station.kiosk.get(
        "/api/v1/members/me", headers={"X-Member-Session": body["session"]}
    )
    assert me.status_code == 401 and me.json()["code"] == "member_session_expired"
    registered = await sim_station.events("member_registered", "member_identified")
    assert [e["type"] for e in registered] == ["member_registered", "member_identified"]
    assert registered[0]["actor"] == f"staff:{STAFF_NO}"
    assert registered[1]["actor"] == member["label"]
    # registering the same number again is refused
    staff = await sim_station.staff()
    r = await staff.post("/api/v1/members", json={"phone": sim_station.phone(PHONE), "pin": PIN})
    assert r.status_code == 409 and r.json()["code"] == "already_registered"


async def test_member_session_ends_after_idle_time(sim_station: Harness) -> None:
    await sim_station.register(PHONE)
    session = await sim_station.identify(PHONE)
    sim_station.clock.advance(91)
    r = await sim_station.kiosk.get("/api/v1/members/me", headers={"X-Member-Session": session})
    assert r.status_code == 401
    assert r.json()["code"] == "member_session_expired"


async def test_wrong_member_pin_tries_left_lockout_alarm_and_doubling(
    sim_station: Harness,
) -> None:
    member = await sim_station.register(PHONE)

    async def attempt(pin: str):
        return await sim_station.kiosk.post(
            "/api/v1/members/identify", json={"phone": sim_station.phone(PHONE), "pin": pin}
        )

    for left in (4, 3, 2, 1):
        r = await attempt("000111")
        assert (r.status_code, r.json()["code"], r.json()["tries_left"]) == (403, "wrong_pin", left)
    r = await attempt("000111")
    assert r.status_code == 429
    first_until = r.json()["locked_until"]
    assert first_until == pytest.approx(sim_station.clock.wall() + 300)
    assert (await attempt(PIN)).status_code == 429
    staff = await sim_station.staff()
    alarms = (await staff.get("/api/v1/alarms")).json()
    lockout = [a for a in alarms if a["type"] == "pin_lockout"]
    assert [a["subject"] for a in lockout] == [member["label"]]
    looked_up = await staff.post("/api/v1/members/lookup", json={"phone": sim_station.phone(PHONE)})
    assert looked_up.json()["locked_until"] == pytest.approx(first_until)

    # the lock runs out: the alarm clears, and the next lockout lasts twice as long
    await sim_station.sweep(advance_s=301)
    staff = await sim_station.staff()  # the earlier staff session went idle meanwhile
    alarms = (await staff.get("/api/v1/alarms")).json()
    assert not [a for a in alarms if a["type"] == "pin_lockout"]
    for _ in range(4):
        assert (await attempt("000111")).status_code == 403
    r = await attempt("000111")
    assert r.status_code == 429
    assert r.json()["locked_until"] == pytest.approx(sim_station.clock.wall() + 600)

    # staff release the member; the right PIN works again
    released = await staff.post(
        f"/api/v1/members/{member['member_id']}/unlock", json={"reason": "checked ID card"}
    )
    assert released.status_code == 200
    assert (await attempt(PIN)).status_code == 200
    lockouts = await sim_station.events("pin_lockout")
    assert len(lockouts) == 2
    assert all(member["label"] in e["payload"] for e in lockouts)
    failed = await sim_station.events("pin_failed")
    assert len(failed) == 10
    assert {e["actor"] for e in failed} == {"kiosk:test-kiosk"}


async def test_unknown_number_is_answered_like_a_wrong_pin(sim_station: Harness) -> None:
    r = await sim_station.kiosk.post(
        "/api/v1/members/identify", json={"phone": sim_station.phone("13900001111"), "pin": PIN}
    )
    assert r.status_code == 403
    assert r.json() == {
        "detail": "phone number or PIN is wrong: 4 tries left before a lockout",
        "code": "wrong_pin",
        "tries_left": 4,
    }


async def test_bad_phone_numbers_are_refused_without_echoing_them(sim_station: Harness) -> None:
    for typed in ("12345678901", "1381234567", "+1 415 555 0100"):
        r = await sim_station.kiosk.post(
            "/api/v1/members/identify", json={"phone": sim_station.phone(typed), "pin": PIN}
        )
        assert r.status_code == 422, typed
        assert r.json()["code"] == "invalid" and r.json()["field"] == "phone"
        assert typed not in r.text
    r = await sim_station.kiosk.post(
        "/api/v1/members/identify", json={"phone": sim_station.phone(PHONE), "pin": "12345"}
    )
    assert r.status_code == 422 and "12345" not in r.text


async def test_weak_pins_are_refused_at_registration(sim_station: Harness) -> None:
    staff = await sim_station.staff()
    for pin in ("111111", "123456", "987654", "121212", "123123"):
        r = await staff.post(
            "/api/v1/members", json={"phone": sim_station.phone(PHONE), "pin": pin}
        )
        assert r.status_code == 422, pin
        assert r.json()["field"] == "pin"


async def test_suspended_member_is_refused_and_pin_reset_works(sim_station: Harness) -> None:
    member = await sim_station.register(PHONE)
    session = await sim_station.identify(PHONE)
    staff = await sim_station.staff()
    r = await staff.patch(
        f"/api/v1/members/{member['member_id']}",
        json={"status": "suspended", "reason": "lost two tools"},
    )
    assert r.status_code == 200 and r.json()["status"] == "suspended"
    # the running session ended with the suspension
    r = await sim_station.kiosk.get("/api/v1/members/me", headers={"X-Member-Session": session})
    assert r.status_code == 401
    r = await sim_station.kiosk.post(
        "/api/v1/members/identify", json={"phone": sim_station.phone(PHONE), "pin": PIN}
    )
    assert r.status_code == 403 and r.json()["code"] == "member_suspended"
    await staff.patch(
        f"/api/v1/members/{member['member_id']}", json={"status": "active", "reason": "returned"}
    )
    r = await staff.post(f"/api/v1/members/{member['member_id']}/pin", json={"pin": "640285"})
    assert r.status_code == 200
    assert await sim_station.identify(PHONE, "640285")
    r = await sim_station.kiosk.post(
        "/api/v1/members/identify", json={"phone": sim_station.phone(PHONE), "pin": PIN}
    )
    assert r.status_code == 403


async def test_staff_can_add_staff(sim_station: Harness) -> None:
    staff = await sim_station.staff()
    r = await staff.post("/api/v1/staff", json={"staff_no": "S002", "name": "Li", "pin": "590316"})
    assert r.status_code == 201
    second = await sim_station.staff("S002", "590316")
    assert (await second.get("/api/v1/staff/me")).json()["name"] == "Li"
    added = await sim_station.events("staff_added")
    assert [e["actor"] for e in added] == ["cli", f"staff:{STAFF_NO}"]


async def test_station_without_a_phone_key_refuses_member_routes_clearly(
    sim_station_factory,
) -> None:
    async with sim_station_factory(people={"phone_hash_key": None}) as h:
        r = await h.kiosk.post(
            "/api/v1/members/identify", json={"phone": h.phone(PHONE), "pin": PIN}
        )
        assert r.status_code == 503
        assert r.json()["code"] == "members_unavailable"
        assert "phone_hash_key" in r.json()["detail"]
        # the rest of the station still works
        assert (await h.kiosk.get("/api/v1/supplies")).status_code == 200
