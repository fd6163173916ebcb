"""A started daemon on a simulated 16-door station, driven over real HTTP, for station suites.

`sim_station` is the real Daemon (store, pty lock-board simulator, services, uvicorn) with a fake
clock the test moves; `sim_station_factory` builds one with other settings or the system clock
(a jammed-door test needs the locker service's own timers to run). The harness records every
response body and, when the test ends, checks that no phone number it was given appears in a
response or anywhere in the database file: the privacy rule is checked by every test.

Config: lockers A01-A10 tools, A11-A13 lost and found, A14-A16 storage (S), all on one `cu`
simulator whose channel is the locker number; doors close only when the test closes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from drivers.sim.lockboard import LockBoardSimulator
from station.clock import FakeClock
from station.daemon import Daemon
from station.people.staff import add_staff
from station.services.registry import Services
from tests.simstation import TOKENS, SimStation, running_station, sim_config_data

PHONE_KEY = "test-fleet-phone-hash-key-0000000001"
STAFF_NO, STAFF_PIN = "S001", "482913"
PIN = "527194"
PHONES = (
    "13812345678",
    "13900001111",
    "15011112222",
    "18622223333",
    "17733334444",
    "13544445555",
)
"""Numbers tests use; the harness checks none of them leaks (as typed or as 11 digits)."""
CARDS = ("0012345678", "QR-Mq7-xT42", "0099887766")
"""Card numbers and codes tests present; the harness checks none of them leaks either."""
START = 1_767_225_600.0


def services_config(tmp_path: Path, **timeouts: Any) -> dict[str, Any]:
    """The 16-locker simulated station with kiosk/staff/central tokens and the services set up
    for tests (short answer wait, short open window)."""
    data = sim_config_data(tmp_path, **({"open_window_s": 1.0} | timeouts))
    data["people"] = {"phone_hash_key": PHONE_KEY}
    data["services"] = {"close_wait_s": 30.0, "lending": {"answer_wait_s": 5.0}}
    return data


@dataclass
class Harness:
    """One running station and the handles tests drive it with."""

    station: SimStation
    clock: FakeClock | None
    transcript: list[str] = field(default_factory=list)
    typed_phones: set[str] = field(default_factory=set)
    _clients: list[httpx.AsyncClient] = field(default_factory=list)

    @property
    def services(self) -> Services:
        services = self.station.daemon.station.services  # type: ignore[union-attr]
        assert services is not None
        return services

    @property
    def daemon(self) -> Daemon:
        return self.station.daemon

    @property
    def sim(self) -> LockBoardSimulator:
        """The simulator of the station's one board: close_door, set_jammed, unlocks, ..."""
        return self.station.sim

    @property
    def simulators(self) -> dict[str, LockBoardSimulator]:
        assert self.station.daemon.boards is not None
        return self.station.daemon.boards.simulators

    # --- HTTP -------------------------------------------------------------------------------

    def client(self, token: str | None = None, role: str | None = None) -> httpx.AsyncClient:
        """A client whose every response body goes to the transcript."""
        bearer = token or (TOKENS[role] if role else None)

        async def record(response: httpx.Response) -> None:
            await response.aread()
            self.transcript.append(response.text)
            self.transcript.append(str(dict(response.headers)))

        client = httpx.AsyncClient(
            base_url=self.station.url,
            headers={"Authorization": f"Bearer {bearer}"} if bearer else {},
            timeout=30,
            event_hooks={"response": [record]},
        )
        self._clients.append(client)
        return client

    @functools.cached_property
    def kiosk(self) -> httpx.AsyncClient:
        return self.client(role="kiosk")

    @functools.cached_property
    def central(self) -> httpx.AsyncClient:
        return self.client(role="central")

    async def staff(self, staff_no: str = STAFF_NO, pin: str = STAFF_PIN) -> httpx.AsyncClient:
        """A client holding a staff login session (the account is created on first use)."""
        exists = self.services.store.query("SELECT 1 FROM staff WHERE staff_no = ?", (staff_no,))
        if not exists:
            add_staff(self.services.store, staff_no, f"Staff {staff_no}", pin)
        r = await self.kiosk.post("/api/v1/staff/login", json={"staff_no": staff_no, "pin": pin})
        assert r.status_code == 200, r.text
        return self.client(token=r.json()["token"])

    def phone(self, typed: str) -> str:
        self.typed_phones.add(typed)
        return typed

    async def register(self, phone: str, pin: str = PIN, kind: str = "resident") -> dict:
        staff = await self.staff()
        r = await staff.post(
            "/api/v1/members", json={"phone": self.phone(phone), "pin": pin, "kind": kind}
        )
        assert r.status_code == 201, r.text
        return r.json()

    async def identify(self, phone: str, pin: str = PIN) -> str:
        r = await self.kiosk.post(
            "/api/v1/members/identify", json={"phone": self.phone(phone), "pin": pin}
        )
        assert r.status_code == 200, r.text
        return r.json()["session"]

    async def add_tool(self, tool_id: str, locker: str, **fields: Any) -> dict:
        staff = await self.staff()
        body = {
            "id": tool_id,
            "name_zh": "电钻",
            "name_en": f"Drill {tool_id}",
            "category": "power",
            "loan_period": 2,
            "loan_unit": "days",
            "locker": locker,
            **fields,
        }
        r = await staff.post("/api/v1/tools", json=body)
        assert r.status_code == 201, r.text
        r = await staff.post(f"/api/v1/tools/{tool_id}/restock", json={"note": "stocked"})
        assert r.status_code == 200, r.text
        return r.json()

    # --- flows and doors ----------------------------------------------------------------------

    async def follow(
        self,
        flow_id: str,
        until: Callable[[dict], bool] | set[str],
        within: float = 15.0,
        key: str | None = None,
    ) -> dict:
        """Poll a flow (long-polling the way a screen would) until `until` holds; `key` (the
        POST's capability) brings the secret result, as the screen that started it gets it."""
        check = until if callable(until) else (lambda f: f["state"] in until)
        headers = {"X-Flow-Key": key} if key else {}
        async with asyncio.timeout(within):
            state = None
            while True:
                params = {"wait": 5, "state": state} if state else {}
                r = await self.kiosk.get(f"/api/v1/flows/{flow_id}", params=params, headers=headers)
                assert r.status_code == 200, r.text
                flow = r.json()
                if check(flow):
                    return flow
                state = flow["state"]

    def close(self, locker: str) -> None:
        self.sim.close_door(channel(locker))

    async def finish(self, flow: dict, final: set[str] | None = None) -> dict:
        """Wait for the door to open, close it, and wait for the flow to end."""
        key = flow.get("key")
        opened = await self.follow(flow["id"], {"open", "cancelled", "failed"}, key=key)
        if opened["state"] != "open":
            return opened
        self.close(flow["locker"])
        done = await self.follow(flow["id"], final or {"completed", "awaiting_answer"}, key=key)
        return {**done, "key": key}

    async def sweep(self, advance_s: float = 0.0) -> None:
        """Move the fake clock and run the services' housekeeping once."""
        if advance_s:
            assert self.clock is not None, "this station runs on the system clock"
            self.clock.advance(advance_s)
        await self.services.sweep()

    async def events(self, *types: str) -> list[dict]:
        rows = await self.services.store.aquery(
            "SELECT * FROM events ORDER BY seq"
            if not types
            else f"SELECT * FROM events WHERE type IN ({','.join('?' * len(types))}) ORDER BY seq",
            types,
        )
        return rows

    # --- the privacy check -------------------------------------------------------------------

    def leaked_phones(self) -> list[str]:
        """Phone numbers (as typed or as 11 digits) and card numbers found in responses or the
        database files."""
        needles = {p for p in PHONES} | self.typed_phones | set(CARDS)
        needles |= {"".join(ch for ch in p if ch.isdigit())[-11:] for p in self.typed_phones}
        haystack = "\n".join(self.transcript)
        data_dir = self.station.config.station.data_dir
        blobs = [f.read_bytes() for f in data_dir.glob("station.db*") if f.is_file()]
        found = []
        for needle in needles:
            if needle in haystack or any(needle.encode() in blob for blob in blobs):
                found.append(needle)
        return found

    async def close_clients(self) -> None:
        for client in self._clients:
            await client.aclose()


def channel(locker: str) -> int:
    return int(locker[1:])


@contextlib.asynccontextmanager
async def start_harness(data: dict[str, Any], *, fake_clock: bool = True) -> AsyncIterator[Harness]:
    clock = FakeClock(wall=START) if fake_clock else None
    async with running_station(data, clock=clock) as station:
        harness = Harness(station=station, clock=clock)
        try:
            yield harness
        finally:
            await harness.close_clients()
    leaked = harness.leaked_phones()
    assert not leaked, f"phone or card numbers leaked into responses or the database: {leaked}"


@pytest.fixture
def sim_station_factory(tmp_path: Path):
    """Build a harness with changed settings: `async with sim_station_factory(fake_clock=False,
    people={...}, services={...}, timeouts={...}) as h:`."""

    def factory(
        *, fake_clock: bool = True, timeouts: dict | None = None, **sections: dict
    ) -> contextlib.AbstractAsyncContextManager[Harness]:
        data = services_config(tmp_path, **(timeouts or {}))
        for name, values in sections.items():
            data[name] = {**data.get(name, {}), **values}
        return start_harness(data, fake_clock=fake_clock)

    return factory


@pytest.fixture
async def sim_station(tmp_path: Path) -> AsyncIterator[Harness]:
    """The daemon on a simulated 16-door station with a fake clock, started and serving."""
    async with start_harness(services_config(tmp_path)) as harness:
        yield harness
