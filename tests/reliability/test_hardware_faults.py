"""What a street booth's hardware does wrong, seen from the whole station.

Each case runs the real daemon with two simulated RS485 buses on ptys (tests/reliability/hwkit),
plays one fault on one board or bus, and checks the station's promise: staff keep opening
lockers on the healthy boards through the API, the fault raises its alarm once with words staff
can act on, the usage log tells what happened with actor and reason, and once the fault ends
the station recovers by itself (no restart, no staff action unless a human must look).
"""

from __future__ import annotations

import asyncio
import random
import threading
from pathlib import Path

from drivers.sim.radar import VirtualRadar
from tests.reliability.hwkit import (
    BUS2_LOCKERS,
    PROMPT_S,
    HwStation,
    hw_station,
    noise,
    open_and_see,
    outcomes_missing,
    sleep_until,
    timed_open,
    two_bus_config,
)
from tests.reliability.report import record

FIGURES: dict[str, list[float]] = {}
"""Seconds for staff opens on healthy boards while a fault lasted, by fault (for the report)."""


def _figure(fault: str, seconds: float) -> None:
    FIGURES.setdefault(fault, []).append(seconds)
    print(f"[hardware faults] {fault}: healthy open answered in {seconds * 1000:.0f} ms")


def _raised_once(hw: HwStation, type: str, subject: str) -> dict:
    rows = hw.alarms(type, subject)
    assert len(rows) == 1, f"{type} on {subject}: expected one alarm, got {rows}"
    return rows[0]


def _bus2_doors(hw: HwStation) -> set[str]:
    return {hw.lockers.door(lk) for ids in BUS2_LOCKERS.values() for lk in ids}


async def test_adapter_unplugged_mid_unlock_then_replugged(tmp_path: Path) -> None:
    """Pulled while an unlock is on the wire: uncertain, never re-sent, doors unknown, reconciled.

    The board fired before the adapter went (the door really opened), and someone pulls another
    door open while the bus is dark: after the replug both are seen open, each with its cause.
    """
    async with hw_station(two_bus_config(tmp_path)) as hw, hw.st.client("staff") as c:
        first = hw.last_seq()
        hw.bus2.set_answer_delay(0.2, address=1)  # the answer is still on its way ...
        opening = asyncio.create_task(timed_open(c, "C02", "hand out a pump"))
        assert await sleep_until(lambda: hw.unlocks("C02") == 1, within=PROMPT_S)
        hw.bus2.unplug()  # ... when the adapter is pulled
        r, _ = await opening
        assert r.status_code == 200 and r.json()["confirmed"] is False, r.text
        hw.bus2.set_answer_delay(0.0, address=1)
        await hw.wait(lambda: _bus2_doors(hw) == {"unknown"})
        hw.bus2.force_open(3, address=2)  # forced while nobody can see
        took = await open_and_see(hw, c, "A01", "restock while bus 2 is down")
        _figure("bus unplugged", took)
        refused = await c.post("/api/v1/lockers/D01/open", json={"reason": "try"})
        assert refused.status_code == 409 and "offline" in refused.json()["detail"]
        await asyncio.sleep(1.2)  # longer than open_window_s: C02's unlock is still unjudged
        assert hw.alarms("door_jammed") == [], "an unseen door is not a jammed one"
        for board in ("B1", "B2"):
            alarm = _raised_once(hw, "board_offline", board)
            assert board in alarm["detail"] and "bus2" in alarm["detail"], alarm
            assert "check the board's power" in alarm["detail"], alarm

        hw.bus2.replug()
        assert await hw.lockers.wait_door("C02", "open", within=5)
        assert await hw.lockers.wait_door("D03", "open", within=5)
        await hw.wait(
            lambda: not [a for a in hw.alarms("board_offline") if a["state"] != "cleared"]
        )
        assert {hw.lockers.door(lk) for lk in ("C01", "C03", "C04", "D01")} == {"closed"}
        assert hw.unlocks("C02") == 1, "an uncertain unlock must never be re-sent"
        assert hw.alarms("forced_open", "C02") == []
        assert _raised_once(hw, "forced_open", "D03")["state"] == "raised"
        assert hw.alarms("door_jammed") == []

        log = hw.events(first)
        unlocked = next(e for e in log if e.type == "door_unlocked" and e.locker == "C02")
        assert unlocked.actor == "staff:test-staff"
        assert unlocked.payload["reason"] == "hand out a pump"
        uncertain = next(e for e in log if e.type == "door_unlock_uncertain")
        assert uncertain.payload["unlock_seq"] == unlocked.seq
        assert "do not re-send" in uncertain.payload["error"]
        opened = next(e for e in log if e.type == "door_opened" and e.locker == "C02")
        assert opened.payload["cause"] == "unlock" and opened.payload["unlock_seq"] == unlocked.seq
        forced = next(e for e in log if e.type == "door_opened" and e.locker == "D03")
        assert forced.payload["cause"] == "sensor" and "unlock_seq" not in forced.payload
        unknown = [e for e in log if e.type == "door_unknown"]
        assert {e.locker for e in unknown} == set(BUS2_LOCKERS["B1"] + BUS2_LOCKERS["B2"])
        assert all(e.payload["cause"] == "board_offline" for e in unknown)
        assert [e.payload["board"] for e in log if e.type == "board_online"].count("B1") == 1
        assert outcomes_missing(log) == []
        record("events_checked", len(log))

        hw.close("C02")
        hw.close("D03")
        assert await hw.lockers.wait_door("D03", "closed", within=PROMPT_S)
        assert hw.alarms("forced_open", "D03")[0]["state"] == "cleared"
        await open_and_see(hw, c, "C04", "the replugged bus serves again")


def _bus_stats(hw: HwStation) -> object:
    assert hw.st.daemon.boards is not None and hw.st.daemon.boards.buses is not None
    return hw.st.daemon.boards.buses.buses[hw.bus2.path].stats


async def test_one_board_answering_late(tmp_path: Path) -> None:
    """B2 answers after answer_ms: its late answers are swallowed, never taken for the next one.

    Were a late answer matched to a later command, B2 would flicker online with a stale
    reading; instead it stays offline, its doors unknown, while B1 on the same wire and B0 on
    the other keep opening.
    """
    async with hw_station(two_bus_config(tmp_path)) as hw, hw.st.client("staff") as c:
        first = hw.last_seq()
        hw.bus2.set_answer_delay(0.45, address=2)  # answer_ms is 0.3: every answer is late
        await hw.wait(lambda: hw.lockers.board_online("B2") is False)
        hw.bus2.force_open(1, address=2)  # a stale "closed" answer must never be believed
        for locker in ("C03", "A02", "C01"):
            _figure("one board late", await open_and_see(hw, c, locker, "serve during fault"))
        await asyncio.sleep(1.5)  # a few more offline polls of B2, each answered late
        assert {hw.lockers.door(lk) for lk in BUS2_LOCKERS["B2"]} == {"unknown"}
        during = hw.events(first)
        assert not [e for e in during if e.type == "board_online"], "a late answer was believed"
        assert not [
            e for e in during if e.locker in BUS2_LOCKERS["B2"] and e.type != "door_unknown"
        ]
        alarm = _raised_once(hw, "board_offline", "B2")
        assert "no answer within 300 ms" in alarm["detail"], alarm
        assert hw.alarms("board_offline", "B1") == []
        stats = _bus_stats(hw)
        assert stats.timeouts >= 3 and stats.discarded_bytes > 0, stats  # late bytes drained

        hw.bus2.set_answer_delay(0.0, address=2)
        assert await hw.lockers.wait_door("D01", "open", within=5)
        await hw.wait(lambda: hw.alarms("board_offline", "B2")[0]["state"] == "cleared")
        opened = next(e for e in hw.events(first) if e.type == "door_opened" and e.locker == "D01")
        assert opened.locker == "D01" and opened.payload["cause"] == "sensor"
        assert _raised_once(hw, "forced_open", "D01")["state"] == "raised"
        hw.close("D01")
        await open_and_see(hw, c, "D02", "B2 answers in time again")
        assert outcomes_missing(hw.events(first)) == []
        record("events_checked", len(hw.events(first)))


async def test_garbage_between_and_inside_frames(tmp_path: Path) -> None:
    """Random bytes, cut frames and frames with a bad check on bus 2, before and between answers.

    The decoder resynchronises: nothing is misread as a door change, the boards on the noisy
    bus keep opening, and the count of noise the bus heard proves the garbage got there.
    """
    rng = random.Random(10)
    async with hw_station(two_bus_config(tmp_path)) as hw, hw.st.client("staff") as c:
        first = hw.last_seq()
        stop = threading.Event()

        def spray() -> None:
            while not stop.is_set():
                hw.bus2.inject_garbage(noise(rng))
                hw.bus2.set_answer_prefix(noise(rng) if rng.random() < 0.5 else b"")
                stop.wait(rng.uniform(0.03, 0.08))

        sprayer = threading.Thread(target=spray, name="garbage", daemon=True)
        sprayer.start()
        try:
            for locker in ("C01", "D02", "A03", "C04", "D04"):
                _figure("garbage on bus 2", await open_and_see(hw, c, locker, "serve in noise"))
            await asyncio.sleep(1.0)
        finally:
            stop.set()
            sprayer.join()
            hw.bus2.set_answer_prefix(b"")
        stats = _bus_stats(hw)
        assert stats.noise_bytes > 100, stats
        log = hw.events(first)
        opened = [e.locker for e in log if e.type == "door_opened"]
        assert opened == ["C01", "D02", "A03", "C04", "D04"], "garbage read as a door change"
        assert all(e.payload["cause"] == "unlock" for e in log if e.type == "door_opened")
        assert hw.alarms("forced_open") == []
        await hw.wait(lambda: not [a for a in hw.alarms() if a["state"] != "cleared"])
        assert {lk["door"] for lk in hw.lockers.snapshot()} == {"closed"}
        assert outcomes_missing(log) == []
        record("events_checked", len(log))


async def test_jammed_lock_and_forced_door(tmp_path: Path) -> None:
    """A jammed lock needs a human: out of service until released. A forced door clears itself."""
    async with hw_station(two_bus_config(tmp_path)) as hw, hw.st.client("staff") as c:
        first = hw.last_seq()
        hw.bus2.set_jammed(2, address=1)
        r, _ = await timed_open(c, "C02", "lend a drill")
        assert r.status_code == 200 and r.json()["confirmed"] is True
        _figure("jammed lock", await open_and_see(hw, c, "C01", "same board, still serving"))
        await hw.wait(lambda: hw.lockers.view("C02")["faulty"], within=3)
        alarm = _raised_once(hw, "door_jammed", "C02")
        assert "check the lock, then release it" in alarm["detail"], alarm
        again = await c.post("/api/v1/lockers/C02/open", json={"reason": "lend a drill"})
        assert again.status_code == 409 and "out of service" in again.json()["detail"]
        hw.bus2.set_jammed(2, False, address=1)  # fixed, but nobody told the station
        await asyncio.sleep(0.5)
        assert (
            hw.lockers.view("C02")["faulty"] and hw.alarms("door_jammed")[0]["state"] != "cleared"
        )

        hw.bus2.force_open(3, address=2)
        assert await hw.lockers.wait_door("D03", "open", within=PROMPT_S)
        await hw.wait(lambda: len(hw.alarms("forced_open", "D03")) == 1)
        assert "D03 opened with no unlock" in hw.alarms("forced_open", "D03")[0]["detail"]
        _figure("forced door", await open_and_see(hw, c, "D04", "same board, still serving"))
        _figure("forced door", await open_and_see(hw, c, "A16", "other bus"))
        hw.close("D03")
        await hw.wait(lambda: hw.alarms("forced_open", "D03")[0]["state"] == "cleared")

        released = await c.post("/api/v1/lockers/C02/release", json={"note": "latch freed"})
        assert released.status_code == 200 and released.json()["faulty"] is False
        assert _raised_once(hw, "door_jammed", "C02")["state"] == "cleared"
        await open_and_see(hw, c, "C02", "lend a drill")
        assert hw.unlocks("C02") == 2, "one unlock per staff request, never one by itself"
        log = hw.events(first)
        release = next(e for e in log if e.type == "locker_released")
        assert release.actor == "staff:test-staff" and release.payload["note"] == "latch freed"
        assert release.payload["was"] == "door_jammed"
        assert [
            e.payload["reason"] for e in log if e.type == "door_unlocked" and e.locker == "C02"
        ] == [
            "lend a drill",
            "lend a drill",
        ]
        assert outcomes_missing(log) == []
        assert [a for a in hw.alarms() if a["state"] != "cleared"] == []
        record("events_checked", len(log))


async def test_radar_unplugged_and_replugged(tmp_path: Path) -> None:
    """No radar: occupancy unknown and sensor_offline, lockers unaffected; back by itself."""
    with VirtualRadar(tmp_path / "radar").start() as radar:
        data = two_bus_config(tmp_path)
        data["occupancy"] = {"radar_port": radar.path, "hold_s": 1.0, "stale_s": 1.0}
        async with hw_station(data) as hw, hw.st.client("staff") as c:
            occupancy = hw.st.daemon.station.occupancy
            radar.person_sits_still()
            await hw.wait(lambda: occupancy.snapshot().state == "occupied")
            first = hw.last_seq()
            radar.unplug()
            await hw.wait(lambda: occupancy.snapshot().state == "unknown")
            alarm = _raised_once(hw, "sensor_offline", "radar")
            assert "check its cable" in alarm["detail"], alarm
            body = (await c.get("/api/v1/occupancy")).json()
            assert body["state"] == "unknown" and body["sensors"]["radar"]["online"] is False
            for locker in ("A05", "C03", "D02"):
                _figure("radar unplugged", await open_and_see(hw, c, locker, "radar is out"))
            assert [a["type"] for a in hw.alarms() if a["state"] != "cleared"] == ["sensor_offline"]
            radar.replug()
            await hw.wait(lambda: occupancy.snapshot().state == "occupied", within=10)
            assert _raised_once(hw, "sensor_offline", "radar")["state"] == "cleared"
            log = hw.events(first)
            assert [e.payload["alarm"] for e in log if e.type.startswith("alarm_")] == [
                "sensor_offline",
                "sensor_offline",
            ]
            record("events_checked", len(log))
