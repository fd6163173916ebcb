"""Door latency per protocol and answer shape: from the API call to the door reported `open`.

Runs the real daemon on one simulated board per case (cu answering unlocks with its status
frame, with an acknowledgement, with nothing, or late; dip8; Modbus RTU by coil pulse and by
the board's own pulse function), whose answers take their real wire time at the case's baud.
It opens doors over HTTP and times each from the POST until the live stream (what the
touchscreen sees) reports `door_opened`, and prints that beside the wire time of the frames
the opening needs (an unlock wakes its board's status read at once).

    python bench/door_latency.py [--opens 40] [--poll-ms 100] [--case cu-none ...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drivers.lockboard import cu, dip8
from drivers.lockboard.spec import wire_time_s
from tests.simstation import TOKENS, running_station, sim_config_data

MODBUS_WRITE = 8  # slave, function, address, value, CRC; the echo is the same length
MODBUS_READ = 8
MODBUS_BITS_ANSWER = 5 + 2  # slave, function, byte count, 2 bytes of 16 inputs, CRC


@dataclass(frozen=True)
class Case:
    name: str
    board: dict[str, Any]
    wire_bytes: int
    """Bytes on the wire between the POST and the reading that shows the door open."""
    late_s: float = 0.0
    """The unlock's answer comes this late (the "late" shape)."""
    note: str = ""


STATUS = cu.COMMAND_LENGTH + cu.STATUS_ANSWER_LENGTH
CASES = [
    Case(
        "cu-status",
        {"sim_protocol": "cu", "baud": 19200, "sim_unlock_answer": "status"},
        cu.COMMAND_LENGTH + cu.STATUS_ANSWER_LENGTH,
        note="the unlock's answer is the reading",
    ),
    Case(
        "cu-ack",
        {"sim_protocol": "cu", "baud": 19200, "sim_unlock_answer": "ack"},
        cu.COMMAND_LENGTH + cu.UNLOCK_ANSWER_LENGTH + STATUS,
    ),
    Case(
        "cu-none",
        {"sim_protocol": "cu", "baud": 19200, "sim_unlock_answer": "none", "unlock_answer": "none"},
        cu.COMMAND_LENGTH + STATUS,
        note="configured none: no wait at all",
    ),
    Case(
        "cu-none-auto",
        {"sim_protocol": "cu", "baud": 19200, "sim_unlock_answer": "none"},
        cu.COMMAND_LENGTH + STATUS,
        note="learnt after 2 unlocks",
    ),
    Case(
        "cu-late",
        {"sim_protocol": "cu", "baud": 19200, "sim_unlock_answer": "ack"},
        cu.COMMAND_LENGTH + STATUS,
        late_s=0.3,
        note="ack 300 ms late: unlock_wait_ms then the read",
    ),
    Case(
        "dip8",
        {"sim_protocol": "dip8", "baud": 9600},
        2 * dip8.COMMAND_LENGTH + dip8.UNLOCK_ANSWER_LENGTH + 4 + 2,
    ),
    Case(
        "modbus-coil",
        {"sim_protocol": "modbus", "baud": 9600, "address": 1, "modbus_unlock": "coil"},
        2 * MODBUS_WRITE + MODBUS_READ + MODBUS_BITS_ANSWER,
        note="the door is read during the pulse",
    ),
    Case(
        "modbus-flash",
        {"sim_protocol": "modbus", "baud": 9600, "address": 1, "modbus_unlock": "flash"},
        2 * MODBUS_WRITE + MODBUS_READ + MODBUS_BITS_ANSWER,
    ),
]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def measure(case: Case, opens: int, poll_ms: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        data = sim_config_data(Path(tmp), poll_ms=poll_ms, quiet_ms=20)
        data["timeouts"].pop("answer_ms", None)  # each protocol's own default
        data["boards"][0].update(sim_wire_time=True, **case.board)
        async with running_station(data) as st, st.client("staff") as c:
            if case.late_s:
                st.sim.set_unlock_answer("ack", delay_s=case.late_s)
            url = st.url.replace("http://", "ws://") + f"/api/v1/stream?token={TOKENS['staff']}"
            lockers = [f"A{i:02d}" for i in range(1, 17)]
            samples: list[float] = []
            async with websockets.connect(url, max_size=None) as ws:
                await ws.recv()
                for n in range(opens):
                    locker = lockers[n % len(lockers)]
                    t0 = time.perf_counter()
                    r = await c.post(f"/api/v1/lockers/{locker}/open", json={"reason": "bench"})
                    r.raise_for_status()
                    while True:
                        msg = json.loads(await ws.recv())
                        ev = msg.get("event") or {}
                        if ev.get("type") == "door_opened" and ev.get("locker") == locker:
                            break
                    samples.append((time.perf_counter() - t0) * 1000)
                    st.sim.close_door(int(locker[1:]))
                    await st.daemon.station.lockers.wait_door(locker, "closed", within=5)
                    await asyncio.sleep(case.late_s)  # a late answer lands before the next
    return {
        "median": statistics.median(samples),
        "p99": pct(samples, 99),
        "min": min(samples),
        "max": max(samples),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--opens", type=int, default=40, help="door openings per case")
    ap.add_argument("--poll-ms", type=int, default=100)
    ap.add_argument("--case", action="append", choices=[c.name for c in CASES])
    args = ap.parse_args()
    cases = [c for c in CASES if not args.case or c.name in args.case]
    print(
        f"POST to door_opened on the live stream, {args.opens} opens a case, poll {args.poll_ms} ms"
    )
    print(f"{'case':14} {'baud':>6} {'wire ms':>8} {'median':>8} {'p99':>8} {'max':>8}  note")
    for case in cases:
        r = asyncio.run(measure(case, args.opens, args.poll_ms))
        baud = int(case.board["baud"])
        wire = wire_time_s(case.wire_bytes, baud) * 1000
        print(
            f"{case.name:14} {baud:>6} {wire:>8.1f} {r['median']:>8.1f} {r['p99']:>8.1f} "
            f"{r['max']:>8.1f}  {case.note}"
        )


if __name__ == "__main__":
    main()
