"""A two-bus station for hardware-fault tests, and the checks every fault shares.

Bus 1 is board B0 (lockers A01..A16) alone on its own simulated adapter. Bus 2 is one simulated
adapter carrying two boards, B1 at address 1 (C01..C04) and B2 at address 2 (D01..D04), so a
fault can hit a whole bus, or one board while its bus-mate must keep working.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drivers.lockboard import cu
from drivers.sim.lockboard import LockBoardSimulator
from station.store import Event
from tests.simstation import SimStation, running_station, sim_config_data

BUS2_LOCKERS = {"B1": ("C01", "C02", "C03", "C04"), "B2": ("D01", "D02", "D03", "D04")}
ADDRESS = {"B0": 0, "B1": 1, "B2": 2}
PROMPT_S = 2.0
"""A generous bound for a staff open on a healthy board while a fault lasts elsewhere."""

FAST_TIMEOUTS: dict[str, Any] = {
    "poll_ms": 50,
    "answer_ms": 300,
    "quiet_ms": 20,
    "reconnect_max_s": 0.3,
    "open_window_s": 1.0,
}


def two_bus_config(tmp_path: Path, **timeouts: Any) -> dict[str, Any]:
    data = sim_config_data(tmp_path, **{**FAST_TIMEOUTS, **timeouts})
    bus2 = str(tmp_path / "bus2")
    for board_id, lockers in BUS2_LOCKERS.items():
        data["boards"].append(
            {
                "id": board_id,
                "protocol": "sim",
                "sim_protocol": "cu",
                "port": bus2,
                "address": ADDRESS[board_id],
                "channels": len(lockers),
                "sim_auto_close_s": 0.0,
            }
        )
        for channel, locker in enumerate(lockers, start=1):
            data["lockers"].append({"id": locker, "board": board_id, "channel": channel})
    return data


@dataclass
class HwStation:
    st: SimStation

    @property
    def bus1(self) -> LockBoardSimulator:
        return self._sims()["B0"]

    @property
    def bus2(self) -> LockBoardSimulator:
        sims = self._sims()
        assert sims["B1"] is sims["B2"], "B1 and B2 must share one simulated bus"
        return sims["B1"]

    def _sims(self) -> dict[str, LockBoardSimulator]:
        assert self.st.daemon.boards is not None
        return self.st.daemon.boards.simulators

    @property
    def lockers(self) -> Any:
        assert self.st.daemon.station is not None
        return self.st.daemon.station.lockers

    def where(self, locker: str) -> tuple[LockBoardSimulator, int, int]:
        """The simulator, board address and channel behind a locker."""
        cfg = next(lk for lk in self.st.config.lockers if lk.id == locker)
        sim = self.bus1 if cfg.board == "B0" else self.bus2
        return sim, ADDRESS[cfg.board], cfg.channel

    def truth(self, locker: str) -> str:
        sim, address, channel = self.where(locker)
        return "open" if sim.is_open(channel, address) else "closed"

    def close(self, locker: str) -> None:
        sim, address, channel = self.where(locker)
        sim.close_door(channel, address)

    def unlocks(self, locker: str) -> int:
        sim, address, channel = self.where(locker)
        return sim.unlocks(channel, address)

    def events(self, after: int = 0) -> list[Event]:
        assert self.st.daemon.station is not None
        return self.st.daemon.station.store.events_after(after, limit=100_000)

    def last_seq(self) -> int:
        events = self.events()
        return events[-1].seq if events else 0

    def alarms(self, type: str | None = None, subject: str | None = None) -> list[dict[str, Any]]:
        assert self.st.daemon.station is not None
        sql, params = "SELECT * FROM alarms WHERE 1", []
        if type is not None:
            sql, params = sql + " AND type = ?", [*params, type]
        if subject is not None:
            sql, params = sql + " AND subject = ?", [*params, subject]
        return self.st.daemon.station.store.query(sql + " ORDER BY id", params)

    async def wait(self, predicate: Any, within: float = 5.0) -> None:
        await self.st.wait_for(predicate, within=within)


@asynccontextmanager
async def hw_station(data: dict[str, Any]) -> AsyncIterator[HwStation]:
    async with running_station(data) as st:
        hw = HwStation(st)
        await hw.wait(lambda: all(lk["door"] == "closed" for lk in hw.lockers.snapshot()))
        yield hw


async def timed_open(client: Any, locker: str, reason: str) -> tuple[Any, float]:
    """Staff open a locker through the API; the answer and how long it took."""
    started = time.monotonic()
    r = await client.post(f"/api/v1/lockers/{locker}/open", json={"reason": reason})
    return r, time.monotonic() - started


async def open_and_see(hw: HwStation, client: Any, locker: str, reason: str) -> float:
    """Open a healthy locker, see its door open, shut it again; seconds to the API's answer."""
    r, took = await timed_open(client, locker, reason)
    assert r.status_code == 200, (locker, r.status_code, r.text)
    assert r.json()["confirmed"] is True, r.json()
    assert await hw.lockers.wait_door(locker, "open", within=PROMPT_S)
    hw.close(locker)
    assert await hw.lockers.wait_door(locker, "closed", within=PROMPT_S)
    return took


def noise(rng: random.Random) -> bytes:
    """Bytes a noisy RS485 line carries: random junk, a cut real frame, a frame with a bad check.

    A cut frame or a corrupted one makes the decoder start a frame and find garbage inside it.
    """
    frame = cu.encode_status_answer(rng.choice((1, 2)), [False] * 4, [False] * 4)
    kind = rng.randrange(3)
    if kind == 0:
        return rng.randbytes(rng.randint(1, 24))
    if kind == 1:
        return frame[: rng.randint(1, len(frame) - 1)]
    bad = bytearray(frame)
    bad[rng.randrange(1, len(bad))] ^= 1 << rng.randrange(8)
    return bytes(bad)


def outcomes_missing(events: list[Event]) -> list[Event]:
    """door_unlocked events with no outcome: seen open, failed, uncertain, or judged jammed.

    An unlock of a door the station already saw open has nothing left to wait for (a forced
    door the faults left open, opened again by staff): it is settled as it is logged."""
    settled: set[int] = set()
    jammed_after: dict[str, int] = {}
    door: dict[str, str] = {}
    for e in events:
        answered = e.type in ("door_unlock_failed", "door_unlock_uncertain")
        if answered or (e.type == "door_opened" and "unlock_seq" in e.payload):
            settled.add(e.payload["unlock_seq"])
        elif e.type == "alarm_raised" and e.payload.get("alarm") == "door_jammed":
            jammed_after[e.payload["subject"]] = e.seq
        elif e.type == "door_unlocked" and door.get(e.locker or "") == "open":
            settled.add(e.seq)
        if e.type in ("door_opened", "door_closed", "door_unknown") and e.locker:
            door[e.locker] = e.type.removeprefix("door_").replace("opened", "open")
    return [
        e
        for e in events
        if e.type == "door_unlocked"
        and e.seq not in settled
        and not (e.locker in jammed_after and jammed_after[e.locker] > e.seq)
    ]


async def sleep_until(predicate: Any, within: float) -> bool:
    """Poll a condition held by other threads; False if it does not come true in time."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.005)
    return True
