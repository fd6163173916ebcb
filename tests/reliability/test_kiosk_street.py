"""The kiosk stands in the street: attacks by someone who broke out of the kiosk session and
holds the kiosk token (issue 18), each against the real daemon over HTTP and its live stream.

Each test is the regression of one finding of docs/security.md ("Findings, round two"): it
failed on the code before the fix.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w
import websockets

from launcher.main import main
from station.config import ConfigError, load_config
from station.ops.config_audit import secret_problems
from station.ops.doctor import check_secrets
from station.people.from_central import apply_people
from tests.reliability.report import record
from tests.simstation import TOKENS
from tests.station.conftest import Harness, services_config, start_harness
from wire.bundle import Bundle, BundleStaff

VICTIM = "13900001111"
OTHER = "15011112222"


async def deposit(h: Harness, phone: str = VICTIM) -> dict[str, Any]:
    """A courier leaves a parcel: the flow as the screen that started it ended up seeing it."""
    session = await h.identify(phone)
    r = await h.kiosk.post(
        "/api/v1/deposits", json={"kind": "bag"}, headers={"X-Member-Session": session}
    )
    assert r.status_code == 202, r.text
    return await h.finish(r.json())


@contextlib.asynccontextmanager
async def stream(h: Harness, role: str) -> AsyncIterator[list[dict[str, Any]]]:
    """Every message the live stream sends `role` while the block runs."""
    url = h.station.url.replace("http://", "ws://") + f"/api/v1/stream?token={TOKENS[role]}"
    seen: list[dict[str, Any]] = []
    async with websockets.connect(url) as ws:
        seen.append(json.loads(await ws.recv()))  # the snapshot: subscribed from here on

        async def read() -> None:
            async for raw in ws:
                seen.append(json.loads(raw))

        reader = asyncio.create_task(read())
        try:
            yield seen
            await asyncio.sleep(0.2)  # what was published last reaches the socket
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader


# --- 1: a flow's secret result ------------------------------------------------------------------


async def test_a_pickup_code_goes_once_to_the_screen_that_started_the_deposit(
    tmp_path: Path,
) -> None:
    async with start_harness(services_config(tmp_path)) as h:
        await h.register(VICTIM, kind="courier")
        async with stream(h, "kiosk") as kiosk_stream:
            done = await deposit(h)
        code = done["result"]["code"]
        assert done["state"] == "completed" and len(code) == 8
        # a second kiosk client, with the flow id from the stream, and even with the key
        flow_ids = {m["flow"]["id"] for m in kiosk_stream if m["kind"] == "flow"}
        assert done["id"] in flow_ids
        thief = h.client(role="kiosk")
        for headers in ({}, {"X-Flow-Key": "guessed"}, {"X-Flow-Key": done["key"]}):
            r = await thief.get(f"/api/v1/flows/{done['id']}", headers=headers)
            assert r.status_code == 200 and "code" not in r.json()["result"], r.text
            assert code not in r.text
        assert code not in json.dumps(kiosk_stream)
        # nor can another client answer someone else's flow
        r = await thief.post(f"/api/v1/flows/{done['id']}/answer", json={"condition": "works"})
        assert r.status_code == 403 and r.json()["code"] == "not_your_flow", r.text
        record("attacks_refused", 5)


# --- 6: the stream per role; free text masked -----------------------------------------------


async def test_the_kiosk_stream_carries_no_staff_business_actors_or_free_text(
    tmp_path: Path,
) -> None:
    async with start_harness(services_config(tmp_path)) as h:
        await h.register(VICTIM)
        async with stream(h, "kiosk") as kiosk_seen, stream(h, "staff") as staff_seen:
            staff = await h.staff()
            reason = f"resident called from {h.phone(OTHER)} about A02"
            r = await staff.post("/api/v1/lockers/A02/open", json={"reason": reason})
            assert r.status_code == 200, r.text
            opened = "SELECT 1 FROM events WHERE type = 'door_opened' AND locker = 'A02'"
            await h.station.wait_for(lambda: bool(h.services.store.query(opened)), within=10)
            h.close("A02")
            closed = "SELECT 1 FROM events WHERE type = 'door_closed' AND locker = 'A02'"
            await h.station.wait_for(lambda: bool(h.services.store.query(closed)), within=10)
            for _ in range(2):  # a wrong PIN at the screen names the member in the log
                await h.kiosk.post(
                    "/api/v1/members/identify", json={"phone": VICTIM, "pin": "000111"}
                )
            await h.identify(VICTIM)
        kiosk_text = json.dumps(kiosk_seen, ensure_ascii=False)
        events = [m["event"] for m in kiosk_seen if m["kind"] == "event"]
        assert {e["type"] for e in events} >= {"door_unlocked", "door_opened", "door_closed"}
        assert all(e["actor"] is None and e["payload"] == {} for e in events), events
        for absent in ("staff_login", "pin_failed", "member_identified", "staff:", "member:"):
            assert absent not in kiosk_text, absent
        assert "called from" not in kiosk_text
        # staff may read the log, so their stream has it all, the reason masked at storing
        staff_types = {m["event"]["type"] for m in staff_seen if m["kind"] == "event"}
        assert {"staff_login", "pin_failed"} <= staff_types
        (unlock,) = [e for e in await h.events("door_unlocked") if "called" in e["payload"]]
        assert "150****2222" in unlock["payload"] and OTHER not in unlock["payload"]
        record("attacks_refused", 5)


async def test_free_text_is_masked_for_phone_numbers_before_it_is_stored(tmp_path: Path) -> None:
    async with start_harness(services_config(tmp_path)) as h:
        written = {"+86 150-1111-2222": "150****2222", "186 2222 3333": "186****3333"}
        for typed in written:
            h.phone(typed)
        r = await h.kiosk.post(
            "/api/v1/found",
            json={
                "category": "keys",
                "colour": "black",
                "place": "near gate, call +86 150-1111-2222",
                "description": "owner 186 2222 3333",
            },
        )
        assert r.status_code == 202, r.text
        done = await h.finish(r.json())
        staff = await h.staff()
        record_ = (await staff.get(f"/api/v1/found/{done['result']['number']}/record")).json()
        assert "150****2222" in record_["place"] and "186****3333" in record_["description"]
        # the harness's own check scans every response and the database files for the numbers
        record("attacks_refused", 2)


# --- 2: text no store downstream can hold, whatever the content type ----------------------------


async def test_nul_and_lone_surrogates_are_refused_in_every_text_field_any_content_type(
    tmp_path: Path,
) -> None:
    async with start_harness(services_config(tmp_path)) as h:
        staff = await h.staff()
        before = len(await h.events())
        bad_bodies = [
            (h.kiosk, "/api/v1/found", {"category": "keys", "colour": "black", "place": "a\x00"}),
            (h.kiosk, "/api/v1/found", {"category": "keys", "colour": "bl\ud800", "place": "p"}),
            (staff, "/api/v1/lockers/A02/open", {"reason": "restock\x00"}),
            (
                staff,
                "/api/v1/tools",
                {
                    "id": "X1",
                    "name_zh": "钻",
                    "name_en": "D\x00",
                    "category": "c",
                    "loan_period": 1,
                    "loan_unit": "days",
                },
            ),
        ]
        refused = 0
        for client, path, body in bad_bodies:
            raw = json.dumps(body).encode()
            for content_type in ("Application/JSON", "application/vnd.api+JSON", None):
                headers = {"Content-Type": content_type} if content_type else {}
                r = await client.post(path, content=raw, headers=headers)
                assert r.status_code == 422, (path, content_type, r.status_code, r.text)
                if content_type == "Application/JSON":  # parsed as JSON: the text is named
                    assert "NUL" in r.text or "surrogate" in r.text, r.text
                refused += 1
        r = await h.kiosk.get("/api/v1/tools", params={"status": "a\x00"})
        assert r.status_code == 422
        assert len(await h.events()) == before, "a refused request wrote to the log"
        assert h.sim.unlocks(2) == 0
        record("attacks_refused", refused + 1)


# --- 5: the claim route is no oracle for phone numbers -------------------------------------------


async def test_claims_do_not_tell_who_claimed_and_count_against_a_budget(tmp_path: Path) -> None:
    async with start_harness(services_config(tmp_path)) as h:
        r = await h.kiosk.post(
            "/api/v1/found", json={"category": "wallets", "colour": "brown", "place": "park"}
        )
        number = (await h.finish(r.json()))["result"]["number"]
        async with stream(h, "kiosk") as seen:
            r = await h.kiosk.post(
                f"/api/v1/found/{number}/claims",
                json={"phone": h.phone(VICTIM), "description": "brown wallet"},
            )
            assert r.status_code == 201, r.text
        # the kiosk's stream gives the claim without who made it
        claims = [m["event"] for m in seen if m["kind"] == "event"]
        assert [e["type"] for e in claims] == ["claim_submitted"]
        assert claims[0]["actor"] is None and "member:" not in json.dumps(seen)
        # guessing the victim's number among others: every guess gets the same answer
        guesses = [f"139000{i:05d}" for i in range(1100, 1140)]
        assert VICTIM in guesses
        answers: dict[tuple[int, str], int] = {}
        for phone in guesses:
            r = await h.kiosk.post(
                f"/api/v1/found/{number}/claims",
                json={"phone": h.phone(phone), "description": "brown wallet"},
            )
            key = (r.status_code, r.json().get("code", "created"))
            answers[key] = answers.get(key, 0) + 1
        budget = h.services.throttles.claim.limit
        # the budget is spent after `budget` claims (one was the victim's own), then all pause
        assert answers == {(201, "created"): budget - 1, (429, "guessing_throttled"): 41 - budget}
        alarms = (await h.kiosk.get("/api/v1/alarms")).json()
        assert [a["subject"] for a in alarms if a["type"] == "guessing"] == ["claim"]
        record("attacks_refused", 41 - budget)


# --- 3: the loan limit holds under concurrent borrowing ------------------------------------------


async def borrow(h: Harness, tool: str, session: str) -> Any:
    return await h.kiosk.post(
        "/api/v1/loans", json={"tool_id": tool}, headers={"X-Member-Session": session}
    )


async def test_max_loans_counts_reserved_and_started_loans_together(tmp_path: Path) -> None:
    data = services_config(tmp_path)
    data["services"]["lending"]["max_loans"] = 2
    async with start_harness(data) as h:
        await h.register(VICTIM)
        tools = [f"T{i}" for i in range(1, 6)]
        for i, tool in enumerate(tools, start=1):
            await h.add_tool(tool, f"A0{i}")
        session = await h.identify(VICTIM)
        # all at once, in one session
        answers = await asyncio.gather(*(borrow(h, t, session) for t in tools[:4]))
        started = [r.json() for r in answers if r.status_code == 202]
        refused = [r.json()["code"] for r in answers if r.status_code != 202]
        assert len(started) == 2 and refused == ["loan_limit", "loan_limit"], refused
        # and one after another while the doors are still opening
        r = await borrow(h, tools[4], session)
        assert r.status_code == 403 and r.json()["code"] == "loan_limit", r.text
        for flow in started:
            assert (await h.finish(flow))["state"] == "completed"
        session = await h.identify(VICTIM)
        r = await borrow(h, tools[4], session)
        assert r.status_code == 403 and r.json()["code"] == "loan_limit", r.text
        open_loans = h.services.store.query(
            "SELECT COUNT(*) AS n FROM loans WHERE returned_at IS NULL"
        )
        assert open_loans[0]["n"] == 2
        record("attacks_refused", 4)


# --- 13: a return by someone other than the borrower is unverified --------------------------------


async def test_a_return_by_someone_else_leaves_the_tool_for_staff_to_check(
    tmp_path: Path,
) -> None:
    async with start_harness(services_config(tmp_path)) as h:
        await h.register(VICTIM)
        await h.register(OTHER)
        await h.add_tool("DRILL", "A01")
        await h.finish((await borrow(h, "DRILL", await h.identify(VICTIM))).json())
        returners = {
            "anonymous": {},
            "another member": {"X-Member-Session": await h.identify(OTHER)},
        }
        staff = await h.staff()
        for who, headers in returners.items():
            r = await h.kiosk.post("/api/v1/returns", json={"tool_id": "DRILL"}, headers=headers)
            assert r.status_code == 202, (who, r.text)
            asked = await h.finish(r.json())
            assert asked["state"] == "awaiting_answer", (who, asked)
            r = await h.kiosk.post(
                f"/api/v1/flows/{asked['id']}/answer",
                json={"condition": "works"},
                headers={"X-Flow-Key": asked["key"]},
            )
            assert r.json()["result"]["tool_status"] == "maintenance", (who, r.text)
            tool = (await h.kiosk.get("/api/v1/tools/DRILL")).json()
            assert tool["status"] == "maintenance" and "borrower" in tool["status_reason"]
            # nobody can borrow it before staff have looked in the locker
            r = await borrow(h, "DRILL", await h.identify(OTHER))
            assert r.status_code == 409 and r.json()["code"] == "tool_unavailable", r.text
            (returned,) = (await h.events("tool_returned"))[-1:]
            assert json.loads(returned["payload"])["verified"] is False
            r = await staff.post("/api/v1/tools/DRILL/repaired", json={"note": "it is there"})
            assert r.status_code == 200 and r.json()["status"] == "available", r.text
            await h.finish((await borrow(h, "DRILL", await h.identify(VICTIM))).json())
        # the borrower's own return is verified and puts the tool back at once
        r = await h.kiosk.post(
            "/api/v1/returns",
            json={"tool_id": "DRILL"},
            headers={"X-Member-Session": await h.identify(VICTIM)},
        )
        asked = await h.finish(r.json())
        r = await h.kiosk.post(
            f"/api/v1/flows/{asked['id']}/answer",
            json={"condition": "works"},
            headers={"X-Flow-Key": asked["key"]},
        )
        assert r.json()["result"]["tool_status"] == "available", r.text
        verified = h.services.store.query("SELECT return_verified FROM loans ORDER BY id")
        assert [v["return_verified"] for v in verified] == [0, 0, 1]
        record("attacks_refused", 4)


async def test_where_the_locker_has_an_item_sensor_it_decides_a_return_by_someone_else(
    tmp_path: Path,
) -> None:
    """Seen in the locker after the door closed: lent again at once. Empty: staff check."""
    data = services_config(tmp_path)
    data["boards"][0]["item_sensor"] = True
    async with start_harness(data) as h:
        await h.register(VICTIM)
        await h.register(OTHER)
        await h.add_tool("DRILL", "A01")
        for put_back, status in ((True, "available"), (False, "maintenance")):
            h.sim.set_item(1, True)
            borrowing = (await borrow(h, "DRILL", await h.identify(VICTIM))).json()
            await h.follow(borrowing["id"], {"open"}, key=borrowing["key"])
            h.sim.set_item(1, False)  # the borrower takes it out
            await h.finish(borrowing)
            r = await h.kiosk.post(
                "/api/v1/returns",
                json={"tool_id": "DRILL"},
                headers={"X-Member-Session": await h.identify(OTHER)},
            )
            assert r.status_code == 202, r.text
            flow = r.json()
            await h.follow(flow["id"], {"open"}, key=flow["key"])
            h.sim.set_item(1, put_back)
            asked = await h.finish(flow)
            r = await h.kiosk.post(
                f"/api/v1/flows/{asked['id']}/answer",
                json={"condition": "works"},
                headers={"X-Flow-Key": asked["key"]},
            )
            assert r.json()["result"]["tool_status"] == status, (put_back, r.text)
            tool = (await h.kiosk.get("/api/v1/tools/DRILL")).json()
            assert tool["status"] == status, tool
            (condition,) = (await h.events("return_condition"))[-1:]
            assert json.loads(condition["payload"])["item_seen"] is put_back
        assert "item sensor sees nothing" in tool["status_reason"]
        r = await borrow(h, "DRILL", await h.identify(VICTIM))
        assert r.status_code == 409 and r.json()["code"] == "tool_unavailable", r.text
        returns = h.services.store.query("SELECT return_verified FROM loans ORDER BY id")
        assert [v["return_verified"] for v in returns] == [0, 0]  # not the borrower, either time
        record("attacks_refused", 1)


# --- 4: sessions end with their person, and have an absolute lifetime -----------------------------


async def test_a_deactivated_staff_session_is_dead_at_once_and_every_session_ages_out(
    tmp_path: Path,
) -> None:
    async with start_harness(services_config(tmp_path)) as h:
        member = await h.register(VICTIM)
        staff = await h.staff()
        assert (await staff.get("/api/v1/staff/me")).status_code == 200
        pin_hash = h.services.store.query("SELECT pin_hash FROM staff WHERE staff_no = 'S001'")
        bundle = Bundle(
            staff=[
                BundleStaff(
                    staff_no="S001",
                    name="Staff S001",
                    pin_hash=pin_hash[0]["pin_hash"],
                    active=False,
                )
            ]
        )
        await h.services.store.write(lambda tx: apply_people(tx, bundle, 2))
        attempts = [
            ("GET", "/api/v1/staff/me", None),
            ("POST", "/api/v1/lockers/A10/open", {"reason": "just looking"}),
            ("POST", "/api/v1/staff", {"staff_no": "X9", "name": "Mallory", "pin": "385720"}),
        ]
        for method, path, body in attempts:
            r = await staff.request(method, path, json=body)
            assert r.status_code == 401, (path, r.text)
        assert h.sim.unlocks(10) == 0
        assert not h.services.store.query("SELECT 1 FROM staff WHERE staff_no = 'X9'")
        # a busy session still ends at its absolute lifetime
        other = await h.staff("S002")
        people = h.station.config.people
        step = people.staff_idle_s - 1
        elapsed = 0.0
        while elapsed + step < people.staff_session_max_s:
            h.clock.advance(step)
            elapsed += step
            assert (await other.get("/api/v1/staff/me")).status_code == 200
        h.clock.advance(people.staff_session_max_s - elapsed)
        assert (await other.get("/api/v1/staff/me")).status_code == 401
        # a member suspended while at the screen loses the session
        session = await h.identify(VICTIM)
        boss = await h.staff("S003")
        r = await boss.patch(
            f"/api/v1/members/{member['member_id']}", json={"status": "suspended", "reason": "x1"}
        )
        assert r.status_code == 200, r.text
        r = await h.kiosk.get("/api/v1/members/me", headers={"X-Member-Session": session})
        assert r.status_code == 401
        record("attacks_refused", 5)


# --- 12: secrets in the config, headers on personal data ----------------------------------------

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "station.example.toml"


def test_check_config_and_doctor_refuse_guessable_or_shared_secrets_without_echoing_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = EXAMPLE.read_text().replace('"/var/lib/station"', f'"{tmp_path}"')
    config = tmp_path / "station.toml"
    config.write_text(text)
    assert main(["check-config", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "CHANGE-ME" not in err and "change-me" in err and "api.tokens[0]" in err
    strong = {
        "CHANGE-ME-kiosk-token-0001": "k7Qm2ZpX9rTc4WvB1nYe",
        "CHANGE-ME-staff-token-0001": "aaaaaaaaaaaaaaaa",  # long enough, guessable
        "CHANGE-ME-central-token-01": "k7Qm2ZpX9rTc4WvB1nYe",  # the kiosk's, again
        "CHANGE-ME-fleet-wide-phone-hash-key-0001": "Vb3nH8sK1qP6wE0rT5yU2iO7aS4dF9gJ",
    }
    for old, new in strong.items():
        text = text.replace(old, new)
    config.write_text(text)
    loaded = load_config(config)
    problems = secret_problems(loaded)
    joined = "\n".join(problems)
    assert "api.tokens[1]" in joined and "different characters" in joined
    assert "is the same as api.tokens[0]" in joined
    for secret in strong.values():
        assert secret not in joined
    assert check_secrets(loaded).status == "FAIL"
    # a config error about a secret names the key, never the value
    bad = text.replace('"k7Qm2ZpX9rTc4WvB1nYe"', '"short-k7Q"', 1)
    config.write_text(bad)
    with pytest.raises(ConfigError) as refused:
        load_config(config)
    assert "short-k7Q" not in str(refused.value) and "not shown" in str(refused.value)


def test_retention_shorter_than_the_guessing_window_is_refused(tmp_path: Path) -> None:
    data = services_config(tmp_path)
    data["sync"] = {"retention_days": 0.1}  # 2.4 h, under the 6 h window
    path = tmp_path / "s.toml"
    path.write_text(tomli_w.dumps(data))
    problems = secret_problems(load_config(path))
    assert any("retention_days" in p and "guess_window_s" in p for p in problems), problems


async def test_api_answers_are_never_stored_by_a_cache(tmp_path: Path) -> None:
    async with start_harness(services_config(tmp_path)) as h:
        await h.register(VICTIM)
        session = await h.identify(VICTIM)
        staff = await h.staff()
        answers = [
            await h.kiosk.get("/api/v1/members/me", headers={"X-Member-Session": session}),
            await staff.get("/api/v1/events"),
            await staff.get("/api/v1/deposits"),
            await h.kiosk.get("/api/v1/lockers"),
            await h.kiosk.get("/openapi.json"),
        ]
        for r in answers:
            assert r.status_code == 200 and r.headers["cache-control"] == "no-store", r.url
