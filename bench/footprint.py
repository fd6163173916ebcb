"""Footprint: daemon and UI memory and start-up time, against a bare Python and a bare Textual app.

The daemon is `station run --config` in a process of its own on a simulated 16-door board, as
systemd starts it: start-up time runs from spawning it to its `READY=1` on NOTIFY_SOCKET, beside
spawning `python -c pass`; resident memory (VmRSS) is read after READY and again after
`--ops` API operations (one in ten a door opening, the doors closing by themselves). The UI is
the touchscreen app (ui.app.StationApp, headless) in a process of its own against that daemon:
time to its Home screen and its RSS, beside a bare Textual app showing one line.
A Raspberry Pi Zero 2 W has 512 MB; the daemon's budget here is 80 MB.

    python bench/footprint.py [--ops 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import tomli_w

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.simstation import TOKENS, sim_config_data  # noqa: E402

PI_ZERO_MB = 512
DAEMON_BUDGET_MB = 80

UI_CHILD = """
import asyncio, sys, time
t0 = float(sys.argv[3])  # the UI process alone: no test code, no daemon imported here
from ui.app import StationApp, StationInfo
from ui.client import LiveStream, StationClient
from ui.settings import UiConfig
url, kiosk_token = sys.argv[1], sys.argv[2]
async def main():
    info = StationInfo(name_zh="站", name_en="Station", help_phone="0755-12345678",
                       locker_ids=tuple(f"A{i:02d}" for i in range(1, 17)))
    app = StationApp(StationClient(url, kiosk_token), LiveStream(url, kiosk_token),
                     UiConfig(), info)
    async with app.run_test(size=(100, 30)) as pilot:
        while type(app.screen).__name__ != "HomeScreen":
            await asyncio.sleep(0.005)
        await pilot.pause()
        first = time.time() - t0
        rss = open("/proc/self/status").read().split("VmRSS:")[1].split()[0]
        print(f"SCREEN {first} {rss}", flush=True)
asyncio.run(main())
"""

BARE_TEXTUAL_CHILD = """
import asyncio, sys, time
t0 = float(sys.argv[1])
from textual.app import App
from textual.widgets import Static
class Bare(App):
    def compose(self):
        yield Static("hello")
async def main():
    app = Bare()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        first = time.time() - t0
        rss = open("/proc/self/status").read().split("VmRSS:")[1].split()[0]
        print(f"SCREEN {first} {rss}", flush=True)
asyncio.run(main())
"""


BARE_API_CHILD = """
import sys
from fastapi import FastAPI
import uvicorn
app = FastAPI()
@app.get("/healthz")
async def healthz():
    return {"ok": True}
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""
"""The floor for the daemon's start and memory: FastAPI on uvicorn serving one route, the
least a station API could be built on (what the daemon adds is its own code and libraries)."""


def bare_api() -> tuple[float, float]:
    """(seconds from spawn to the first answer, RSS MB after it) of a bare FastAPI app."""
    port = free_port()
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", BARE_API_CHILD, str(port)], cwd=ROOT)
    try:
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).raise_for_status()
                break
            except httpx.TransportError:
                if proc.poll() is not None:
                    raise RuntimeError("the bare FastAPI app exited") from None
                time.sleep(0.01)
        return time.perf_counter() - t, rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bare_python_s(repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2]


def child_screen(code: str, *args: str) -> tuple[float, float]:
    """(seconds from spawn to first screen, RSS MB) of a UI child process."""
    t0 = time.time()
    out = subprocess.run(
        [sys.executable, "-c", code, *args, str(t0)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    for line in out.stdout.splitlines():
        if line.startswith("SCREEN "):
            _, seconds, rss = line.split()
            return float(seconds), int(rss) / 1024
    raise RuntimeError(f"UI child gave no screen: {out.stderr[-2000:]}")


async def operate(url: str, ops: int) -> None:
    """ops API calls: every tenth opens a door (they close by themselves), the rest read."""
    headers = {"Authorization": f"Bearer {TOKENS['staff']}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as c:
        for n in range(ops):
            if n % 10 == 0:
                locker = f"A{n // 10 % 16 + 1:02d}"
                await c.post(f"/api/v1/lockers/{locker}/open", json={"reason": "bench"})
            elif n % 3 == 0:
                (await c.get("/api/v1/events", params={"limit": 50})).raise_for_status()
            else:
                (await c.get("/api/v1/lockers")).raise_for_status()


def measure(ops: int = 10_000) -> dict[str, float]:
    out: dict[str, float] = {"bare_python_s": bare_python_s()}
    out["bare_api_s"], out["bare_api_rss"] = bare_api()
    with tempfile.TemporaryDirectory(prefix="bench-footprint-") as tmp:
        data = sim_config_data(Path(tmp))
        port = free_port()
        data["api"]["port"] = port
        data["boards"][0]["sim_auto_close_s"] = 0.2
        config = Path(tmp) / "station.toml"
        config.write_text(tomli_w.dumps(data))
        notify = str(Path(tmp) / "notify.sock")
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.bind(notify)
            sock.settimeout(60)
            env = dict(os.environ, NOTIFY_SOCKET=notify)
            t = time.perf_counter()
            proc = subprocess.Popen(
                [sys.executable, "-m", "launcher.main", "run", "--config", str(config)],
                env=env,
                cwd=ROOT,
                stderr=subprocess.DEVNULL,
            )
            try:
                while not sock.recv(256).decode().startswith("READY=1"):
                    pass
                out["daemon_ready_s"] = time.perf_counter() - t
                out["daemon_rss_start"] = rss_mb(proc.pid)
                url = f"http://127.0.0.1:{port}"
                t = time.perf_counter()
                asyncio.run(operate(url, ops))
                out["ops_s"] = time.perf_counter() - t
                out["daemon_rss_ops"] = rss_mb(proc.pid)
                out["ui_screen_s"], out["ui_rss"] = child_screen(UI_CHILD, url, TOKENS["kiosk"])
                out["bare_textual_s"], out["bare_textual_rss"] = child_screen(BARE_TEXTUAL_CHILD)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ops", type=int, default=10_000)
    args = ap.parse_args()
    r = measure(args.ops)
    print("footprint")
    print(
        f"  daemon start to READY {r['daemon_ready_s']:.2f} s; bare `python -c pass` "
        f"{r['bare_python_s']:.3f} s (ratio {r['daemon_ready_s'] / r['bare_python_s']:.0f}x)"
    )
    print(
        f"  daemon RSS after start {r['daemon_rss_start']:.1f} MB, after {args.ops} operations "
        f"({r['ops_s']:.1f} s) {r['daemon_rss_ops']:.1f} MB; budget {DAEMON_BUDGET_MB} MB = "
        f"{r['daemon_rss_ops'] / DAEMON_BUDGET_MB:.0%} of it, "
        f"{r['daemon_rss_ops'] / PI_ZERO_MB:.0%} of a Pi Zero 2 W's {PI_ZERO_MB} MB"
    )
    print(
        f"  UI to first screen {r['ui_screen_s']:.2f} s, RSS {r['ui_rss']:.1f} MB; bare Textual "
        f"{r['bare_textual_s']:.2f} s, {r['bare_textual_rss']:.1f} MB"
    )


if __name__ == "__main__":
    main()
