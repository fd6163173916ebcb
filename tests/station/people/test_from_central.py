"""Members and staff from central's bundle: applied through the real sync path to a running
daemon, then used at the kiosk with the PINs central hashed."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher

from central.app import create_app
from central.auth import new_token, token_hash
from central.bundles import bundle_body
from central.server import BackgroundServer
from central.storage.sqlite import SQLiteStorage
from station.people.phone import phone_hash
from tests.simstation import running_station
from tests.station.conftest import PHONE_KEY, services_config
from wire.bundle import parse_bundle

HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PHONE = "13912340042"


def _people(*, member_active: bool = True, with_staff: bool = True) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "members": [
            {
                "id": "m-0042",
                "phone_hash": phone_hash(PHONE_KEY, PHONE),
                "phone_last4": "0042",
                "pin_hash": HASHER.hash("924615"),
                "active": member_active,
            }
        ],
        "staff": [],
    }
    if with_staff:
        doc["staff"] = [{"staff_no": "C007", "name": "李师傅", "pin_hash": HASHER.hash("735128")}]
    return doc


async def test_accounts_from_central_work_and_are_switched_off_when_dropped(
    tmp_path: Path,
) -> None:
    storage = SQLiteStorage(tmp_path / "central.db")
    token = new_token()
    storage.add_station("TEST-0001", "test station", token_hash(token), time.time())

    def publish(document: dict[str, Any]) -> None:
        body, digest = bundle_body(parse_bundle(document))
        storage.publish_bundle(body, digest, [], time.time())

    publish(_people())
    with BackgroundServer(create_app(storage)) as server:
        data = services_config(tmp_path)
        data["sync"] = {"url": server.url, "token": token, "interval_s": 0.2}
        data["sync"]["bundle_interval_s"] = 0.2
        async with running_station(data) as st, st.client("kiosk") as kiosk:
            sync = st.daemon.station.sync
            await st.wait_for(lambda: sync.current_bundle() is not None, 20)

            r = await kiosk.post("/api/v1/staff/login", json={"staff_no": "C007", "pin": "735128"})
            assert r.status_code == 200, r.text
            r = await kiosk.post("/api/v1/members/identify", json={"phone": PHONE, "pin": "924615"})
            assert r.status_code == 200, r.text
            assert r.json()["member"]["masked"].endswith("0042")

            publish(_people(member_active=False, with_staff=False))
            version = (
                sync.current_bundle_version() if hasattr(sync, "current_bundle_version") else None
            )
            del version
            await st.wait_for(
                lambda: (
                    st.daemon.station.store.query(
                        "SELECT active FROM staff WHERE staff_no = 'C007'"
                    )[0]["active"]
                    == 0
                ),
                20,
            )
            r = await kiosk.post("/api/v1/staff/login", json={"staff_no": "C007", "pin": "735128"})
            assert r.status_code == 403 and r.json()["code"] == "wrong_pin", r.text
            r = await kiosk.post("/api/v1/members/identify", json={"phone": PHONE, "pin": "924615"})
            assert r.status_code == 403 and r.json()["code"] == "member_suspended", r.text
            logged = st.daemon.station.store.query(
                "SELECT payload FROM events WHERE type = 'people_from_central' ORDER BY seq"
            )
    storage.close()
    assert len(logged) == 2
    assert phone_hash(PHONE_KEY, PHONE) not in str(logged)  # counts only, never a hash
