"""Telemetry of a simulated station in a known state: the JSON snapshot, /metrics, promtool.

The state is made the way it happens on the street, through the real daemon and the pty lock
board: a door forced open, a door a staff member opened and left open, a jammed door, a tool
overdue, a found item waiting, water running low.
"""

from __future__ import annotations

import re

import httpx
from gpiozero.pins.mock import MockFactory
from prometheus_client.parser import text_string_to_metric_families

from station.ops.host_health import HostProbe
from station.telemetry.service import TelemetryService
from tests.promtool import promtool_check
from tests.simstation import TOKENS, running_station, sim_config_data
from tests.station.conftest import Harness, channel
from wire.telemetry import SAMPLE_PATHS, SNAPSHOT_VERSION, dig

PHONE = "13812345678"


def series(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a /metrics body keyed by (name, sorted labels)."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def make_known_state(h: Harness) -> None:
    staff = await h.staff()
    # a tool out on loan, then overdue
    await h.register(PHONE)
    await h.add_tool("DRILL-1", "A02")
    session = await h.identify(PHONE)
    r = await h.kiosk.post(
        "/api/v1/loans", json={"tool_id": "DRILL-1"}, headers={"X-Member-Session": session}
    )
    assert r.status_code == 202, r.text
    assert (await h.finish(r.json()))["state"] == "completed"
    # a found item handed in
    r = await h.kiosk.post(
        "/api/v1/found", json={"category": "keys", "colour": "black", "place": "公交站"}
    )
    assert r.status_code == 202, r.text
    assert (await h.finish(r.json()))["state"] == "completed"
    # water low
    r = await staff.post("/api/v1/supplies/water/count", json={"count": 3, "note": "stocktake"})
    assert r.status_code == 200, r.text
    # two days later the drill is overdue
    await h.sweep(advance_s=3 * 86_400)
    staff = h.client(role="staff")  # the login session ran out over those days
    # A05 opened by staff and left open; A09 forced; A07 jammed
    r = await staff.post("/api/v1/lockers/A05/open", json={"reason": "restock"})
    assert r.status_code == 200, r.text
    assert await h.daemon.station.lockers.wait_door("A05", "open", within=5)
    h.sim.force_open(channel("A09"))
    assert await h.daemon.station.lockers.wait_door("A09", "open", within=5)
    h.sim.set_jammed(channel("A07"), True)
    r = await staff.post("/api/v1/lockers/A07/open", json={"reason": "check"})
    assert r.status_code == 200, r.text
    h.clock.advance(5.0)
    await h.daemon.station.lockers.check_timers()


async def test_snapshot_tells_the_state_of_the_station(sim_station: Harness) -> None:
    h = sim_station
    await make_known_state(h)
    r = await h.central.get("/api/v1/telemetry")
    assert r.status_code == 200, r.text
    snap = r.json()
    assert snap["station"] == "TEST-0001" and snap["v"] == 1
    assert snap["at"] == h.clock.wall()
    assert snap["up_since"] <= snap["at"] and snap["uptime_s"] >= 3 * 86_400
    doors = snap["doors"]
    assert doors["open_ids"] == ["A05", "A09"]
    assert (doors["open"], doors["closed"], doors["unknown"], doors["faulty"]) == (2, 14, 0, 1)
    assert doors["faulty_items"] == [{"id": "A07", "reason": "door_jammed"}]
    assert doors["boards_offline"] == []
    alarms = snap["alarms"]
    assert alarms["by_type"]["forced_open"] == 1 and alarms["by_type"]["door_jammed"] == 1
    assert alarms["by_type"]["low_stock"] == 1
    assert {(a["type"], a["subject"]) for a in alarms["items"]} >= {
        ("forced_open", "A09"),
        ("door_jammed", "A07"),
        ("low_stock", "water"),
    }
    tools = snap["tools"]
    assert tools["out"] == 1 and tools["overdue"] == 1 and tools["by_status"]["on_loan"] == 1
    overdue = tools["overdue_items"][0]
    assert (overdue["tool_id"], overdue["locker"]) == ("DRILL-1", "A02")
    assert not any("member" in key for key in overdue)
    lost = snap["lost_found"]
    assert lost["waiting"] == 1 and lost["by_status"]["held"] == 1
    supplies = snap["supplies"]
    assert supplies["low"] == 1
    water = next(s for s in supplies["items"] if s["id"] == "water")
    assert (water["count"], water["low"]) == (3, True)
    assert snap["occupancy"] == {
        "present": False,
        "reason": "no occupancy sensor is configured",
    }
    assert snap["sync"]["enabled"] is False and snap["sync"]["pending"] > 0
    health = snap["health"]
    assert health["disk_free_bytes"] > 0 and health["rss_bytes"] > 10_000_000
    assert health["clock_synced"] is True
    assert snap["events"]["since_start"]["alarm_raised"] >= 3
    # nobody's phone number or label is in the snapshot
    assert PHONE not in r.text and "****" not in r.text and "member:" not in r.text


async def test_metrics_match_the_snapshot_and_pass_promtool(sim_station: Harness) -> None:
    h = sim_station
    await make_known_state(h)
    r = await h.central.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=")
    text = r.text
    promtool_check(text)
    got = series(text)
    assert got[("station_doors", (("state", "open"),))] == 2
    assert got[("station_doors", (("state", "closed"),))] == 14
    assert got[("station_lockers_faulty", ())] == 1
    assert got[("station_locker_door", (("locker", "A09"), ("state", "open")))] == 1
    assert got[("station_locker_door", (("locker", "A01"), ("state", "closed")))] == 1
    assert got[("station_locker_faulty", (("locker", "A07"),))] == 1
    assert got[("station_alarms_open", (("type", "forced_open"),))] == 1
    assert got[("station_alarms_open", (("type", "door_jammed"),))] == 1
    assert got[("station_loans_overdue", ())] == 1
    assert got[("station_lost_items_waiting", (("status", "held"),))] == 1
    assert got[("station_supply_low", (("supply", "water"),))] == 1
    assert got[("station_supply_stock", (("supply", "water"),))] == 3
    assert ("station_supply_stock", (("supply", "balm"),)) not in got  # never counted
    assert got[("station_clock_synced", ())] == 1
    assert got[("station_disk_free_bytes", ())] > 0
    assert got[("station_events_total", (("type", "alarm_raised"),))] >= 3
    assert got[("station_usage_log_appended_total", ())] > 10
    info = got[
        (
            "station_info",
            (
                ("name", h.station.config.station.name),
                ("station", "TEST-0001"),
                ("version", "0.1.0"),
            ),
        )
    ]
    assert info == 1
    # one prefix, base units, no person in any label
    names = {name for name, _ in got}
    assert all(n.startswith("station_") for n in names)
    assert not any(re.search(r"_(minutes|ms|kb|mb|percent)\b", n) for n in names)
    labels = {k for _, ls in got for k, _ in ls}
    assert labels <= {
        "station",
        "name",
        "version",
        "state",
        "locker",
        "board",
        "type",
        "status",
        "supply",
        "sensor",
    }
    assert PHONE not in text and "****" not in text and "member:" not in text


async def test_tokens_and_roles(sim_station: Harness) -> None:
    h = sim_station
    async with httpx.AsyncClient(base_url=h.station.url) as anon:
        assert (await anon.get("/metrics")).status_code == 401
        assert (await anon.get("/api/v1/telemetry")).status_code == 401
        kiosk = {"Authorization": f"Bearer {TOKENS['kiosk']}"}
        assert (await anon.get("/metrics", headers=kiosk)).status_code == 403
        assert (await anon.get("/api/v1/telemetry", headers=kiosk)).status_code == 403
        staff = {"Authorization": f"Bearer {TOKENS['staff']}"}
        assert (await anon.get("/api/v1/telemetry", headers=staff)).status_code == 200
        assert (await anon.get("/metrics", headers=staff)).status_code == 403


async def test_a_silent_board_makes_its_doors_unknown(sim_station: Harness) -> None:
    h = sim_station
    h.sim.set_silent(True)
    lockers = h.daemon.station.lockers
    await h.station.wait_for(lambda: lockers.board_online("B0") is False, within=10)
    snap = (await h.central.get("/api/v1/telemetry")).json()
    assert snap["doors"]["boards_offline"] == ["B0"]
    assert snap["doors"]["unknown"] == 16 and snap["doors"]["open"] == 0
    assert snap["alarms"]["by_type"]["board_offline"] == 1
    text = (await h.central.get("/metrics")).text
    got = series(text)
    assert got[("station_board_online", (("board", "B0"),))] == 0
    assert got[("station_doors", (("state", "unknown"),))] == 16
    promtool_check(text)


async def test_occupancy_and_the_compact_snapshot(tmp_path) -> None:
    data = sim_config_data(tmp_path)
    data["occupancy"] = {"pir_pin": 17, "hold_s": 0.5}
    factory = MockFactory()
    try:
        async with running_station(data, pin_factory=factory) as st, st.client("central") as c:
            tracker = st.daemon.station.occupancy
            factory.pin(17).drive_high()
            await st.wait_for(lambda: tracker.snapshot().state == "occupied", within=10)
            snap = (await c.get("/api/v1/telemetry")).json()
            occ = snap["occupancy"]
            assert occ["present"] is True and occ["state"] == "occupied"
            assert occ["today"]["sessions"] == 1 and occ["sensors_offline"] == []
            got = series((await c.get("/metrics")).text)
            assert got[("station_occupancy_state", (("state", "occupied"),))] == 1
            assert got[("station_occupancy_today_sessions", ())] == 1
            compact = st.daemon.station.telemetry.compact()
            sent = await st.daemon.station.sync._telemetry_snapshot()
    finally:
        factory.reset()
    # the compact snapshot keeps the counts and drops the per-locker list and details
    assert compact["occupancy"]["state"] == "occupied" and "detail" not in compact["occupancy"]
    assert "lockers" not in compact and "sync" not in compact and "events" not in compact
    assert compact["doors"]["total"] == 16
    assert len(str(compact)) < 8_000
    # what a batch carries has every number central samples (the contract, wire/telemetry.py)
    missing = [name for name, path in SAMPLE_PATHS.items() if dig(sent, *path[:-1]) is None]
    assert missing == [] and sent["v"] == SNAPSHOT_VERSION
    assert all(path[-1] in dig(sent, *path[:-1]) for path in SAMPLE_PATHS.values())


async def test_a_station_without_the_service_tables_reports_them_absent(tmp_path) -> None:
    """Telemetry built on a bare station (a store with only the core tables) still answers."""
    async with running_station(sim_config_data(tmp_path)) as st:
        station = st.daemon.station
        from station.store import Store

        bare = Store(tmp_path / "bare.db", station.clock)
        try:
            telemetry = TelemetryService(
                config=station.config,
                clock=station.clock,
                store=bare,
                lockers=station.lockers,
                occupancy=None,
                sync=None,
                probe=HostProbe(tmp_path),
            )
            snap = telemetry.snapshot()
            telemetry.close()
        finally:
            bare.close()
    for part in ("tools", "lost_found", "storage", "supplies", "occupancy", "sync"):
        assert snap[part]["present"] is False, part
    assert snap["doors"]["total"] == 16
