"""`station demo`: a whole station on simulated hardware, for a first look and for developers.

It writes a demo config next to its data (kept between runs, so tokens stay the same), starts a
local central server (SQLite) the station is registered with and syncs to, starts
a virtual presence radar playing a scene (someone walks in, rests, leaves), starts the daemon on
simulated lock boards in a child process, and shows the touchscreen UI in this
terminal (or, headless, prints how to drive the API with curl). Everything stops together.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path
from typing import Any

import httpx
import tomli_w

from drivers.sim.radar import DEMO_SCENE, VirtualRadar
from drivers.sim.reader import SerialReaderSim
from station.config import parse_config

EXAMPLE = Path(__file__).resolve().parent.parent / "deploy" / "station.example.toml"


MODBUS_LOCKERS = ("A13", "A14", "A15", "A16")
"""The lockers the Modbus variant puts on its simulated Modbus RTU board (channels 1..4)."""


def demo_config(directory: Path, port: int = 8470, modbus: bool = False) -> dict[str, Any]:
    """The example config turned into a simulated station whose data lives in `directory`.

    With `modbus`, lockers A13-A16 move to a second bus: a simulated Modbus RTU relay board
    (slave 1, coil pulses, discrete-input feedback) on its own pty, driven by the real driver.
    """
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["station"]["id"] = "DEMO-0001"
    data["station"]["data_dir"] = str((directory / "data").resolve())
    data["api"]["port"] = port
    data["api"]["tokens"] = [
        {"name": "touchscreen", "role": "kiosk", "token": "kiosk-" + secrets.token_urlsafe(18)},
        {"name": "demo-staff", "role": "staff", "token": "staff-" + secrets.token_urlsafe(18)},
        {
            "name": "demo-central",
            "role": "central",
            "token": "central-" + secrets.token_urlsafe(18),
        },
    ]
    for board in data["boards"]:
        board.pop("port", None)
        board.pop("baud", None)
        board["protocol"] = "sim"
        board["sim_protocol"] = "cu"
        board["sim_auto_close_s"] = 6.0
    if modbus:
        data["boards"].append(
            {
                "id": "M1",
                "protocol": "sim",
                "sim_protocol": "modbus",
                "address": 1,
                "channels": len(MODBUS_LOCKERS),
                "modbus_unlock": "coil",
                "pulse_ms": 300,
                "inputs": "discrete",
                "sim_auto_close_s": 6.0,
            }
        )
        for locker in data["lockers"]:
            if locker["id"] in MODBUS_LOCKERS:
                locker["board"] = "M1"
                locker["channel"] = MODBUS_LOCKERS.index(locker["id"]) + 1
    data["occupancy"] = {"radar_port": str((directory / "station-radar").resolve())}
    data["reader"] = {"kind": "serial", "device": str((directory / "card-reader").resolve())}
    parse_config(data, "demo config")
    return data


CENTRAL_PORT = 8480


def _central(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    db = str((directory / "central.db").resolve())
    return subprocess.run(
        [sys.executable, "-m", "launcher.main", "central", "--db", db, *args],
        capture_output=True,
        text=True,
        check=True,
    )


API_PORT = 8470


def ensure_config(
    directory: Path,
    api_port: int | None = None,
    central_port: int | None = None,
    modbus: bool = False,
) -> Path:
    """Write the demo config once, registering the station with the demo's central server;
    ports given on a later run replace the ones in the kept config."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "station.toml"
    if not path.exists():
        data = demo_config(directory, api_port or API_PORT, modbus=modbus)
        token = _central(directory, "register", data["station"]["id"]).stdout.strip()
        data["sync"] = {
            "url": f"http://127.0.0.1:{central_port or CENTRAL_PORT}",
            "token": token,
            "interval_s": 5.0,
        }
        path.write_text(tomli_w.dumps(data), encoding="utf-8")
    elif api_port or central_port:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        if api_port:
            data["api"]["port"] = api_port
        if central_port:
            data["sync"]["url"] = f"http://127.0.0.1:{central_port}"
        path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def central_port_of(config: dict[str, Any]) -> int:
    return int(config["sync"]["url"].rsplit(":", 1)[1])


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{url} exited with code {proc.returncode}; its log: {log}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"nothing answered on {url} within {within:.0f} s; its log: {log}")


DEMO_STAFF = ("1001", "演示员工 Demo staff", "246810")
DEMO_MEMBER = ("13800138000", "135790")
DEMO_CARD = "DEMO-CARD-0001"
"""The demo member's card: `echo DEMO-CARD-0001 > var/demo/present-card` presents it."""
PRESENT_FIFO = "present-card"
DEMO_TOOLS = [
    ("pump-1", "打气筒", "Bike pump", "bike", "A01", 4, "hours", False),
    ("tyre-kit-1", "补胎工具包", "Tyre repair kit", "bike", "A02", 4, "hours", False),
    ("drill-1", "电钻", "Electric drill", "power", "A03", 1, "days", True),
    ("ladder-1", "折叠梯", "Folding ladder", "home", "A04", 1, "days", False),
    ("umbrella-1", "雨伞", "Umbrella", "weather", "A05", 2, "days", False),
]


def seed(url: str, directory: Path, staff_token: str, reader: SerialReaderSim) -> None:
    """First run only: a staff account, a member with a card and five tools, made through the
    real API (the card presented on the simulated reader, as staff would bind it)."""
    marker = directory / ".seeded"
    if marker.exists():
        return
    headers = {"Authorization": f"Bearer {staff_token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=20) as c:
        staff_no, name, pin = DEMO_STAFF
        c.post("/api/v1/staff", json={"staff_no": staff_no, "name": name, "pin": pin})
        phone, member_pin = DEMO_MEMBER
        member = c.post(
            "/api/v1/members", json={"phone": phone, "pin": member_pin, "kind": "resident"}
        ).json()
        _bind_demo_card(c, str(member["member_id"]), reader)
        for tool_id, zh, en, category, locker, period, unit, approval in DEMO_TOOLS:
            body = {
                "id": tool_id,
                "name_zh": zh,
                "name_en": en,
                "category": category,
                "locker": locker,
                "loan_period": period,
                "loan_unit": unit,
                "staff_approval_required": approval,
            }
            c.post("/api/v1/tools", json=body).raise_for_status()
            c.post(f"/api/v1/tools/{tool_id}/restock", json={"note": "demo"}).raise_for_status()
    marker.write_text("seeded\n")


def _bind_demo_card(c: httpx.Client, member_id: str, reader: SerialReaderSim) -> None:
    """Staff's "bind a card" route waits for a card; present it until the route answers."""
    answer: list[httpx.Response] = []
    waiting = threading.Thread(
        target=lambda: answer.append(
            c.post(f"/api/v1/members/{member_id}/cards/read", json={"wait_s": 15})
        ),
        daemon=True,
    )
    waiting.start()
    while waiting.is_alive():
        time.sleep(2.0)  # longer than the reader's de-bounce: each is a new presentation
        if waiting.is_alive():
            reader.present(DEMO_CARD)
    if not answer or answer[0].status_code != 200:
        print("demo: the demo card could not be bound; present it anyway to see why")


def serve_present_fifo(path: Path, reader: SerialReaderSim, stop: threading.Event) -> None:
    """Each line written to the FIFO is presented on the simulated reader (the README's
    `echo DEMO-CARD-0001 > var/demo/present-card`)."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    os.mkfifo(path, 0o600)
    while not stop.is_set():
        with open(path, encoding="ascii", errors="replace") as fifo:  # blocks for a writer
            for line in fifo:
                if line.strip() and reader.plugged:
                    reader.present(line.strip())


def _tokens(config: dict[str, Any]) -> dict[str, str]:
    return {t["role"]: t["token"] for t in config["api"]["tokens"]}


def _print_guide(
    url: str, central_url: str, config_path: Path, tokens: dict[str, str], logs: dict[str, Path]
) -> None:
    staff = tokens["staff"]
    print(
        f"""
共享益站 demo station is running on simulated hardware.
  API:     {url}   (its OpenAPI description: {url}/openapi.json, with a token)
  central: {central_url}   (the station syncs its usage log there)
  config:  {config_path}   (the other commands take it: --config {config_path})
  logs:    {logs["daemon"]}, {logs["central"]}
  staff token: {staff}

Demo staff {DEMO_STAFF[0]} PIN {DEMO_STAFF[2]}; member {DEMO_MEMBER[0]} PIN {DEMO_MEMBER[1]}.
The member's card is on the simulated reader: when the screen asks for a card, present it
from another terminal with   echo {DEMO_CARD} > {config_path.parent / PRESENT_FIFO}
Open door A03 as staff, then watch it (simulated doors shut by themselves after 6 s):
  curl -s -X POST -H 'Authorization: Bearer {staff}' -H 'Content-Type: application/json' \\
       -d '{{"reason": "demo"}}' {url}/api/v1/lockers/A03/open
  curl -s -H 'Authorization: Bearer {staff}' {url}/api/v1/lockers/A03
  curl -s -H 'Authorization: Bearer {staff}' '{url}/api/v1/events?type=door_opened&type=door_closed'

Press Ctrl-C to stop.""",
        flush=True,
    )


class _Stop(Exception):
    """SIGTERM or SIGHUP reached the demo: stop everything it started, as Ctrl-C does."""


def _stop_on_signal(signum: int, _frame: Any) -> None:
    raise _Stop(signal.Signals(signum).name)


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def _check_ports(ports: dict[str, int]) -> None:
    taken = [f"{port} ({what})" for what, port in ports.items() if port_in_use(port)]
    if taken:
        raise SystemExit(
            f"demo: port {', '.join(taken)} is in use on 127.0.0.1: is another demo or "
            "station running? Stop it (Ctrl-C in its terminal) and try again, or pick other "
            "ports: station demo --port N --central-port M"
        )


def _child(argv: list[str], log_path: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A child whose output goes to its own log file, never over the touchscreen UI."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            argv, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )


def run_demo(
    directory: Path,
    headless: bool = False,
    web: bool = False,
    api_port: int | None = None,
    central_port: int | None = None,
    modbus: bool = False,
) -> int:
    config_path = ensure_config(directory, api_port, central_port, modbus)
    config = tomllib.loads(config_path.read_text(encoding="utf-8"))
    port, central_port = int(config["api"]["port"]), central_port_of(config)
    _check_ports({"the station's API": port, "the demo's central server": central_port})
    url, central_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{central_port}"
    logs = {name: (directory / f"{name}.log").resolve() for name in ("daemon", "central")}
    previous = {s: signal.signal(s, _stop_on_signal) for s in (signal.SIGTERM, signal.SIGHUP)}
    radar = VirtualRadar(config.get("occupancy", {}).get("radar_port", directory / "radar"))
    radar.start()
    radar.play(DEMO_SCENE)
    reader = SerialReaderSim(config.get("reader", {}).get("device", directory / "card-reader"))
    reader.start()
    fifo_stop = threading.Event()
    threading.Thread(
        target=serve_present_fifo,
        args=(directory / PRESENT_FIFO, reader, fifo_stop),
        name="demo-present-card",
        daemon=True,
    ).start()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    central_db = str((directory / "central.db").resolve())
    children: list[subprocess.Popen[bytes]] = []
    try:
        children.append(
            _child(
                [
                    *(sys.executable, "-m", "launcher.main", "central", "--db", central_db),
                    *("serve", "--host", "127.0.0.1", "--port", str(central_port)),
                ],
                logs["central"],
                env,
            )
        )
        children.append(
            _child(
                [sys.executable, "-m", "launcher.main", "run", "--config", str(config_path)],
                logs["daemon"],
                env,
            )
        )
        central, daemon = children
        _wait_ready(central_url, central, logs["central"])
        _wait_ready(url, daemon, logs["daemon"])
        seed(url, directory, _tokens(config)["staff"], reader)
        _print_guide(url, central_url, config_path, _tokens(config), logs)
        if headless or not sys.stdin.isatty():
            daemon.wait()
        else:
            from ui.app import main as ui_main

            ui_main(str(config_path), web=web)
    except (KeyboardInterrupt, _Stop):
        pass
    finally:
        radar.stop()
        fifo_stop.set()
        reader.stop()
        with contextlib.suppress(FileNotFoundError):
            (directory / PRESENT_FIFO).unlink()
        for proc in children:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in children:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 0
