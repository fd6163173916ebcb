"""deploy/install.sh: the dry-run plan, a real install into a throwaway root, idempotency."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from .conftest import DEPLOY, STEPS, InstallRuns, need, run_install, snapshot

EXPECTED_PATHS = (
    "/etc/sysusers.d/station.conf",
    "/opt/station/venv",
    "/opt/station/libexec/touchpointer.py",
    "/usr/local/bin/station",
    "/opt/station/share/icons/station-blank/cursors/blank",
    "/etc/pam.d/station-kiosk",
    "/etc/modules-load.d/station.conf",
    "/etc/station/station.toml",
    "/etc/station/secrets/",
    "/etc/station/kiosk.token",
    "/etc/station/secrets/technician.token",
    "/etc/station/kiosk/foot.ini",
    "/var/lib/station/",
    "/var/lib/station-kiosk/",
    "/etc/udev/rules.d/99-station.rules",
    "/etc/systemd/journald.conf.d/station.conf",
    "/etc/systemd/system/station.service",
    "/etc/systemd/system/station-kiosk.service",
    "/etc/systemd/system/station-touch.service",
    "/etc/systemd/system/station-backup.service",
    "/etc/systemd/system/station-backup.timer",
    "/etc/systemd/system/station-update.service",
    "/etc/systemd/system/station-update.timer",
    "/opt/station/releases/current",
)


def step_headers(output: str) -> list[str]:
    return re.findall(r"^==> (\w+):", output, flags=re.MULTILINE)


def test_dry_run_into_an_empty_root_prints_every_step_and_writes_nothing(
    checkout: Path, tmp_path: Path
) -> None:
    result = run_install(checkout, "--dry-run", "--root", str(tmp_path))

    assert result.returncode == 0, result.stderr
    assert step_headers(result.stdout) == list(STEPS)
    for path in EXPECTED_PATHS:
        assert re.search(rf"^    would .*{re.escape(path)}", result.stdout, re.MULTILINE), path
    assert "would create user station, user station-kiosk" in result.stdout
    assert "would pip install the project" in result.stdout
    assert "would enable station.service" in result.stdout
    assert "would enable station-kiosk.service" in result.stdout
    assert "would enable station-backup.timer" in result.stdout
    assert "would enable station-backup.service" not in result.stdout
    assert "would enable station-update.timer" in result.stdout
    assert "would enable station-update.service" not in result.stdout
    assert "unchanged: getty@tty1.service not enabled" in result.stdout
    assert not re.search(r"^    changed:", result.stdout, re.M)
    assert re.search(r"dry run: \d+ change\(s\) would be made$", result.stdout.strip())
    assert list(tmp_path.iterdir()) == []


def test_dry_run_on_this_machine_plans_the_debian_packages_and_writes_nothing(
    checkout: Path,
) -> None:
    need("dpkg-query", "dpkg")
    need("apt-cache", "apt")
    watched = [Path(p) for p in ("/opt/station", "/etc/station", "/etc/sysusers.d/station.conf")]
    absent_before = [p for p in watched if not p.exists()]

    result = run_install(checkout, "--dry-run")

    assert result.returncode == 0, result.stderr
    assert step_headers(result.stdout) == list(STEPS)
    packages = result.stdout.split("==> users")[0]
    wanted = re.search(r"^    wanted: (.*)$", packages, re.M)
    assert wanted
    for package in (
        "python3-venv",
        "cage",
        "foot",
        "fonts-noto-cjk",
        "libpam-systemd",
        "udev",
        "python3-evdev",
    ):
        assert package in wanted.group(1).split()
    assert re.search(
        r"^    (would install [a-z0-9 .+-]+|unchanged: all installed)$", packages, re.M
    )
    assert not re.search(r"^    changed:", result.stdout, re.M)
    assert [p for p in absent_before if p.exists()] == []


def test_dry_run_for_the_central_server_plans_only_its_parts(
    checkout: Path, tmp_path: Path
) -> None:
    result = run_install(checkout, "--dry-run", "--role", "central", "--root", str(tmp_path))

    assert result.returncode == 0, result.stderr
    assert "would install /etc/systemd/system/station-central.service" in result.stdout
    assert "would enable station-central.service" in result.stdout
    assert "would create user station-central" in result.stdout
    assert "would create /etc/station/central.env from deploy/central/central.env" in result.stdout
    for station_only in ("station-kiosk", "99-station.rules", "touchpointer", "station.toml"):
        assert station_only not in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_bad_options_are_refused_with_the_reason(checkout: Path, tmp_path: Path) -> None:
    unknown = run_install(checkout, "--frobnicate")
    bad_role = run_install(checkout, "--dry-run", "--role", "kiosk")
    no_root = run_install(checkout, "--dry-run", "--root", str(tmp_path / "missing"))

    assert unknown.returncode != 0 and "unknown option: --frobnicate" in unknown.stderr
    assert bad_role.returncode != 0 and "--role must be station or central" in bad_role.stderr
    assert no_root.returncode != 0 and "no such directory" in no_root.stderr


@pytest.mark.slow
def test_first_install_lays_out_a_complete_station(
    install_runs: InstallRuns, checkout: Path
) -> None:
    root = install_runs.root
    out = install_runs.first.stdout

    assert step_headers(out) == list(STEPS)
    assert "skipped (--no-apt or --root)" in out
    passwd = {line.split(":")[0]: line.split(":") for line in (root / "etc/passwd").open()}
    groups = {
        line.split(":")[0]: line.strip().split(":")[3].split(",")
        for line in (root / "etc/group").open()
    }
    assert {"station", "station-kiosk"} <= passwd.keys()
    assert passwd["station"][5] == "/var/lib/station"
    assert "station" in groups["dialout"] and "station" in groups["gpio"]
    # The kiosk is not in the daemon's group; the daemon reads what the kiosk reads.
    assert "station-kiosk" not in groups["station"]
    assert "station" in groups["station-kiosk"]

    station = root / "opt/station/venv/bin/station"
    assert station.is_file() and station.stat().st_mode & stat.S_IXUSR
    assert (root / "opt/station/venv/.station-source-sha256").read_text().strip()
    assert (root / "usr/local/bin/station").readlink() == Path("/opt/station/venv/bin/station")
    site = next((root / "opt/station/venv/lib").glob("python3*/site-packages"))
    installed = {p.name.split("-")[0].lower() for p in site.glob("*.dist-info")}
    assert "gongxiang_yizhan" in installed and "fastapi" in installed
    assert installed.isdisjoint({"psycopg", "psycopg_binary", "plotly", "textual_serve"})

    config = root / "etc/station/station.toml"
    example = checkout / "deploy/station.example.toml"
    # The example, with each inline secret moved to its own file (deploy/split-secrets.py).
    installed_lines = install_runs.config_after_first.decode().splitlines()
    example_lines = example.read_text().splitlines()
    moved = [b for a, b in zip(example_lines, installed_lines, strict=True) if a != b]
    assert moved == [
        'token_file = "/etc/station/kiosk.token"',
        'token_file = "/etc/station/secrets/technician.token"',
        'token_file = "/etc/station/secrets/central-office.token"',
        'phone_hash_key_file = "/etc/station/secrets/phone_hash_key"',
    ]
    kiosk_gid = int(passwd["station-kiosk"][3])
    assert stat.S_IMODE(config.stat().st_mode) == 0o640
    assert config.stat().st_gid == kiosk_gid
    secrets_dir = root / "etc/station/secrets"
    assert stat.S_IMODE(secrets_dir.stat().st_mode) == 0o750
    assert secrets_dir.stat().st_gid == int(passwd["station"][3])
    for name in ("technician.token", "central-office.token", "phone_hash_key"):
        st = (secrets_dir / name).stat()
        assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (
            0,
            int(passwd["station"][3]),
            0o640,
        ), name
    kiosk_token = root / "etc/station/kiosk.token"
    st = kiosk_token.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (0, kiosk_gid, 0o640)
    assert "CHANGE-ME" not in kiosk_token.read_text()
    assert "CHANGE-ME" not in (secrets_dir / "technician.token").read_text()
    data = (root / "var/lib/station").stat()
    assert stat.S_IMODE(data.st_mode) == 0o700
    assert (data.st_uid, data.st_gid) == (int(passwd["station"][2]), int(passwd["station"][3]))

    for unit in ("station.service", "station-kiosk.service", "station-touch.service"):
        installed = root / "etc/systemd/system" / unit
        assert installed.read_bytes() == (DEPLOY / "systemd" / unit).read_bytes()
    wants = root / "etc/systemd/system/multi-user.target.wants"
    assert sorted(p.name for p in wants.iterdir()) == ["station-kiosk.service", "station.service"]
    timers = root / "etc/systemd/system/timers.target.wants"
    assert sorted(p.name for p in timers.iterdir()) == [
        "station-backup.timer",
        "station-update.timer",
    ]
    # The units start what `current` points at: this checkout's venv until the first update.
    assert (root / "opt/station/releases/current").readlink() == Path("../venv")
    cursors = root / "opt/station/share/icons/station-blank/cursors"
    assert (cursors / "left_ptr").readlink() == Path("blank")
    assert (cursors / "xterm").resolve() == (cursors / "blank").resolve()


@pytest.mark.slow
def test_second_install_changes_nothing(install_runs: InstallRuns) -> None:
    second = install_runs.second

    assert second.returncode == 0, second.stdout + second.stderr
    assert not re.search(r"^    (changed|would)", second.stdout, re.M)
    assert second.stdout.strip().endswith("install.sh: nothing changed")
    assert "unchanged: project installed from this checkout" in second.stdout
    assert install_runs.after_second == install_runs.after_first


@pytest.mark.slow
def test_install_keeps_edited_config_and_repairs_what_was_tampered_with(
    install_runs: InstallRuns,
) -> None:
    root = install_runs.root
    out = install_runs.tampered.stdout

    assert install_runs.tampered.returncode == 0, out + install_runs.tampered.stderr
    changed = re.findall(r"^    changed: (.*)$", out, re.MULTILINE)
    assert changed == [
        "create or fix /var/lib/station/ (mode 700, station:station)",
        "install /etc/udev/rules.d/99-station.rules (mode 644, root:root)",
        "install /etc/systemd/system/station.service (mode 644, root:root)",
        "disable getty@tty1.service (tty1 is the kiosk's screen)",
    ]
    assert "unchanged: /etc/station/station.toml (exists; never overwritten)" in out
    assert "re-enable station.service (its file changed)" in out
    config = (root / "etc/station/station.toml").read_text(encoding="utf-8")
    assert config == install_runs.edited_config
    assert stat.S_IMODE((root / "var/lib/station").stat().st_mode) == 0o700
    assert (root / "etc/systemd/system/station.service").read_bytes() == (
        DEPLOY / "systemd/station.service"
    ).read_bytes()
    assert not list(root.glob("etc/systemd/system/*.wants/getty@tty1.service"))
    assert install_runs.after_tampered.stdout.strip().endswith("install.sh: nothing changed")


@pytest.mark.slow
def test_dry_run_after_an_install_plans_nothing(install_runs: InstallRuns, checkout: Path) -> None:
    before = snapshot(install_runs.root)

    result = run_install(checkout, "--dry-run", "--root", str(install_runs.root))

    assert result.returncode == 0, result.stderr
    assert "would" not in result.stdout
    assert result.stdout.strip().endswith("install.sh: nothing changed")
    assert snapshot(install_runs.root) == before
