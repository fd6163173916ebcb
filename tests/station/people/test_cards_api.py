"""Cards at the real daemon: the pty reader behind the real pyserial backend, over real HTTP.

A staff member binds a presented card; the kiosk is identified by it for a borrow (3 requests
and a card, no phone number or PIN); the policy asks for a PIN elsewhere; unknown cards count
against the guessing budget; a held card is one read; the reader's unplugging raises an alarm.
The harness checks no card number leaks into responses or the database.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from drivers.sim.reader import SerialReaderSim
from tests.station.conftest import (
    CARDS,
    STAFF_NO,
    STAFF_PIN,
    Harness,
    services_config,
    start_harness,
)
from tests.station.services.lostfound.test_lostfound_api import hand_in

PHONE = "13812345678"
CARD, OTHER = CARDS[0], CARDS[2]
HOLD_S = 0.3


@pytest.fixture
async def reader_station(tmp_path: Path) -> AsyncIterator[tuple[Harness, SerialReaderSim]]:
    sim = SerialReaderSim(tmp_path / "card-reader")
    sim.start()
    data = services_config(tmp_path)
    data["reader"] = {
        "kind": "serial",
        "device": sim.path,
        "offline_after_s": 2.0,
        "hold_s": HOLD_S,
    }
    data["people"]["station_member_pin_failures"] = 3
    try:
        async with start_harness(data) as h:
            reader = h.services.cards.reader
            assert await asyncio.to_thread(reader.wait_connected, True, 10.0)
            yield h, sim
    finally:
        sim.stop()


async def _present_when_waiting(h: Harness, sim: SerialReaderSim, text: str, **kw) -> None:
    """Present a card once a screen waits for one (as a person does when asked to), lifted
    from the reader since its last presentation (longer than the de-bounce hold)."""
    await asyncio.sleep(HOLD_S + 0.05)
    for _ in range(500):
        if h.services.cards._waiter is not None:
            break
        await asyncio.sleep(0.01)
    await asyncio.to_thread(sim.present, text, **kw)


async def _card_identify(h: Harness, sim: SerialReaderSim, text: str, purpose: str = "borrow"):
    call = h.kiosk.post("/api/v1/cards/identify", json={"purpose": purpose, "wait_s": 10})
    r, _ = await asyncio.gather(call, _present_when_waiting(h, sim, text))
    return r


async def test_bind_a_presented_card_then_borrow_with_it(reader_station) -> None:
    h, sim = reader_station
    member = await h.register(PHONE)
    staff = await h.staff()
    bind = staff.post(f"/api/v1/members/{member['member_id']}/cards/read", json={"wait_s": 10})
    r, _ = await asyncio.gather(bind, _present_when_waiting(h, sim, CARD, held=5))
    assert r.status_code == 200, r.text
    assert r.json()["cards"] == 1
    await h.add_tool("T-DRILL", "A03")

    r = await _card_identify(h, sim, CARD)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["kind"] == "member" and body["member"]["masked"] == "138****5678"
    session = {"X-Member-Session": body["session"]}
    r = await h.kiosk.post("/api/v1/loans", json={"tool_id": "T-DRILL"}, headers=session)
    assert r.status_code == 202, r.text
    done = await h.finish(r.json())
    assert done["state"] == "completed"
    loans = await h.events("loan_started")
    assert loans[-1]["actor"] == member["label"]
    identified = (await h.events("member_identified"))[-1]
    assert json.loads(identified["payload"])["card"].startswith("card:")
    # A held card at the binding read only once: the reader counted the repeats.
    assert h.services.cards.reader.stats.repeats >= 4

    # A card session cannot deposit (not in people.card_alone_for): the PIN is asked.
    r = await _card_identify(h, sim, CARD)
    session = {"X-Member-Session": r.json()["session"]}
    r = await h.kiosk.post("/api/v1/deposits", json={"kind": "bag", "size": "S"}, headers=session)
    assert (r.status_code, r.json()["code"]) == (403, "pin_required")
    r = await h.kiosk.post("/api/v1/cards/identify", json={"purpose": "deposit", "wait_s": 1})
    assert (r.status_code, r.json()["code"]) == (403, "pin_required")

    # Another member cannot take the card; unbinding frees it.
    other = await h.register("13900001111")
    bind = staff.post(f"/api/v1/members/{other['member_id']}/cards/read", json={"wait_s": 10})
    r, _ = await asyncio.gather(bind, _present_when_waiting(h, sim, CARD))
    assert (r.status_code, r.json()["code"]) == (409, "card_taken")
    r = await staff.delete(f"/api/v1/members/{member['member_id']}/cards")
    assert r.json()["cards"] == 0
    r = await _card_identify(h, sim, CARD)
    assert (r.status_code, r.json()["code"]) == (404, "card_unknown")
    assert "还没有登记" in r.json()["detail"]


async def test_unknown_cards_spend_the_member_guessing_budget(reader_station) -> None:
    h, sim = reader_station
    for _ in range(3):
        r = await _card_identify(h, sim, OTHER)
        assert (r.status_code, r.json()["code"]) == (404, "card_unknown")
        h.clock.advance(5)
    # The budget (3 in this station's config) is spent: phone and PIN are paused too.
    r = await h.kiosk.post(
        "/api/v1/members/identify", json={"phone": h.phone(PHONE), "pin": "527194"}
    )
    assert (r.status_code, r.json()["code"]) == (429, "guessing_throttled")
    r = await h.kiosk.post("/api/v1/cards/identify", json={"purpose": "claim", "wait_s": 5})
    assert r.status_code in (200, 429)  # nothing presented: "none"; never a check
    failed = await h.events("pin_failed")
    payloads = [json.loads(e["payload"]) for e in failed]
    assert [(p["subject"], p["via"]) for p in payloads] == [("member:card", "card")] * 3


async def test_an_unplugged_reader_raises_an_alarm_until_it_is_back(reader_station) -> None:
    h, sim = reader_station
    reader = h.services.cards.reader
    sim.unplug()
    assert await asyncio.to_thread(reader.wait_connected, False, 10.0)

    async def alarm_state() -> str | None:
        rows = h.services.store.query(
            "SELECT state FROM alarms WHERE type = 'reader_offline' ORDER BY id DESC LIMIT 1"
        )
        return rows[0]["state"] if rows else None

    for _ in range(200):
        if await alarm_state() == "raised":
            break
        h.clock.advance(0.5)  # the fake monotonic clock the watch measures the outage on
        await asyncio.sleep(0.05)
    assert await alarm_state() == "raised"
    status = h.services.cards.status()
    assert status["connected"] is False and status["disconnects"] >= 1
    sim.replug()
    assert await asyncio.to_thread(reader.wait_connected, True, 10.0)
    for _ in range(200):
        if await alarm_state() == "cleared":
            break
        await asyncio.sleep(0.05)
    assert await alarm_state() == "cleared"


async def _bind(h: Harness, sim: SerialReaderSim, path: str, text: str):
    """Staff bind the card presented next to the account `path` names."""
    staff = await h.staff()
    call = staff.post(path, json={"wait_s": 10})
    r, _ = await asyncio.gather(call, _present_when_waiting(h, sim, text))
    return r


async def test_a_card_claims_a_found_item_for_its_member(reader_station) -> None:
    h, sim = reader_station
    member = await h.register(PHONE)
    r = await _bind(h, sim, f"/api/v1/members/{member['member_id']}/cards/read", CARD)
    assert r.status_code == 200, r.text
    found = await hand_in(h)
    number = found["result"]["number"]

    # No phone and no member: refused, nothing stored.
    r = await h.kiosk.post(f"/api/v1/found/{number}/claims", json={"description": "my keys"})
    assert (r.status_code, r.json()["code"]) == (422, "invalid")

    r = await _card_identify(h, sim, CARD, purpose="claim")
    session = {"X-Member-Session": r.json()["session"]}
    r = await h.kiosk.post(
        f"/api/v1/found/{number}/claims", json={"description": "my keys"}, headers=session
    )
    assert r.status_code == 201, r.text
    assert r.json()["claimant"] == "138****5678"
    submitted = (await h.events("claim_submitted"))[-1]
    assert submitted["actor"] == member["label"]
    # The claim ended the card's session: the next step identifies again.
    r = await h.kiosk.get("/api/v1/members/me", headers=session)
    assert (r.status_code, r.json()["code"]) == (401, "member_session_expired")
    # Staff see it with the member's masked number, to call back.
    staff = await h.staff()
    claims = (await staff.get("/api/v1/claims")).json()
    assert [(c["item"], c["claimant"]) for c in claims] == [(number, "138****5678")]

    # A card session may not choose a PIN (a card alone never proves the PIN's owner).
    r = await _card_identify(h, sim, CARD, purpose="borrow")
    session = {"X-Member-Session": r.json()["session"]}
    r = await h.kiosk.post("/api/v1/members/me/pin", json={"pin": "604817"}, headers=session)
    assert (r.status_code, r.json()["code"]) == (403, "pin_required")

    # A first PIN from the office still to be changed: the card identifies nobody until then.
    h.services.store.write_now(
        lambda tx: tx.conn.execute(
            "UPDATE members SET pin_state = 'must_change' WHERE id = ?", (member["member_id"],)
        )
    )
    r = await _card_identify(h, sim, CARD, purpose="claim")
    assert (r.status_code, r.json()["code"]) == (403, "pin_change_required")


async def test_a_staff_badge_bound_at_the_maintenance_screen_logs_in_with_the_pin(
    reader_station,
) -> None:
    h, sim = reader_station
    staff = await h.staff()
    r = await staff.get(f"/api/v1/staff/{STAFF_NO}/cards")
    assert r.json() == {"staff_no": STAFF_NO, "name": f"Staff {STAFF_NO}", "cards": 0}
    r = await _bind(h, sim, f"/api/v1/staff/{STAFF_NO}/cards/read", OTHER)
    assert r.status_code == 200 and r.json()["cards"] == 1, r.text
    bound = (await h.events("card_bound"))[-1]
    assert bound["actor"] == f"staff:{STAFF_NO}"
    assert json.loads(bound["payload"])["owner"] == f"staff:{STAFF_NO}"

    r = await _card_identify(h, sim, OTHER, purpose="staff")
    assert r.json() == {"kind": "staff", "staff_no": STAFF_NO} | {
        k: None for k in ("session", "expires_in_s", "member")
    }
    r = await h.kiosk.post(
        "/api/v1/staff/login", json={"staff_no": r.json()["staff_no"], "pin": STAFF_PIN}
    )
    assert r.status_code == 200, r.text
    # The badge is no member card, and a member's card is no badge.
    r = await _card_identify(h, sim, OTHER, purpose="borrow")
    assert (r.status_code, r.json()["code"]) == (403, "staff_badge")

    r = await staff.delete(f"/api/v1/staff/{STAFF_NO}/cards")
    assert r.json()["cards"] == 0
    assert (await h.events("card_unbound"))[-1]["actor"] == f"staff:{STAFF_NO}"
    r = await _card_identify(h, sim, OTHER, purpose="staff")
    assert (r.status_code, r.json()["code"]) == (404, "card_unknown")
    r = await staff.get("/api/v1/staff/NOBODY/cards")
    assert r.status_code == 404
    # A colleague without the admin role cannot bind or remove this account's badge.
    r = await staff.post(
        "/api/v1/staff",
        json={"staff_no": "S002", "name": "Staff S002", "pin": "604817", "role": "staff"},
    )
    assert r.status_code == 201, r.text
    colleague = await h.staff("S002", "604817")
    r = await colleague.post(f"/api/v1/staff/{STAFF_NO}/cards/read", json={"wait_s": 1})
    assert (r.status_code, r.json()["code"]) == (403, "admin_only")
    r = await colleague.delete(f"/api/v1/staff/{STAFF_NO}/cards")
    assert (r.status_code, r.json()["code"]) == (403, "admin_only")


async def test_where_a_card_alone_may_not_claim_the_pin_is_asked(tmp_path: Path) -> None:
    sim = SerialReaderSim(tmp_path / "card-reader")
    sim.start()
    data = services_config(tmp_path)
    data["reader"] = {"kind": "serial", "device": sim.path, "hold_s": HOLD_S}
    data["people"]["card_alone_for"] = ["borrow"]
    try:
        async with start_harness(data) as h:
            assert await asyncio.to_thread(h.services.cards.reader.wait_connected, True, 10.0)
            member = await h.register(PHONE)
            r = await _bind(h, sim, f"/api/v1/members/{member['member_id']}/cards/read", CARD)
            assert r.status_code == 200, r.text
            number = (await hand_in(h))["result"]["number"]
            r = await h.kiosk.post("/api/v1/cards/identify", json={"purpose": "claim"})
            assert (r.status_code, r.json()["code"]) == (403, "pin_required")
            # A session from a card presented to borrow cannot be spent on a claim either.
            r = await _card_identify(h, sim, CARD, purpose="borrow")
            session = {"X-Member-Session": r.json()["session"]}
            r = await h.kiosk.post(
                f"/api/v1/found/{number}/claims", json={"description": "keys"}, headers=session
            )
            assert (r.status_code, r.json()["code"]) == (403, "pin_required")
            # Phone and PIN still claim for the member.
            token = await h.identify(PHONE)
            r = await h.kiosk.post(
                f"/api/v1/found/{number}/claims",
                json={"description": "keys"},
                headers={"X-Member-Session": token},
            )
            assert r.status_code == 201 and r.json()["claimant"] == "138****5678", r.text
    finally:
        sim.stop()
