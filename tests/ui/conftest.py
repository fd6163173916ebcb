"""A real daemon on a simulated 16-door station, stocked for the touchscreen's flows.

Lockers (from deploy/station.example.toml): A01-A10 tools, A11-A13 lost and found,
A14-A16 storage (size S). Simulated doors stay open until a test shuts them (`sim.close_door`),
the way a person would after taking a tool.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.simstation import SimStation, running_station, sim_config_data
from tests.ui.kiosk import (
    MEMBER_PHONE,
    MEMBER_PIN,
    OTHER_PHONE,
    STAFF_NO,
    STAFF_PIN,
    FakeMonotonic,
    Kiosk,
    api_post,
    build_app,
)

PHONE_HASH_KEY = "ui-tests-phone-hash-key-0123456789abcdef"
TOOLS = [
    # id, zh, en, locker, approval
    ("T-DRILL-1", "电钻", "Drill", "A03", False),
    ("T-LADDER-1", "梯子", "Ladder", "A01", False),
    ("T-SAW-1", "电锯", "Chainsaw", "A02", True),
]
SUPPLIES = {"water": 30, "huoxiang": 3, "balm": 0, "wipes": 12}


def station_data(tmp_path: Path, **timeouts: Any) -> dict[str, Any]:
    data = sim_config_data(tmp_path, open_window_s=2.0, **timeouts)
    data["people"] = {"phone_hash_key": PHONE_HASH_KEY}
    return data


async def stock(st: SimStation) -> None:
    """Staff, two members, three tools in lockers, counted supplies: through the API."""
    await api_post(st, "/api/v1/staff", {"staff_no": STAFF_NO, "name": "王师傅", "pin": STAFF_PIN})
    for phone in (MEMBER_PHONE, OTHER_PHONE):
        await api_post(st, "/api/v1/members", {"phone": phone, "pin": MEMBER_PIN})
    for tool_id, zh, en, locker, approval in TOOLS:
        await api_post(
            st,
            "/api/v1/tools",
            {
                "id": tool_id,
                "name_zh": zh,
                "name_en": en,
                "category": "power",
                "condition": "good",
                "accessories": ["充电器"],
                "safety_notice": "请戴护目镜",
                "loan_period": 2,
                "loan_unit": "days",
                "staff_approval_required": approval,
                "locker": locker,
            },
        )
        await api_post(st, f"/api/v1/tools/{tool_id}/restock", {"note": "stocked for tests"})
    for supply, count in SUPPLIES.items():
        await api_post(st, f"/api/v1/supplies/{supply}/count", {"count": count})


@pytest.fixture
async def station(tmp_path: Path) -> AsyncIterator[SimStation]:
    async with running_station(station_data(tmp_path)) as st:
        await stock(st)
        yield st


@pytest.fixture
def idle_clock() -> FakeMonotonic:
    return FakeMonotonic()


@pytest.fixture
async def kiosk(station: SimStation, idle_clock: FakeMonotonic) -> AsyncIterator[Kiosk]:
    """The touchscreen at 100x30, connected and showing Home."""
    app = build_app(station, monotonic=idle_clock)
    async with app.run_test(size=(100, 30)) as pilot:
        k = Kiosk(app, pilot, station)
        await k.home()
        yield k
