"""Log lines under journald carry their syslog priority; elsewhere they stay plain.

Each case runs a real process whose stderr is a file, with JOURNAL_STREAM naming that file's
device and inode exactly as systemd does for a service whose output goes to the journal.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import tomli_w

from launcher.logs import syslog_priority
from tests.simstation import sim_config_data

LOG_SOME = """
import logging
from launcher.logs import configure_logging
configure_logging()
log = logging.getLogger("station.test")
log.debug("hidden")
log.info("an info line")
log.warning("a warning")
log.error("an error")
try:
    1 / 0
except ZeroDivisionError:
    log.exception("with a traceback")
"""


def _run(code: str, stderr: Path, journal: bool) -> str:
    with stderr.open("w") as err:
        env = dict(os.environ)
        env.pop("JOURNAL_STREAM", None)
        if journal:
            st = os.fstat(err.fileno())
            env["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
        subprocess.run([sys.executable, "-c", code], stderr=err, env=env, check=True, timeout=60)
    return stderr.read_text()


def test_priorities_follow_python_levels() -> None:
    assert [syslog_priority(n) for n in (50, 40, 30, 20, 10, 5)] == [2, 3, 4, 6, 7, 7]


def test_under_journald_every_line_starts_with_its_priority(tmp_path: Path) -> None:
    lines = _run(LOG_SOME, tmp_path / "err", journal=True).splitlines()

    assert lines[0] == "<6>INFO station.test: an info line"
    assert lines[1] == "<4>WARNING station.test: a warning"
    assert lines[2] == "<3>ERROR station.test: an error"
    assert all(line.startswith("<3>") for line in lines[3:])  # the traceback stays an error
    assert any("ZeroDivisionError" in line for line in lines[3:])
    assert not any("hidden" in line for line in lines)


def test_plain_lines_with_a_time_elsewhere(tmp_path: Path) -> None:
    text = _run(LOG_SOME, tmp_path / "err", journal=False)

    assert not re.search(r"^<\d>", text, re.M)
    assert re.search(
        r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ WARNING station.test: a warning$", text, re.M
    )


def test_a_journal_stream_of_another_file_is_not_ours(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.write_text("")
    st = other.stat()
    with (tmp_path / "err").open("w") as err:
        env = dict(os.environ, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}")
        subprocess.run([sys.executable, "-c", LOG_SOME], stderr=err, env=env, check=True)
    assert not re.search(r"^<\d>", (tmp_path / "err").read_text(), re.M)


def test_the_daemon_under_journald_prefixes_every_line(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = sim_config_data(tmp_path)
    data["api"]["port"] = port
    config = tmp_path / "station.toml"
    config.write_text(tomli_w.dumps(data))
    log = tmp_path / "journal"
    with log.open("w") as err:
        st = os.fstat(err.fileno())
        env = dict(os.environ, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}")
        proc = subprocess.Popen(
            [sys.executable, "-m", "launcher.main", "run", "--config", str(config)],
            stderr=err,
            stdout=subprocess.DEVNULL,
            env=env,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
    lines = [line for line in log.read_text().splitlines() if line]

    assert any("ready on" in line for line in lines)
    assert all(re.match(r"<[0-7]>", line) for line in lines), lines


def test_a_config_error_under_journald_is_an_error(tmp_path: Path) -> None:
    data = sim_config_data(tmp_path)
    data["timeouts"]["poll_ms"] = "fast"
    config = tmp_path / "station.toml"
    config.write_text(tomli_w.dumps(data))
    args = ["run", "--config", str(config)]
    code = f"from launcher.main import main; raise SystemExit(main({args!r}))"
    with (tmp_path / "err").open("w") as err:
        st = os.fstat(err.fileno())
        env = dict(os.environ, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}")
        done = subprocess.run([sys.executable, "-c", code], stderr=err, env=env, check=False)
    lines = (tmp_path / "err").read_text().splitlines()

    assert done.returncode == 2
    assert lines and all(line.startswith("<3>") for line in lines)
    assert "config error" in lines[0]
