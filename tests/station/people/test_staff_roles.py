"""The staff role decides one thing at the maintenance screen: only an admin adds staff.

The technician's first account (`station staff add`, root on the Pi) is an admin; accounts
added at the screen are `staff` unless an admin says otherwise; the office's bundle sets each
account's role. A staff token from the config (the technician's own) may add staff too.
"""

from __future__ import annotations

import json

from tests.station.conftest import STAFF_NO, Harness


async def test_only_an_admin_adds_staff_accounts(sim_station: Harness) -> None:
    admin = await sim_station.staff()  # made by `station staff add`: an admin
    r = await admin.post("/api/v1/staff", json={"staff_no": "S002", "name": "Li", "pin": "590316"})
    assert r.status_code == 201 and r.json()["role"] == "staff"
    restocker = await sim_station.staff("S002", "590316")

    refused = await restocker.post(
        "/api/v1/staff", json={"staff_no": "S003", "name": "Xu", "pin": "590317"}
    )
    second_admin = await admin.post(
        "/api/v1/staff",
        json={"staff_no": "S004", "name": "Ma", "pin": "590318", "role": "admin"},
    )
    by_second = await (await sim_station.staff("S004", "590318")).post(
        "/api/v1/staff", json={"staff_no": "S005", "name": "Hu", "pin": "590319"}
    )
    by_token = await sim_station.client(role="staff").post(
        "/api/v1/staff", json={"staff_no": "S006", "name": "Wu", "pin": "590320"}
    )

    assert refused.status_code == 403 and refused.json()["code"] == "admin_only"
    assert second_admin.status_code == 201 and second_admin.json()["role"] == "admin"
    assert by_second.status_code == 201
    assert by_token.status_code == 201
    added = await sim_station.events("staff_added")
    payloads = [json.loads(e["payload"]) for e in added]
    assert [(p["staff_no"], p["role"]) for p in payloads] == [
        (STAFF_NO, "admin"),
        ("S002", "staff"),
        ("S004", "admin"),
        ("S005", "staff"),
        ("S006", "staff"),
    ]
