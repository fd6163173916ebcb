"""A station's install (`pip install .`, no extras): no central-only packages, and it runs.

The project is pip-installed for real into a fresh virtual environment without system site
packages; the daemon then runs from it on simulated boards and answers /healthz, and the UI
starts against it headless. Central's PostgreSQL driver, plotly and textual-serve must not be
there, and `station ui --web` must say which extra to add instead of a traceback.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import tomli_w

from tests.simstation import sim_config_data

PIP_INSTALL = ("-m", "pip", "install", "-q", "--no-input", "--no-compile")
CENTRAL_ONLY = ("psycopg", "psycopg-binary", "plotly", "textual-serve")

UI_SCRIPT = """
import asyncio, sys
from station.config import load_config
from ui.app import build_app

async def main():
    app = build_app(load_config(sys.argv[1]))
    async with app.run_test(size=(80, 16)) as pilot:
        await pilot.pause(0.5)
        print("screen:", type(app.screen).__name__)

asyncio.run(main())
print("modules:", sorted({m.split(".")[0] for m in sys.modules} & {"central", "plotly", "psycopg"}))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lean_venv(checkout: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("lean") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    done = subprocess.run(
        [str(venv / "bin/python"), *PIP_INSTALL, str(checkout)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return venv


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_base_install_leaves_out_central_and_web_packages(lean_venv: Path) -> None:
    listed = subprocess.run(
        [str(lean_venv / "bin/python"), "-m", "pip", "list", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
    )
    names = {p["name"].lower() for p in json.loads(listed.stdout)}

    assert "gongxiang-yizhan" in names
    assert {"fastapi", "textual", "pyserial", "gpiozero"} <= names
    assert names.isdisjoint(CENTRAL_ONLY), names & set(CENTRAL_ONLY)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_daemon_and_ui_run_from_the_base_install(lean_venv: Path, tmp_path: Path) -> None:
    data = sim_config_data(tmp_path)
    data["api"]["port"] = port = _free_port()
    config = tmp_path / "station.toml"
    config.write_text(tomli_w.dumps(data))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    cwd = tmp_path  # not the checkout: the installed copy must be what runs
    daemon = subprocess.Popen(
        [str(lean_venv / "bin/station"), "run", "--config", str(config)],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        health = None
        while time.monotonic() < deadline and daemon.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert health is not None and health.status_code == 200, daemon.poll()

        ui = subprocess.run(
            [str(lean_venv / "bin/python"), "-c", UI_SCRIPT, str(config)],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert ui.returncode == 0, ui.stderr
        assert "screen: " in ui.stdout
        assert "modules: []" in ui.stdout

        web = subprocess.run(
            [str(lean_venv / "bin/station"), "ui", "--web", "--config", str(config)],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert web.returncode == 2
        assert "textual-serve" in web.stderr and "[web]" in web.stderr
        assert "Traceback" not in web.stderr
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=20)
        finally:
            if daemon.poll() is None:
                daemon.kill()
            assert daemon.stderr is not None
            daemon.stderr.close()
