"""A stocked simulated station in a process of its own, for the snapshot tests.

pytest-textual-snapshot runs the app with an event loop of its own and waits, between steps,
for this process to go idle; a daemon polling its boards in the same process would keep it
busy. So the daemon runs here, in a child process, and the app reaches it over HTTP exactly as
on a station. It prints `READY <url>` and stops when its standard input closes; `start()` runs
one and waits for that line (the snapshot tests, the web mode in Chromium, the screenshots).

Besides the pilot tests' stock it has one tool and one member per snapshot variant, so the
variants of a screen can share a station and still each see the same thing in any order.

    python -m tests.ui.station_proc DIRECTORY
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from station.config import StationConfig, parse_config
from tests.simstation import SimStation, running_station
from tests.ui.conftest import station_data, stock
from tests.ui.kiosk import MEMBER_PIN, api_post

EXTRA_TOOLS = [
    ("T-HAMMER-1", "锤子", "Hammer", "A04"),
    ("T-WRENCH-1", "扳手", "Wrench", "A05"),
    ("T-PLIERS-1", "钳子", "Pliers", "A06"),
]
EXTRA_PHONES = [f"1370000000{n}" for n in range(1, 9)]
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class RemoteStation:
    """The station in a child process, as far as an app reaching it needs to know."""

    url: str
    config: StationConfig
    proc: subprocess.Popen[str]

    def stop(self) -> None:
        # The station is thrown away: no need to wait for its graceful shutdown.
        self.proc.kill()
        self.proc.wait()


def start(directory: Path) -> RemoteStation:
    """Start a stocked station whose data lives in `directory`; returns once it answers."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.ui.station_proc", str(directory)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("READY "):
        proc.kill()
        raise AssertionError(f"the station process said {line!r}")
    config = parse_config(station_data(directory), "station process")
    return RemoteStation(line.split()[1], config, proc)


async def stock_more(st: SimStation) -> None:
    for tool_id, zh, en, locker in EXTRA_TOOLS:
        body = {
            "id": tool_id,
            "name_zh": zh,
            "name_en": en,
            "category": "hand",
            "condition": "good",
            "accessories": [],
            "safety_notice": "",
            "loan_period": 1,
            "loan_unit": "days",
            "locker": locker,
        }
        await api_post(st, "/api/v1/tools", body)
        await api_post(st, f"/api/v1/tools/{tool_id}/restock", {"note": "stocked for tests"})
    for phone in EXTRA_PHONES:
        await api_post(st, "/api/v1/members", {"phone": phone, "pin": MEMBER_PIN})


async def serve(directory: Path) -> None:
    async with running_station(station_data(directory)) as st:
        await stock(st)
        await stock_more(st)
        print(f"READY {st.url}", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    asyncio.run(serve(Path(sys.argv[1])))
