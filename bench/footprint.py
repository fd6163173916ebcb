"""Footprint: daemon and UI memory and start-up time, against a bare Python and a bare Textual app.

The daemon is `station run --config` in a process of its own on a 16-door cu board at 19200
baud, which is the simulator in another process (`python -m drivers.sim` on a pty, so the
daemon loads what it loads on a station: the real serial driver, no simulator), as systemd
starts it: start-up time runs from spawning it to its `READY=1` on NOTIFY_SOCKET, beside
spawning `python -c pass`; resident memory (VmRSS) is read after READY and again after
`--ops` API operations (one in ten a door opening, the doors closing by themselves). The UI is
the touchscreen app (ui.app.StationApp, headless) in a process of its own against that daemon:
time to its Home screen and its RSS, beside a bare Textual app showing one line.
A Raspberry Pi Zero 2 W has 512 MB; the daemon's target (issue 21) is 55 MB.

The project's own modules are compiled to bytecode first, as `pip install` does on a station
(deploy/install.sh, `station update`): the floor's libraries were compiled when pip installed
them, and a development checkout (an editable install, often with PYTHONDONTWRITEBYTECODE set,
as the station's unit sets it) would otherwise compile the daemon's and the UI's modules from
source at every start, which no station does.

    python bench/footprint.py [--ops 10000] [--starts 5]
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import os
import socket
import statistics
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

from bench.door_latency import CASES, Sim  # noqa: E402
from tests.simstation import TOKENS, sim_config_data  # noqa: E402

PI_ZERO_MB = 512
DAEMON_BUDGET_MB = 55

UI_CHILD = """
import asyncio, sys, time
t0 = float(sys.argv[2])  # the UI process alone, loading what `station ui` loads: no test code
import launcher.main  # the console script's module, as the kiosk unit starts it
from ui.app import build_app
from ui.settings import read_kiosk_config
async def main():
    app = build_app(read_kiosk_config(sys.argv[1]))  # what ui.app.main builds
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

SHAPED_API_CHILD = """
import sys
from fastapi import APIRouter, FastAPI
from pydantic import create_model
import uvicorn
routes, bodies, responses = (int(n) for n in sys.argv[2:5])
router = APIRouter()
for i in range(routes):
    fields = dict(id=(str, ...), n=(int, 0), note=(str | None, None), items=(list[str], []))
    out = create_model(f"Out{i}", **fields) if i < responses else None
    if i < bodies:
        body_model = create_model(f"In{i}", reason=(str, ...), note=(str | None, None))
        async def handler(x: str, body: body_model): return {"id": x}
        router.post(f"/r{i}/{{x}}", response_model=out)(handler)
    else:
        async def handler(x: str): return {"id": x}
        router.get(f"/r{i}/{{x}}", response_model=out)(handler)
app = FastAPI()
app.include_router(router)
@app.get("/healthz")
async def healthz():
    return {"ok": True}
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""
"""A second floor: the bare app with as many routes, request bodies and response models as the
daemon's API (small synthetic models). FastAPI builds each route's validators when the route
is declared, so this is what the API's size costs on FastAPI before any station code runs;
the daemon's start over this floor is the station's own modules and its start-up work."""


def daemon_api_shape() -> tuple[int, int, int]:
    """(routes, routes with a request body, routes with a response model) of the daemon's API,
    counted from its routers."""
    from fastapi.routing import APIRoute

    import station.api.routes as package

    found: dict[int, APIRoute] = {}
    for name, module in list(sys.modules.items()):
        if name == package.__name__ or name.startswith(package.__name__ + "."):
            for value in vars(module).values():
                for route in getattr(value, "routes", ()):
                    if isinstance(route, APIRoute):
                        found[id(route)] = route
    every = list(found.values())
    return (
        len(every),
        sum(r.body_field is not None for r in every),
        sum(r.response_model is not None for r in every),
    )


PROJECT_PACKAGES = ("station", "drivers", "wire", "launcher", "ui")


def compile_like_an_install() -> None:
    """Bytecode for the project's packages where Python looks for it (`__pycache__`), as pip
    writes it when it installs the project; the files' stamps keep it honest after an edit."""
    for package in PROJECT_PACKAGES:
        if not compileall.compile_dir(ROOT / package, quiet=1):
            raise RuntimeError(f"{package}: a module does not compile")


def bare_api(code: str = BARE_API_CHILD, *args: str) -> tuple[float, float, float]:
    """(seconds from spawn to the first answer, its CPU seconds by then, RSS MB after it) of a
    bare FastAPI app (`code`, given its port and then `args`)."""
    port = free_port()
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, str(port), *args], cwd=ROOT)
    try:
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).raise_for_status()
                break
            except httpx.TransportError:
                if proc.poll() is not None:
                    raise RuntimeError("the bare FastAPI app exited") from None
                time.sleep(0.01)
        return time.perf_counter() - t, cpu_s(proc.pid), rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far: a start's own work, which the
    other load on a shared machine hardly changes (its wall time it does)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


def start_daemon(config: Path, notify: Path) -> tuple[float, float, subprocess.Popen[bytes]]:
    """`station run` as systemd starts it: (seconds from spawn to READY=1, its CPU seconds
    by then, the process)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(notify))
        sock.settimeout(60)
        env = dict(os.environ, NOTIFY_SOCKET=str(notify))
        t = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "launcher.main", "run", "--config", str(config)],
            env=env,
            cwd=ROOT,
            stderr=subprocess.DEVNULL,
        )
        while not sock.recv(256).decode().startswith("READY=1"):
            pass
        return time.perf_counter() - t, cpu_s(proc.pid), proc


def median(values: list[float]) -> float:
    return statistics.median(values)


def measure(ops: int = 10_000, starts: int = 5) -> dict[str, float]:
    """Each start is timed `starts` times, each beside its floor started right after it (the
    machine's load changes by the second here): the medians and their ratio are reported."""
    compile_like_an_install()
    out: dict[str, float] = {"bare_python_s": bare_python_s()}
    with tempfile.TemporaryDirectory(prefix="bench-footprint-") as tmp:
        sim = Sim(CASES[0], Path(tmp) / "board", auto_close_s=0.2)
        data = sim_config_data(Path(tmp))
        port = free_port()
        data["api"]["port"] = port
        board = data["boards"][0]
        data["boards"] = [
            {"id": board["id"], "protocol": "cu", "port": sim.path, "baud": 19200, "channels": 16}
        ]
        config = Path(tmp) / "station.toml"
        config.write_text(tomli_w.dumps(data))
        try:
            # The first start creates the database (every migration step, each committed
            # durably); every later boot finds it: the restart is what a station does daily.
            first, _, proc = start_daemon(config, Path(tmp) / "first.sock")
            proc.terminate()
            proc.wait(timeout=30)
            out["daemon_first_ready_s"] = first
            ready, bare, bare_rss, ready_cpu, bare_cpu = [], [], [], [], []
            shape = daemon_api_shape()
            shaped, shaped_cpu, shaped_rss = [], [], []
            for n in range(starts):
                seconds, cpu, proc = start_daemon(config, Path(tmp) / f"notify{n}.sock")
                ready.append(seconds)
                ready_cpu.append(cpu)
                if n < starts - 1:  # the last one stays up for the operations
                    proc.terminate()
                    proc.wait(timeout=30)
                api_s, api_cpu, api_rss = bare_api()
                bare.append(api_s)
                bare_cpu.append(api_cpu)
                bare_rss.append(api_rss)
                api_s, api_cpu, api_rss = bare_api(SHAPED_API_CHILD, *(str(n) for n in shape))
                shaped.append(api_s)
                shaped_cpu.append(api_cpu)
                shaped_rss.append(api_rss)
            out["daemon_ready_s"], out["bare_api_s"] = median(ready), median(bare)
            out["daemon_ready_ratio"] = median([r / b for r, b in zip(ready, bare, strict=True)])
            out["daemon_ready_cpu_s"], out["bare_api_cpu_s"] = median(ready_cpu), median(bare_cpu)
            out["daemon_ready_cpu_ratio"] = median(
                [r / b for r, b in zip(ready_cpu, bare_cpu, strict=True)]
            )
            out["bare_api_rss"] = median(bare_rss)
            out["api_routes"], out["api_bodies"], out["api_responses"] = shape
            out["shaped_api_s"], out["shaped_api_cpu_s"] = median(shaped), median(shaped_cpu)
            out["shaped_api_rss"] = median(shaped_rss)
            out["daemon_ready_shaped_ratio"] = median(
                [r / b for r, b in zip(ready, shaped, strict=True)]
            )
            out["daemon_ready_shaped_cpu_ratio"] = median(
                [r / b for r, b in zip(ready_cpu, shaped_cpu, strict=True)]
            )
            try:
                out["daemon_rss_start"] = rss_mb(proc.pid)
                url = f"http://127.0.0.1:{port}"
                t = time.perf_counter()
                asyncio.run(operate(url, ops))
                out["ops_s"] = time.perf_counter() - t
                out["daemon_rss_ops"] = rss_mb(proc.pid)
                ui, ui_rss, tx, tx_rss = [], [], [], []
                for _ in range(starts):
                    seconds, rss = child_screen(UI_CHILD, str(config))
                    ui.append(seconds)
                    ui_rss.append(rss)
                    seconds, rss = child_screen(BARE_TEXTUAL_CHILD)
                    tx.append(seconds)
                    tx_rss.append(rss)
                out["ui_screen_s"], out["ui_rss"] = median(ui), median(ui_rss)
                out["bare_textual_s"], out["bare_textual_rss"] = median(tx), median(tx_rss)
                out["ui_screen_ratio"] = median([u / b for u, b in zip(ui, tx, strict=True)])
            finally:
                proc.terminate()
                proc.wait(timeout=30)
        finally:
            sim.stop()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ops", type=int, default=10_000)
    ap.add_argument(
        "--starts",
        type=int,
        default=5,
        help="times each start is measured beside its floor (medians reported; default 5)",
    )
    args = ap.parse_args()
    r = measure(args.ops, args.starts)
    print("footprint")
    print(
        f"  daemon first start (new database) to READY {r['daemon_first_ready_s']:.2f} s; "
        f"restart {r['daemon_ready_s']:.2f} s; bare FastAPI + uvicorn {r['bare_api_s']:.2f} s "
        f"({r['bare_api_rss']:.1f} MB); restart/bare {r['daemon_ready_ratio']:.2f}x "
        f"(medians of {args.starts}, each beside its floor); bare `python -c pass` "
        f"{r['bare_python_s']:.3f} s (ratio {r['daemon_ready_s'] / r['bare_python_s']:.0f}x)"
    )
    print(
        f"  CPU seconds by then: daemon restart {r['daemon_ready_cpu_s']:.2f}, bare FastAPI + "
        f"uvicorn {r['bare_api_cpu_s']:.2f}; daemon/bare {r['daemon_ready_cpu_ratio']:.2f}x "
        f"(medians of {args.starts})"
    )
    print(
        f"  FastAPI + uvicorn with the daemon's API shape ({r['api_routes']:.0f} routes, "
        f"{r['api_bodies']:.0f} request bodies, {r['api_responses']:.0f} response models; "
        f"synthetic models) {r['shaped_api_s']:.2f} s, {r['shaped_api_cpu_s']:.2f} CPU-s, "
        f"{r['shaped_api_rss']:.1f} MB: "
        f"{r['shaped_api_s'] / r['bare_api_s']:.2f}x the bare app; daemon restart / it "
        f"{r['daemon_ready_shaped_ratio']:.2f}x (CPU {r['daemon_ready_shaped_cpu_ratio']:.2f}x)"
    )
    print(
        f"  daemon RSS after start {r['daemon_rss_start']:.1f} MB, after {args.ops} operations "
        f"({r['ops_s']:.1f} s) {r['daemon_rss_ops']:.1f} MB; budget {DAEMON_BUDGET_MB} MB = "
        f"{r['daemon_rss_ops'] / DAEMON_BUDGET_MB:.0%} of it, "
        f"{r['daemon_rss_ops'] / PI_ZERO_MB:.0%} of a Pi Zero 2 W's {PI_ZERO_MB} MB"
    )
    print(
        f"  UI to first screen {r['ui_screen_s']:.2f} s, RSS {r['ui_rss']:.1f} MB; bare Textual "
        f"{r['bare_textual_s']:.2f} s, {r['bare_textual_rss']:.1f} MB; UI/bare "
        f"{r['ui_screen_ratio']:.2f}x (medians of {args.starts})"
    )


if __name__ == "__main__":
    main()
