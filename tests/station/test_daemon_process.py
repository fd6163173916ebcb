"""`station run` as systemd runs it: notify socket, watchdog pings, SIGTERM, bad config."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import tomli_w

from tests.simstation import sim_config_data


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_notify_ready_watchdog_and_clean_sigterm(tmp_path: Path) -> None:
    data = sim_config_data(tmp_path)
    data["api"]["port"] = _free_port()
    config = tmp_path / "station.toml"
    config.write_text(tomli_w.dumps(data))
    notify_path = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(notify_path)
        sock.settimeout(30)
        env = dict(os.environ, NOTIFY_SOCKET=notify_path, WATCHDOG_USEC="400000")
        proc = subprocess.Popen(
            [sys.executable, "-m", "launcher.main", "run", "--config", str(config)],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        env["WATCHDOG_PID"] = str(proc.pid)
        try:
            messages: list[str] = []
            deadline = time.monotonic() + 30
            while messages.count("WATCHDOG=1") < 2 and time.monotonic() < deadline:
                messages.append(sock.recv(256).decode())
            assert messages[0].startswith("READY=1")
            assert messages.count("WATCHDOG=1") >= 2
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=20) == 0
            rest = []
            sock.settimeout(1)
            try:
                while True:
                    rest.append(sock.recv(256).decode())
            except TimeoutError:
                pass
            assert "STOPPING=1" in rest
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.stderr.close()
    db = sqlite3.connect(Path(data["station"]["data_dir"]) / "station.db")
    kinds = [r[0] for r in db.execute("SELECT type FROM events ORDER BY seq")]
    assert kinds[0] == "station_started" and kinds[-1] == "station_stopped"


def test_bad_config_exits_2_with_file_and_key(tmp_path: Path) -> None:
    data = sim_config_data(tmp_path)
    data["timeouts"]["poll_ms"] = "fast"
    config = tmp_path / "station.toml"
    config.write_text(tomli_w.dumps(data))
    out = subprocess.run(
        [sys.executable, "-m", "launcher.main", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert f"config error: {config}" in out.stderr
    assert "timeouts.poll_ms: Input should be a valid integer" in out.stderr
