"""The whole bundle applied through the real sync path: the tool catalogue (new tools, locker
assignments, status changes that need no door), members' max_loans and staff roles; what the
station refused is listed item by item in `bundle_applied`."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher

from central.app import create_app
from central.auth import new_token, token_hash
from central.bundles import bundle_body
from central.server import BackgroundServer
from central.storage.sqlite import SQLiteStorage
from station.people.phone import phone_hash
from tests.simstation import SimStation, running_station
from tests.station.conftest import PHONE_KEY, services_config
from wire.bundle import parse_bundle

HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PHONE = "13912340042"


def _bundle(tools: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "tools": tools,
        "members": [
            {
                "id": "m-0042",
                "phone_hash": phone_hash(PHONE_KEY, PHONE),
                "phone_last4": "0042",
                "pin_hash": HASHER.hash("924615"),
                "max_loans": 1,
            }
        ],
        "staff": [
            {
                "staff_no": "C007",
                "name": "李师傅",
                "pin_hash": HASHER.hash("735128"),
                "role": "admin",
            }
        ],
    }


def _applied(st: SimStation) -> list[dict[str, Any]]:
    assert st.daemon.station is not None
    events = st.daemon.station.store.events_after(0, limit=100_000)
    return [e.payload for e in events if e.type == "bundle_applied"]


async def _wait_version(st: SimStation, n: int) -> dict[str, Any]:
    await st.wait_for(lambda: len(_applied(st)) >= n, 20)
    return _applied(st)[n - 1]


def _tool(st: SimStation, tool_id: str) -> dict[str, Any]:
    assert st.daemon.station is not None
    return st.daemon.station.store.query("SELECT * FROM tools WHERE id = ?", (tool_id,))[0]


async def test_catalogue_limits_and_roles_from_the_bundle(tmp_path: Path) -> None:
    storage = SQLiteStorage(tmp_path / "central.db")
    token = new_token()
    storage.add_station("TEST-0001", "test station", token_hash(token), time.time())
    publish: Callable[[dict[str, Any]], int] = lambda doc: storage.publish_bundle(  # noqa: E731
        *bundle_body(parse_bundle(doc)), [], time.time()
    )
    publish(
        _bundle(
            [
                {
                    "id": "drill-1",
                    "name": "电钻",
                    "name_en": "Drill",
                    "loan_days": 3,
                    "locker": "A01",
                },
                {"id": "saw-1", "name": "锯", "locker": "A01"},  # A01 is the drill's
                {"id": "lamp-1", "name": "灯", "locker": "A11"},  # a lost-and-found locker
                {"id": "ladder-1", "name": "梯子"},
            ]
        )
    )
    with BackgroundServer(create_app(storage)) as server:
        data = services_config(tmp_path)
        data["sync"] = {"url": server.url, "token": token, "interval_s": 0.2}
        data["sync"]["bundle_interval_s"] = 0.2
        async with running_station(data) as st:
            assert st.daemon.station is not None
            store = st.daemon.station.store
            first = await _wait_version(st, 1)
            drill = _tool(st, "drill-1")
            member = store.query("SELECT max_loans FROM members")[0]
            staff = store.query("SELECT role FROM staff WHERE staff_no = 'C007'")[0]

            # Staff stock the drill at the station (its door opened and shut by hand).
            await store.write(
                lambda tx: tx.conn.execute(
                    "UPDATE tools SET status = 'available', status_reason = NULL"
                    " WHERE id = 'drill-1'"
                )
            )
            publish(
                _bundle(
                    [
                        {"id": "drill-1", "name": "电钻", "loan_days": 5, "locker": "A02"},
                        {"id": "ladder-1", "name": "梯子", "status": "retired"},
                    ]
                )
            )
            second = await _wait_version(st, 2)
            drill_after = _tool(st, "drill-1")
            ladder = _tool(st, "ladder-1")
            services = st.daemon.station.services
            got = await services.members.get(phone_hash(PHONE_KEY, PHONE))
    storage.close()

    assert drill["locker"] == "A01" and drill["loan_period"] == 3
    assert drill["status"] == "maintenance"  # new: staff stock it first
    assert first["applied"]["tools"] == {"added": 2, "updated": 0, "unchanged": 0}
    refused = {r["id"]: r["reason"] for r in first["refused"]}
    assert set(refused) == {"saw-1", "lamp-1"}
    assert "already holds tool drill-1" in refused["saw-1"]
    assert "not for tools" in refused["lamp-1"]
    assert member["max_loans"] == 1 and got.max_loans == 1
    assert staff["role"] == "admin"

    # The drill is in A01: moving it needs hands, so the whole item waits; the ladder (in no
    # locker, not lent) is retired.
    assert [r["id"] for r in second["refused"]] == ["drill-1"]
    assert "needs staff at the station" in second["refused"][0]["reason"]
    assert drill_after["locker"] == "A01" and drill_after["loan_period"] == 3
    assert ladder["status"] == "retired"
    assert second["applied"]["tools"]["updated"] == 1
