"""`station demo` as a newcomer meets it: headless on free ports, its children's logs in files
(not over the screen), the demo member's card presented as the guide says, a clear word when
its ports are taken, and SIGTERM stopping everything."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx
import pytest

from launcher.demo import DEMO_CARD, DEMO_MEMBER, PRESENT_FIFO, port_in_use

ROOT = Path(__file__).resolve().parents[2]
READY_WITHIN_S = 240.0
"""A central, a daemon and the seeding on a loaded 2-core CI machine."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def demo(directory: Path, api: int, central: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "launcher.main", "demo", "--headless"),
            *("--dir", str(directory), "--port", str(api), "--central-port", str(central)),
        ],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )


def read_until(proc: subprocess.Popen[str], marker: str, within: float) -> str:
    assert proc.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if marker in line:
            return "".join(seen)
    raise AssertionError(f"no {marker!r} from the demo; it printed:\n{''.join(seen)}")


def present_demo_card(directory: Path, api: int, guide: str) -> None:
    """The guide's `echo DEMO-CARD-0001 > .../present-card` identifies the demo member."""
    fifo = directory / PRESENT_FIFO
    assert f"echo {DEMO_CARD} > {fifo}" in guide
    tokens = {t["role"]: t["token"] for t in tomllib.loads(
        (directory / "station.toml").read_text())["api"]["tokens"]}  # fmt: skip
    url = f"http://127.0.0.1:{api}/api/v1"
    staff = {"Authorization": f"Bearer {tokens['staff']}"}
    member = httpx.post(f"{url}/members/lookup", json={"phone": DEMO_MEMBER[0]}, headers=staff)
    assert member.json()["cards"] == 1, member.text
    kiosk = {"Authorization": f"Bearer {tokens['kiosk']}"}
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        answer = pool.submit(
            httpx.post,
            f"{url}/cards/identify",
            json={"purpose": "borrow", "wait_s": 30},
            headers=kiosk,
            timeout=40,
        )
        time.sleep(2.0)  # the screen is waiting, and the seeding's presentation is long past
        with fifo.open("w") as f:
            f.write(DEMO_CARD + "\n")
        r = answer.result()
    assert r.status_code == 200 and r.json()["kind"] == "member", r.text
    assert r.json()["member"]["masked"] == "138****8000"


@pytest.mark.timeout(600)
def test_demo_headless_logs_to_files_refuses_taken_ports_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    api, central = free_port(), free_port()
    first = demo(tmp_path / "demo", api, central)
    try:
        guide = read_until(first, "Press Ctrl-C to stop.", READY_WITHIN_S)
        assert f"--config {tmp_path / 'demo' / 'station.toml'}" in guide
        assert "GET /" not in guide and "POST /" not in guide  # no access log over the screen
        assert (tmp_path / "demo" / "daemon.log").exists()
        assert (tmp_path / "demo" / "central.log").exists()
        present_demo_card(tmp_path / "demo", api, guide)

        second = subprocess.run(
            [
                *(sys.executable, "-m", "launcher.main", "demo", "--headless"),
                *("--dir", str(tmp_path / "other"), "--port", str(api)),
                *("--central-port", str(central)),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert second.returncode != 0
        assert f"port {api}" in second.stderr and "in use" in second.stderr
        assert "Traceback" not in second.stderr

        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=60) == 0
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    deadline = time.monotonic() + 30
    while (port_in_use(api) or port_in_use(central)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not port_in_use(api) and not port_in_use(central), "a child outlived the demo"
