"""`station demo` as a newcomer meets it: headless on free ports, its children's logs in files
(not over the screen), a clear word when its ports are taken, and SIGTERM stopping everything."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from launcher.demo import port_in_use

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
