"""The systemd units: accepted by systemd-analyze, hardened, and saying what the issue asks.

`systemd-analyze verify` also checks that each ExecStart= binary exists and is executable.
The station's own binaries live in /opt/station, which exists only after an install, so the
test verifies the unit files as install.sh placed them in a throwaway root, with /opt/station
rewritten to that root's copy (whose venv has the real `station` console script and the touch
bridge). /usr/bin/cage and /usr/bin/python3 are checked on this machine as they are.
`--root` is not used: systemd-analyze would then look for every unit the files name
(sysinit.target, dbus.socket, ...) inside the throwaway root too.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .conftest import CENTRAL_UNITS, DEPLOY, UNITS, InstallRuns, need

EXPOSURE_LIMITS = {
    # systemd-analyze security's scale is 0 (locked down) to 10 (nothing restricted), given
    # to --threshold times ten. The daemon, the touch bridge and the central server hold to
    # "OK" (below 3). The kiosk needs the session's display and input devices, /run/user and
    # the loopback network, so it is held to below 4.
    "station.service": 25,
    "station-touch.service": 25,
    "station-central.service": 25,
    "station-kiosk.service": 40,
    "station-backup.service": 25,
    "station-update.service": 25,
}


def parse_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """Sections and their settings; a key given twice keeps both values, as systemd does."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key, []).append(value)
    return sections


def verify(unit_file: Path) -> subprocess.CompletedProcess[str]:
    analyze = need("systemd-analyze", "systemd")
    return subprocess.run(
        [analyze, "verify", "--man=no", str(unit_file)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.parametrize("unit", UNITS)
def test_systemd_analyze_verify_accepts_the_installed_units(
    unit: str, install_runs: InstallRuns, tmp_path: Path
) -> None:
    if unit == "station-kiosk.service":
        need("cage", "cage")
    installed = install_runs.root / "etc/systemd/system" / unit
    text = installed.read_text(encoding="utf-8")
    rooted = tmp_path / unit
    rooted.write_text(text.replace("/opt/station/", f"{install_runs.root}/opt/station/"))

    result = verify(rooted)

    assert result.returncode == 0, result.stderr
    assert result.stdout + result.stderr == ""


def test_systemd_analyze_verify_accepts_the_central_unit(tmp_path: Path) -> None:
    """The central server's unit, with its ExecStart binary stood in by a script of our own."""
    (unit,) = CENTRAL_UNITS
    station = tmp_path / "venv/bin/station"
    station.parent.mkdir(parents=True)
    station.write_text("#!/bin/sh\nexit 0\n")
    station.chmod(0o755)
    text = (DEPLOY / "systemd" / unit).read_text(encoding="utf-8")
    assert "/opt/station/venv/bin/station central serve --host 127.0.0.1" in text
    rooted = tmp_path / unit
    rooted.write_text(text.replace("/opt/station/venv/", f"{tmp_path}/venv/"))

    result = verify(rooted)

    assert result.returncode == 0, result.stderr
    assert result.stdout + result.stderr == ""


def test_systemd_analyze_verify_reports_a_mistake(tmp_path: Path) -> None:
    """The check above can fail: a misspelt key in a copy of the daemon's unit is reported."""
    text = (DEPLOY / "systemd/station.service").read_text(encoding="utf-8")
    broken = tmp_path / "station.service"
    broken.write_text(
        text.replace("/opt/station/releases/current/bin/station", "/bin/true").replace(
            "WatchdogSec=", "WatchDogSec="
        )
    )

    result = verify(broken)

    assert "Unknown key 'WatchDogSec'" in result.stderr


@pytest.mark.parametrize(("unit", "limit"), EXPOSURE_LIMITS.items())
def test_units_are_hardened(unit: str, limit: int) -> None:
    analyze = need("systemd-analyze", "systemd")
    unit_file = DEPLOY / "systemd" / unit
    result = subprocess.run(
        [analyze, "security", "--offline=yes", f"--threshold={limit}", str(unit_file)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-600:] + result.stderr


def test_daemon_unit_restarts_forever_under_the_watchdog() -> None:
    unit = parse_unit(DEPLOY / "systemd/station.service")
    service, section = unit["Service"], unit["Unit"]

    assert service["Type"] == ["notify"]
    assert service["WatchdogSec"] == ["30s"]
    assert service["Restart"] == ["always"]
    assert service["RestartSec"] == ["5s"]
    assert section["StartLimitIntervalSec"] == ["0"]
    assert service["ExecStart"] == [
        "/opt/station/releases/current/bin/station run --config /etc/station/station.toml"
    ]
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]


def test_daemon_unit_runs_unprivileged_with_only_its_devices() -> None:
    service = parse_unit(DEPLOY / "systemd/station.service")["Service"]

    assert service["User"] == ["station"]
    assert service["SupplementaryGroups"] == ["dialout gpio station-kiosk"]
    assert service["ProtectSystem"] == ["strict"]
    assert service["ReadWritePaths"] == ["/var/lib/station"]
    assert service["StateDirectory"] == ["station"]
    for setting in ("PrivateTmp", "NoNewPrivileges", "ProtectHome"):
        assert service[setting] == ["yes"], setting
    assert service["DevicePolicy"] == ["closed"]
    allowed = {line.split()[0] for line in service["DeviceAllow"]}
    assert {"char-ttyUSB", "char-ttyACM", "char-ttyAMA", "char-gpiochip"} <= allowed
    assert "PrivateDevices" not in service


def test_kiosk_unit_runs_the_ui_in_foot_in_cage_after_the_daemon() -> None:
    unit = parse_unit(DEPLOY / "systemd/station-kiosk.service")
    section, service = unit["Unit"], unit["Service"]

    assert "station.service" in " ".join(section["After"]).split()
    assert "station.service" in " ".join(section["Wants"]).split()
    assert section["Conflicts"] == ["getty@tty1.service"]
    (exec_start,) = service["ExecStart"]
    cage, foot, ui = exec_start.split(" -- ")
    assert cage == "/usr/bin/cage -d"
    assert foot == "/usr/bin/foot --config=/etc/station/kiosk/foot.ini"
    assert ui == "/opt/station/releases/current/bin/station ui --config /etc/station/station.toml"
    assert service["User"] == ["station-kiosk"]
    assert service["PAMName"] == ["station-kiosk"]
    assert service["TTYPath"] == ["/dev/tty1"]
    assert service["Restart"] == ["always"]
    assert "Environment" in service and "XCURSOR_THEME=station-blank" in service["Environment"]


def test_update_unit_runs_station_update_as_root_from_the_current_release() -> None:
    unit = parse_unit(DEPLOY / "systemd/station-update.service")
    timer = parse_unit(DEPLOY / "systemd/station-update.timer")
    service = unit["Service"]

    assert service["Type"] == ["oneshot"]
    assert service["ExecStart"] == [
        "/opt/station/releases/current/bin/station update --config /etc/station/station.toml"
        " --root /opt/station/releases"
    ]
    assert "User" not in service  # root: the daemon's user must not change its own code
    assert service["ReadWritePaths"] == ["/opt/station/releases"]
    assert timer["Timer"]["OnUnitActiveSec"] == ["1h"]
    assert timer["Install"]["WantedBy"] == ["timers.target"]


def test_touch_bridge_is_started_by_udev_and_bound_to_the_touchscreen() -> None:
    unit = parse_unit(DEPLOY / "systemd/station-touch.service")
    rules = (DEPLOY / "udev/99-station.rules").read_text(encoding="utf-8")

    assert unit["Unit"]["BindsTo"] == ["dev-input-station\\x2dtouch.device"]
    assert "Install" not in unit
    assert 'ENV{SYSTEMD_WANTS}+="station-touch.service"' in rules
    assert 'SYMLINK+="input/station-touch"' in rules
    assert unit["Service"]["ExecStart"] == [
        "/usr/bin/python3 /opt/station/libexec/touchpointer.py $TOUCH_ARGS /dev/input/station-touch"
    ]


def test_central_unit_runs_the_central_server() -> None:
    unit = parse_unit(DEPLOY / "systemd/station-central.service")

    assert unit["Service"]["ExecStart"] == [
        "/opt/station/venv/bin/station central serve --host 127.0.0.1 --port 8480"
        " --setting backup_dir=/var/lib/station-central/backups"
    ]
    assert unit["Service"]["EnvironmentFile"] == ["-/etc/station/central.env"]
    assert unit["Service"]["User"] == ["station-central"]
    assert unit["Service"]["Restart"] == ["always"]
    assert unit["Unit"]["StartLimitIntervalSec"] == ["0"]
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]
