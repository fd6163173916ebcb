"""Door latency: from the API call to the door reported `open`, against the bytes' wire time.

Runs the real daemon on a simulated `cu` board whose answers take their real wire time at the
configured baud, opens doors over HTTP 200 times, and times each from the POST until the live
stream (what the touchscreen sees) reports `door_opened`. The software's own share is what is
left after the wire time of the frames involved (an unlock wakes its board's poll at once).

    python bench/door_latency.py [--opens 200] [--baud 9600] [--poll-ms 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drivers.lockboard import cu
from tests.simstation import TOKENS, running_station, sim_config_data


def wire_ms(baud: int) -> float:
    """Unlock command + its answer, then one status poll and its answer, 10 bits a byte."""
    frames = cu.COMMAND_LENGTH + cu.UNLOCK_ANSWER_LENGTH + cu.COMMAND_LENGTH
    frames += cu.STATUS_ANSWER_LENGTH
    return frames * 10 / baud * 1000


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def measure(opens: int, baud: int, poll_ms: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        data = sim_config_data(Path(tmp), poll_ms=poll_ms, answer_ms=1000, quiet_ms=20)
        data["boards"][0].update(baud=baud, sim_wire_time=True)
        async with running_station(data) as st, st.client("staff") as c:
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
    return {
        "median": statistics.median(samples),
        "p99": pct(samples, 99),
        "min": min(samples),
        "max": max(samples),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--opens", type=int, default=200)
    ap.add_argument("--baud", type=int, default=9600)
    ap.add_argument("--poll-ms", type=int, default=100)
    args = ap.parse_args()
    r = asyncio.run(measure(args.opens, args.baud, args.poll_ms))
    wire = wire_ms(args.baud)
    own = r["median"] - wire
    print(f"door latency over {args.opens} opens ({args.baud} baud, poll every {args.poll_ms} ms)")
    print(
        f"  API call to door_opened on the live stream: median {r['median']:.1f} ms, "
        f"p99 {r['p99']:.1f} ms (min {r['min']:.1f}, max {r['max']:.1f})"
    )
    print(f"  wire time of the frames (unlock + answer + status + answer): {wire:.1f} ms")
    print(
        f"  software's own share of the median: {own:.1f} ms "
        f"({own / r['median'] * 100:.0f}% of the total; an unlock wakes its board's poll)"
    )


if __name__ == "__main__":
    main()
