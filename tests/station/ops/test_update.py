"""Software updates end to end: real wheels, a real central on loopback, real virtual
environments under a throwaway install root, and a real daemon-like process per version.

The releases are a tiny project's wheel in three versions: 1.0.0 and 1.1.0
answer /healthz like the station daemon, 1.2.0 is broken (its /healthz answers 503). The
restarter stands in for systemd: it stops the running process and starts what `current`
points at, as station.service's ExecStart does.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from central.app import create_app
from central.auth import new_token, token_hash
from central.cli import main as central_main
from central.office_cli import manifest_of, upload_release
from central.server import BackgroundServer
from central.settings import CentralSettings
from central.storage.sqlite import SQLiteStorage
from station.config import parse_config
from station.ops.update import (
    CURRENT,
    PREVIOUS,
    SystemdRestarter,
    UpdateError,
    UpdateOptions,
    Updater,
    doctor_failures,
)
from tests.simstation import sim_config_data

STATION, OTHER = "TEST-0001", "TEST-0002"

DAEMON = '''
"""A stand-in for the station daemon: /healthz with its version, and a doctor."""
import http.server, json, sys, tomllib

VERSION, BROKEN = {version!r}, {broken!r}


def main():
    command, config = sys.argv[1], sys.argv[sys.argv.index("--config") + 1]
    with open(config, "rb") as f:
        cfg = tomllib.load(f)
    if command == "doctor":
        print("OK    config  fine")
        return 0

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({{"status": "ok", "station": cfg["station"]["id"],
                "boards_online": 1, "boards_total": 1, "version": VERSION,
                "quiet": True}}).encode()
            self.send_response(503 if BROKEN else 200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    http.server.HTTPServer(("127.0.0.1", cfg["api"]["port"]), Health).serve_forever()
'''


def _build_wheel(tmp: Path, version: str, broken: bool) -> Path:
    """A wheelhouse holding the tiny project's wheel, written to the wheel format itself
    (no build backend: the test environment's setuptools builds no wheels, and nothing may
    come from the network). pip installs it like any other wheel."""
    out = tmp / f"wheelhouse-{version}"
    out.mkdir()
    info = f"stationlet-{version}.dist-info"
    files = {
        "stationlet/__init__.py": DAEMON.format(version=version, broken=broken),
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: stationlet\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
        f"{info}/entry_points.txt": "[console_scripts]\nstation = stationlet:main\n",
    }
    record = []
    for name, text in files.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    files[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    wheel = out / f"stationlet-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return out


class ProcessRestarter:
    """systemd's part: stop the daemon, start `<root>/current/bin/station run`."""

    def __init__(self, root: Path, config: Path) -> None:
        self.root, self.config = root, config
        self.process: subprocess.Popen[bytes] | None = None
        self.started: list[str] = []

    def restart(self) -> None:
        self.stop()
        program = self.root / CURRENT / "bin" / "station"
        self.started.append(os.path.realpath(self.root / CURRENT))
        self.process = subprocess.Popen([str(program), "run", "--config", str(self.config)])

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=10)
            self.process = None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def central(tmp_path: Path) -> Iterator[tuple[str, SQLiteStorage, str, str]]:
    storage = SQLiteStorage(tmp_path / "central.db")
    token = new_token()
    storage.add_station(STATION, "test", token_hash(token), time.time())
    storage.add_station(OTHER, "other", token_hash(new_token()), time.time())
    operator = new_token()
    storage.add_office_token("alice", token_hash(operator), time.time(), role="operator")
    settings = CentralSettings(release_dir=str(tmp_path / "central-releases"))
    with BackgroundServer(create_app(storage, settings)) as server:
        yield server.url, storage, token, operator
    storage.close()


def test_update_to_a_good_version_then_back_from_a_broken_one(
    tmp_path: Path, central: tuple[str, SQLiteStorage, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _storage, token, operator = central
    data = sim_config_data(tmp_path / "station")
    data["api"]["port"] = _free_port()
    data["sync"] = {"url": url, "token": token}
    config = parse_config(data)
    config_file = tmp_path / "station.toml"
    config_file.write_text(f'[station]\nid = "{STATION}"\n[api]\nport = {data["api"]["port"]}\n')
    root = tmp_path / "opt-station-releases"
    restarter = ProcessRestarter(root, config_file)
    options = UpdateOptions(
        root=root,
        config_path=config_file,
        daemon_url=f"http://127.0.0.1:{data['api']['port']}",
        health_wait_s=10.0,
        poll_s=0.2,
        seed_pip=False,
    )
    updater = Updater(config, options, restarter)
    office = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {operator}"})
    monkeypatch.setenv("CENTRAL_URL", url)
    monkeypatch.setenv("CENTRAL_TOKEN", operator)

    def release(version: str, broken: bool = False) -> None:
        wheelhouse = _build_wheel(tmp_path, version, broken)
        if version == "1.2.0":  # one through the office's command, the others by function
            assert central_main(["release", "upload", str(wheelhouse), "--version", version]) == 0
        else:
            upload_release(office, wheelhouse, manifest_of(wheelhouse, version))

    def roll_out(version: str) -> None:
        assert central_main(["rollout", version, "--stations", "*", "--canary", STATION]) == 0

    try:
        assert updater.run().outcome == "no_target"

        release("1.0.0")
        roll_out("1.0.0")
        first = updater.run()
        assert (first.outcome, first.version, first.reported) == ("ok", "1.0.0", True)

        release("1.1.0")
        roll_out("1.1.0")
        # The other station waits for the canary.
        views = office.get("/api/v1/updates").json()["stations"]
        assert views[OTHER]["target"] == "1.0.0" and views[OTHER]["held"] == "1.1.0"
        good = updater.run()
        assert (good.outcome, good.version, good.from_version) == ("ok", "1.1.0", "1.0.0")
        assert httpx.get(f"{options.daemon_url}/healthz").json()["version"] == "1.1.0"
        assert office.get("/api/v1/updates").json()["stations"][OTHER]["target"] == "1.1.0"

        release("1.2.0", broken=True)
        roll_out("1.2.0")
        bad = updater.run()
        assert (bad.outcome, bad.version, bad.from_version) == ("rolled_back", "1.2.0", "1.1.0")
        assert "HTTP 503" in bad.detail and bad.reported
        assert httpx.get(f"{options.daemon_url}/healthz").json()["version"] == "1.1.0"
        assert os.path.realpath(root / CURRENT).endswith("1.1.0")
        assert os.path.realpath(root / PREVIOUS).endswith("1.0.0")
        assert not (root / "1.2.0").exists()
        assert [Path(p).name for p in restarter.started] == ["1.0.0", "1.1.0", "1.2.0", "1.1.0"]

        again = updater.run()  # the failed version is not tried again by the timer
        assert again.outcome == "skipped"
    finally:
        restarter.stop()
        office.close()

    got = httpx.get(f"{url}/api/v1/updates", headers={"Authorization": f"Bearer {operator}"}).json()
    results = [(r["from_version"], r["version"], r["status"]) for r in reversed(got["reports"])]
    assert results == [
        ("", "1.0.0", "ok"),
        ("1.0.0", "1.1.0", "ok"),
        ("1.1.0", "1.2.0", "rolled_back"),
    ]
    assert got["stations"][STATION]["last"]["status"] == "rolled_back"
    # The dashboard's fleet view carries the same, per station.
    fleet = httpx.get(f"{url}/api/v1/fleet", headers={"Authorization": f"Bearer {operator}"})
    row = next(r for r in fleet.json()["stations"] if r["id"] == STATION)
    assert row["update"]["last"]["version"] == "1.2.0"
    assert row["update"]["last"]["status"] == "rolled_back"
    # The rollout halts: the station that waited for the canary keeps 1.1.0.
    assert got["stations"][OTHER]["target"] == "1.1.0"
    assert got["stations"][OTHER]["held_stage"] == "halted"


def test_a_wheel_that_does_not_match_the_manifest_is_never_installed(
    tmp_path: Path, central: tuple[str, SQLiteStorage, str, str]
) -> None:
    url, storage, token, operator = central
    wheelhouse = _build_wheel(tmp_path, "2.0.0", broken=False)
    manifest = manifest_of(wheelhouse, "2.0.0")
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {operator}"}) as office:
        upload_release(office, wheelhouse, manifest)
        r = office.post("/api/v1/rollouts", json={"version": "2.0.0", "stations": [STATION]})
        assert r.status_code == 201, r.text
    wheel = Path(tmp_path / "central-releases" / "2.0.0" / manifest.files[0].name)
    data = wheel.read_bytes()
    wheel.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))  # central's copy damaged on disk

    data = sim_config_data(tmp_path / "station")
    data["sync"] = {"url": url, "token": token}
    root = tmp_path / "root"
    options = UpdateOptions(
        root=root,
        config_path=tmp_path / "none.toml",
        daemon_url="http://127.0.0.1:9",
        seed_pip=False,
    )
    restarter = ProcessRestarter(root, tmp_path / "none.toml")
    done = Updater(parse_config(data), options, restarter).run()

    assert done.outcome == "failed" and "SHA-256" in done.detail
    assert not (root / CURRENT).exists() and restarter.started == []
    assert [p.name for p in root.iterdir() if p.is_dir()] == []  # no environment left
    assert storage.update_reports(STATION)[0]["status"] == "failed"


def test_only_an_operator_uploads_and_a_release_never_changes(
    tmp_path: Path, central: tuple[str, SQLiteStorage, str, str]
) -> None:
    url, storage, token, operator = central
    viewer = new_token()
    storage.add_office_token("bob", token_hash(viewer), time.time())
    wheelhouse = _build_wheel(tmp_path, "3.0.0", broken=False)
    manifest = manifest_of(wheelhouse, "3.0.0")
    name = manifest.files[0].name
    body = (wheelhouse / name).read_bytes()
    headers = {"X-File-SHA256": manifest.files[0].sha256}
    path = f"{url}/api/v1/releases/3.0.0/files/{name}"

    as_viewer = httpx.put(
        path, content=body, headers=headers | {"Authorization": f"Bearer {viewer}"}
    )
    as_station = httpx.put(
        path, content=body, headers=headers | {"Authorization": f"Bearer {token}"}
    )
    assert (as_viewer.status_code, as_station.status_code) == (403, 403)
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {operator}"}) as office:
        incomplete = office.put("/api/v1/releases/3.0.0", content=manifest.model_dump_json())
        assert incomplete.status_code == 422 and "not uploaded" in incomplete.text
        upload_release(office, wheelhouse, manifest)
        again = office.put(f"/api/v1/releases/3.0.0/files/{name}", content=body, headers=headers)
        assert again.status_code == 409
        unknown = office.post("/api/v1/rollouts", json={"version": "9.9.9", "stations": ["*"]})
        assert unknown.status_code == 404
    # A station reaches only the files of its own target.
    r = httpx.get(
        f"{url}/api/v1/station/releases/3.0.0/files/{name}",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 404


def test_doctor_failures_are_read_by_check_name() -> None:
    report = "OK    config          fine\nFAIL  board A         no answer\nFAIL  central  down\n"
    assert doctor_failures(report) == {"board A", "central"}


def test_a_station_installed_by_hand_reports_its_own_version(tmp_path: Path) -> None:
    """install.sh points `current` at a venv it built, which has no release.json: the first
    update still says what it updated from (the installed package's version)."""
    import importlib.metadata
    import sys

    root = tmp_path / "releases"
    root.mkdir()
    options = UpdateOptions(root=root, config_path=tmp_path / "station.toml", daemon_url="")
    updater = Updater(parse_config(sim_config_data(tmp_path / "station")), options, None)
    assert updater.current_version() == ""  # nothing installed yet
    (root / CURRENT).symlink_to(sys.prefix)  # the venv these tests run in, installed by pip
    assert updater.current_version() == importlib.metadata.version("gongxiang-yizhan")


@pytest.mark.skipif(not shutil.which("systemctl"), reason="needs Debian's systemd (systemctl)")
def test_the_systemd_restarter_turns_a_failed_restart_into_an_update_error() -> None:
    """Real systemctl, a unit that does not exist (or no systemd as PID 1 on a build
    machine): the updater gets an UpdateError naming the unit and rolls back."""
    unit = "station-update-test-no-such-unit.service"
    with pytest.raises(UpdateError, match=f"systemctl restart {unit}: ."):
        SystemdRestarter(unit).restart()


def test_the_systemd_restarter_on_a_host_without_systemctl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UpdateError, match="systemctl not found"):
        SystemdRestarter().restart()
