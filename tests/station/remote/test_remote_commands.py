"""Office commands end to end on loopback: central queues, the station fetches in its sync
exchange, runs each once on the simulated board, and the result comes back to central."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from central.app import create_app
from central.auth import new_token, token_hash
from central.cli import main as central_main
from central.server import BackgroundServer
from central.storage.base import EventQuery
from central.storage.sqlite import SQLiteStorage
from tests.simstation import TOKENS, SimStation, running_station, sim_config_data

STATION = "TEST-0001"


@dataclass
class Office:
    url: str
    storage: SQLiteStorage
    db: Path
    operator: str
    viewer: str

    def client(self, token: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )

    async def send(self, action: dict[str, Any], reason: str, **over: Any) -> str:
        async with self.client(self.operator) as c:
            r = await c.post(
                f"/api/v1/stations/{STATION}/commands",
                json={"action": action, "reason": reason, **over},
            )
        assert r.status_code == 201, r.text
        return str(r.json()["command"]["id"])

    def command(self, command_id: str) -> dict[str, Any]:
        rows = [c for c in self.storage.commands(STATION, limit=1000) if c["id"] == command_id]
        assert rows, command_id
        return rows[0]


@pytest.fixture
async def office(tmp_path: Path) -> AsyncIterator[tuple[Office, dict[str, Any]]]:
    db = tmp_path / "central.db"
    storage = SQLiteStorage(db)
    token, operator, viewer = new_token(), new_token(), new_token()
    now = time.time()
    storage.add_station(STATION, "test station", token_hash(token), now)
    storage.add_office_token("alice", token_hash(operator), now, "operator")
    storage.add_office_token("bob", token_hash(viewer), now, "viewer")
    data = sim_config_data(tmp_path)
    with BackgroundServer(create_app(storage)) as server:
        data["sync"] = {"url": server.url, "token": token, "interval_s": 0.2, "heartbeat_s": 1}
        yield Office(server.url, storage, db, operator, viewer), data
    storage.close()


async def _finished(st: SimStation, office: Office, command_id: str) -> dict[str, Any]:
    await st.wait_for(lambda: office.command(command_id)["status"] != "pending", within=30)
    return office.command(command_id)


def _local(st: SimStation, type: str) -> list[Any]:
    assert st.daemon.station is not None
    return [e for e in st.daemon.station.store.events_after(0, limit=100_000) if e.type == type]


async def test_operator_opens_a03_once_and_both_logs_say_who_and_why(
    office: tuple[Office, dict[str, Any]],
) -> None:
    central, data = office
    async with running_station(data) as st:
        assert st.daemon.station is not None
        lockers = st.daemon.station.lockers
        reason = "resident on the phone, locked out of her loan"
        command_id = await central.send({"kind": "open_door", "locker": "A03"}, reason)

        done = await _finished(st, central, command_id)
        assert await lockers.wait_door("A03", "open", within=5)

        assert done["status"] == "done", done
        assert done["issuer"] == "alice" and done["reason"] == reason
        unlocks = [e for e in _local(st, "door_unlocked") if e.locker == "A03"]
        assert len(unlocks) == 1
        assert unlocks[0].actor == "office:alice"
        assert reason in unlocks[0].payload["reason"]
        assert sim_door(st, "A03") == "open"

        # Central lost the result (or re-sends anyway): the station must not open again.
        with sqlite3.connect(central.db) as db:
            db.execute("UPDATE commands SET status = 'pending' WHERE id = ?", (command_id,))
        again = await _finished(st, central, command_id)
        assert again["status"] == "done" and again["deliveries"] >= 2
        assert len([e for e in _local(st, "door_unlocked") if e.locker == "A03"]) == 1
        async with central.client(central.viewer) as c:
            fleet = (await c.get("/api/v1/fleet")).json()
        row = next(s for s in fleet["stations"] if s["id"] == STATION)
        assert row["commands"] == {"pending": 0, "done": 1, "refused": 0, "failed": 0}

        last = st.daemon.station.store.events_after(0, limit=100_000)[-1].seq
        await st.wait_for(lambda: central.storage.station(STATION).acked_seq >= last, 30)
    got = central.storage.events(EventQuery(station=STATION, type="door_unlocked", limit=100))
    assert [(e["locker"], e["actor"]) for e in got] == [("A03", "office:alice")]
    assert reason in got[0]["payload"]["reason"]
    received = central.storage.events(EventQuery(station=STATION, type="remote_command"))
    assert received[0]["payload"]["issuer"] == "alice"
    assert received[0]["payload"]["reason"] == reason


def sim_door(st: SimStation, locker: str) -> str:
    assert st.daemon.station is not None
    return st.daemon.station.lockers.door(locker)


async def test_expired_command_is_refused_and_opens_nothing(
    office: tuple[Office, dict[str, Any]],
) -> None:
    central, data = office
    async with running_station(data) as st:
        command_id = await central.send(
            {"kind": "open_door", "locker": "A04"}, "too late", expires_in_s=0.001
        )

        done = await _finished(st, central, command_id)

        assert done["status"] == "refused"
        assert "expired" in done["detail"]
        assert not [e for e in _local(st, "door_unlocked") if e.locker == "A04"]
        assert sim_door(st, "A04") == "closed"


async def test_only_operators_may_send_commands(office: tuple[Office, dict[str, Any]]) -> None:
    central, _ = office
    action = {"action": {"kind": "open_door", "locker": "A03"}, "reason": "x"}
    async with central.client(central.viewer) as c:
        refused = await c.post(f"/api/v1/stations/{STATION}/commands", json=action)
        listing = await c.get("/api/v1/commands")
    async with httpx.AsyncClient(base_url=central.url) as anonymous:
        nobody = await anonymous.post(f"/api/v1/stations/{STATION}/commands", json=action)

    assert refused.status_code == 403 and "operator" in refused.json()["detail"]
    assert nobody.status_code == 401
    assert listing.status_code == 200 and listing.json()["commands"] == []


async def test_bad_commands_are_refused_at_central(office: tuple[Office, dict[str, Any]]) -> None:
    central, _ = office
    async with central.client(central.operator) as c:
        unknown_kind = await c.post(
            f"/api/v1/stations/{STATION}/commands",
            json={"action": {"kind": "format_disk"}, "reason": "x"},
        )
        no_reason = await c.post(
            f"/api/v1/stations/{STATION}/commands",
            json={"action": {"kind": "open_door", "locker": "A03"}, "reason": "  "},
        )
        bad_setting = await c.post(
            f"/api/v1/stations/{STATION}/commands",
            json={"action": {"kind": "apply_settings", "settings": {"api.port": 1}}, "reason": "x"},
        )
        other = await c.post(
            "/api/v1/stations/NOPE/commands",
            json={"action": {"kind": "open_door", "locker": "A03"}, "reason": "x"},
        )

    assert unknown_kind.status_code == 422
    assert no_reason.status_code == 422
    assert bad_setting.status_code == 422 and "cannot be set remotely" in bad_setting.text
    assert other.status_code == 404


async def test_settings_checked_shown_in_telemetry_used_at_once_and_after_restart(
    office: tuple[Office, dict[str, Any]],
) -> None:
    central, data = office
    async with running_station(data) as st, st.client("staff") as c:
        wrong = await central.send(
            {"kind": "apply_settings", "settings": {"timeouts.left_open_s": -5}}, "typo"
        )
        good = await central.send(
            {"kind": "apply_settings", "settings": {"timeouts.left_open_s": 300}},
            "longer before the left-open alarm",
        )
        refused = await _finished(st, central, wrong)
        done = await _finished(st, central, good)
        shown = (await c.get("/api/v1/telemetry")).json()["settings"]

    assert refused["status"] == "refused" and "timeouts.left_open_s" in refused["detail"]
    assert done["status"] == "done" and done["data"]["live"] == ["timeouts.left_open_s"]
    assert shown["timeouts.left_open_s"]["value"] == 300
    assert shown["timeouts.left_open_s"]["by"] == "alice"
    assert shown["timeouts.left_open_s"]["in_use"] is True  # applied at once

    async with running_station(data) as st, st.client("staff") as c:
        assert st.daemon.config.timeouts.left_open_s == 300
        after = (await c.get("/api/v1/telemetry")).json()["settings"]
    assert after["timeouts.left_open_s"]["in_use"] is True


async def test_diagnostics_bring_the_doctor_report_and_log_lines(
    office: tuple[Office, dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # as `station run` sets it (launcher/logs.py)
    central, data = office
    async with running_station(data) as st:
        command_id = await central.send({"kind": "diagnostics", "log_lines": 50}, "ticket 42")
        done = await _finished(st, central, command_id)

    assert done["status"] == "done"
    names = {check["name"] for check in done["data"]["doctor"]}
    assert {"data directory", "board B0", "central"} <= names
    assert any("ready on" in line for line in done["data"]["log"])


async def test_a_faulty_locker_is_refused_unless_forced(
    office: tuple[Office, dict[str, Any]],
) -> None:
    central, data = office
    async with running_station(data) as st:
        assert st.daemon.station is not None
        store = st.daemon.station.store
        await store.write(
            lambda tx: tx.conn.execute(
                "UPDATE lockers SET faulty = 1, fault_reason = 'door_jammed' WHERE id = 'A06'"
            )
        )
        # The locker service reads faults at start: restart to see it as staff would.
    async with running_station(data) as st:
        plain = await central.send({"kind": "open_door", "locker": "A06"}, "try it")
        refused = await _finished(st, central, plain)
        forced = await central.send(
            {"kind": "open_door", "locker": "A06", "force": True}, "technician on site"
        )
        done = await _finished(st, central, forced)
        released = await central.send({"kind": "release_locker", "locker": "A06"}, "fixed")
        back = await _finished(st, central, released)
        assert st.daemon.station is not None
        faulty = st.daemon.station.lockers.view("A06")["faulty"]

    assert refused["status"] == "refused" and "out of service" in refused["detail"]
    assert done["status"] == "done"
    assert back["status"] == "done"
    assert faulty is False


async def test_a_staff_lockout_is_lifted_from_the_office(
    office: tuple[Office, dict[str, Any]],
) -> None:
    central, data = office
    async with running_station(data) as st, st.client("kiosk") as kiosk:
        assert st.daemon.station is not None
        await st.daemon.station.services.staff.add("S100", "Wang", "246813", "test")
        for _ in range(5):
            r = await kiosk.post("/api/v1/staff/login", json={"staff_no": "S100", "pin": "111333"})
        assert r.status_code == 429
        lifted = await _finished(
            st, central, await central.send({"kind": "lift_lockout", "staff": "S100"}, "call 17")
        )
        again = await _finished(
            st, central, await central.send({"kind": "lift_lockout", "staff": "S100"}, "twice")
        )
        r = await kiosk.post("/api/v1/staff/login", json={"staff_no": "S100", "pin": "246813"})
        released = _local(st, "pin_lockout_released")

    assert lifted["status"] == "done" and "S100" in lifted["detail"]
    assert again["status"] == "refused" and "not locked out" in again["detail"]
    assert r.status_code == 200
    assert [(e.actor, e.payload["subject"]) for e in released] == [("office:alice", "staff:S100")]


async def test_lift_lockout_names_a_member_or_a_staff_number(
    office: tuple[Office, dict[str, Any]],
) -> None:
    central, _ = office
    async with central.client(central.operator) as c:
        both = await c.post(
            f"/api/v1/stations/{STATION}/commands",
            json={"action": {"kind": "lift_lockout", "member": "m1", "staff": "S1"}, "reason": "x"},
        )
        neither = await c.post(
            f"/api/v1/stations/{STATION}/commands",
            json={"action": {"kind": "lift_lockout"}, "reason": "x"},
        )
    assert (both.status_code, neither.status_code) == (422, 422)


async def test_the_office_issues_and_lists_commands_from_the_command_line(
    office: tuple[Office, dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    central, data = office
    monkeypatch.setenv("CENTRAL_URL", central.url)
    monkeypatch.setenv("CENTRAL_TOKEN", central.operator)
    issue = ["commands", "issue", STATION]
    async with running_station(data) as st:
        code = await asyncio.to_thread(
            central_main, [*issue, "open_door", "--locker", "A03", "--reason", "phone call"]
        )
        command_id = capsys.readouterr().out.strip()
        done = await _finished(st, central, command_id)
        setting = [*issue, "apply_settings", "--set", "timeouts.left_open_s=240", "--reason", "r"]
        assert await asyncio.to_thread(central_main, setting) == 0
        capsys.readouterr()
        bad = [*issue, "open_door", "--reason", "no locker named"]
        refused = await asyncio.to_thread(central_main, bad)
        assert "locker" in capsys.readouterr().err
        listed = await asyncio.to_thread(central_main, ["commands", "list", "--station", STATION])
        out = capsys.readouterr().out

    assert (code, refused, listed) == (0, 1, 0)
    assert done["status"] == "done" and done["issuer"] == "alice"
    assert f"{command_id[:8]}  {STATION}  open_door" in out and "apply_settings" in out
    monkeypatch.setenv("CENTRAL_TOKEN", central.viewer)
    assert central_main([*issue, "diagnostics", "--reason", "viewer"]) == 1
    assert "operator" in capsys.readouterr().err


async def test_settings_take_effect_without_a_restart_and_say_what_waits(
    office: tuple[Office, dict[str, Any]],
) -> None:
    central, data = office
    async with running_station(data) as st, st.client("kiosk") as kiosk:
        assert st.daemon.station is not None
        await st.daemon.station.services.staff.add("S100", "Wang", "246813", "test")
        stricter = await central.send(
            {
                "kind": "apply_settings",
                "settings": {"people.pin_max_failures": 2, "station.help_phone": "12345"},
            },
            "two tries are enough",
        )
        done = await _finished(st, central, stricter)
        answers = [
            (await kiosk.post("/api/v1/staff/login", json={"staff_no": "S100", "pin": "111333"}))
            for _ in range(2)
        ]
        async with st.client("staff") as staff:
            shown = (await staff.get("/api/v1/telemetry")).json()["settings"]
        stream = st.url.replace("http://", "ws://") + "/api/v1/stream"
        kiosk_auth = {"Authorization": f"Bearer {TOKENS['kiosk']}"}
        async with connect(stream, additional_headers=kiosk_auth) as ws:
            snapshot = json.loads(await ws.recv())

    assert done["status"] == "done"
    assert done["data"]["live"] == ["people.pin_max_failures", "station.help_phone"]
    assert done["data"]["not_live"] == {}
    assert "in use now: people.pin_max_failures, station.help_phone" in done["detail"]
    assert [r.status_code for r in answers] == [403, 429]  # locked after two, not five
    assert shown["people.pin_max_failures"]["in_use"] is True
    assert shown["station.help_phone"]["in_use"] is True
    assert snapshot["station"] == {"help_phone": "12345"}  # what the touchscreen shows
