"""Unlock answers end to end: the real daemon, the real driver, a simulated cu board of each
answer shape. A door opened for 0.3 s or for 1 s right after its unlock is seen open and never
judged jammed, and a board that never answers unlocks is not reported as uncertain."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from station.doors.boards import ANSWERS_FILE
from station.store import Event
from tests.simstation import SimStation, running_station, sim_config_data


def _events(st: SimStation) -> list[Event]:
    return st.daemon.station.store.events_after(0, limit=10_000)


def _config(tmp_path: Path, **board: Any) -> dict[str, Any]:
    data = sim_config_data(tmp_path, open_window_s=1.2)
    data["boards"][0].update(board)
    return data


async def _open_for(st: SimStation, c: Any, locker: str, channel: int, seconds: float) -> None:
    r = await c.post(f"/api/v1/lockers/{locker}/open", json={"reason": "test"})
    assert r.status_code == 200, r.text
    await asyncio.sleep(seconds)
    st.sim.close_door(channel)


@pytest.mark.parametrize("shape", ["status", "ack", "none", "late"])
async def test_brief_openings_after_an_unlock_are_seen_and_never_jammed(
    tmp_path: Path, shape: str
) -> None:
    answer = "ack" if shape == "late" else shape
    mode = "none" if shape == "none" else "auto"
    data = _config(tmp_path, sim_unlock_answer=answer, unlock_answer=mode)
    async with running_station(data) as st, st.client("staff") as c:
        if shape == "late":
            st.sim.set_unlock_answer("ack", delay_s=0.2)
        await _open_for(st, c, "A03", 3, 0.3)
        await _open_for(st, c, "A04", 4, 1.0)
        await asyncio.sleep(1.5)  # past open_window_s of both unlocks
        events = _events(st)
        for locker in ("A03", "A04"):
            kinds = [e.type for e in events if e.locker == locker]
            assert "door_opened" in kinds and "door_closed" in kinds, (locker, kinds)
        jams = await st.daemon.station.store.aquery(
            "SELECT subject FROM alarms WHERE type = 'door_jammed'"
        )
        assert jams == []
        assert not st.daemon.station.lockers.view("A03")["faulty"]
        assert not st.daemon.station.lockers.view("A04")["faulty"]
        if shape == "none":
            assert not [e for e in events if e.type == "door_unlock_uncertain"]


async def test_a_silent_board_is_learnt_as_none_and_kept_for_the_next_start(
    tmp_path: Path,
) -> None:
    data = _config(tmp_path, sim_unlock_answer="none")
    async with running_station(data) as st, st.client("staff") as c:
        for locker, channel in (("A01", 1), ("A02", 2), ("A05", 5)):
            await _open_for(st, c, locker, channel, 0.3)
        uncertain = [e.locker for e in _events(st) if e.type == "door_unlock_uncertain"]
        assert "A05" not in uncertain  # learnt as "none" by then
    kept = json.loads((Path(data["station"]["data_dir"]) / ANSWERS_FILE).read_text())
    assert kept == {"B0": "none"}
    async with running_station(data) as st, st.client("staff") as c:
        await _open_for(st, c, "A06", 6, 0.3)
        assert not [
            e for e in _events(st) if e.type == "door_unlock_uncertain" and e.locker == "A06"
        ]
