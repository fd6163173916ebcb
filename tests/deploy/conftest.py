"""Fixtures for the deployment tests: a private copy of the checkout and a throwaway root.

The install tests run deploy/install.sh for real (system users, a virtual environment with the
project pip-installed, config, units enabled with `systemctl --root`) into a temporary
directory instead of /. They run it from a copy of the checkout so that other work going on in
the tree cannot change the source between two runs and make the idempotency check flaky.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
UNITS = (
    "station.service",
    "station-kiosk.service",
    "station-touch.service",
    "station-backup.service",
    "station-update.service",
)
CENTRAL_UNITS = ("station-central.service",)
STEPS = (
    "packages",
    "users",
    "venv",
    "files",
    "config",
    "data",
    "udev",
    "journald",
    "units",
    "enable",
)
PROJECT_ITEMS = (
    "pyproject.toml",
    "README.md",
    "LICENSE",
    "station",
    "drivers",
    "ui",
    "central",
    "wire",
    "launcher",
    "deploy",
)


def need(binary: str, package: str) -> str:
    """The path of a tool the test drives, or a skip naming the Debian package to install."""
    path = shutil.which(binary)
    if path is None:
        pytest.skip(f"{binary} is not installed (Debian package {package})")
    return path


def need_root(why: str) -> None:
    if os.geteuid() != 0:
        pytest.skip(f"needs root: {why}")


def run_install(checkout: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(checkout / "deploy" / "install.sh"), *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


Snapshot = dict[str, tuple[int, int, int, int, int, int, str]]


def snapshot(root: Path) -> Snapshot:
    """Everything about every path under root that a write, chmod or chown would change."""
    out: Snapshot = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            st = path.lstat()
            link = os.readlink(path) if path.is_symlink() else ""
            out[str(path.relative_to(root))] = (
                st.st_mode,
                st.st_uid,
                st.st_gid,
                st.st_size,
                st.st_mtime_ns,
                st.st_ctime_ns,
                link,
            )
    return out


@pytest.fixture(scope="session")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A frozen copy of the project files install.sh needs."""
    dest = tmp_path_factory.mktemp("checkout")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".pytest_cache")
    for item in PROJECT_ITEMS:
        src = REPO / item
        if src.is_dir():
            shutil.copytree(src, dest / item, ignore=ignore, symlinks=True)
        elif src.exists():
            shutil.copy2(src, dest / item)
    return dest


@dataclass(frozen=True)
class InstallRuns:
    root: Path
    first: subprocess.CompletedProcess[str]
    second: subprocess.CompletedProcess[str]
    after_first: Snapshot
    config_after_first: bytes
    after_second: Snapshot
    tampered: subprocess.CompletedProcess[str]
    after_tampered: subprocess.CompletedProcess[str]
    edited_config: str


@pytest.fixture(scope="session")
def install_runs(checkout: Path, tmp_path_factory: pytest.TempPathFactory) -> InstallRuns:
    """install.sh into a throwaway root: twice, then once more after a technician's edits.

    Between the third and second runs: the config is edited (must survive), a unit file is
    changed (must be put back), the data directory's mode is loosened (must be fixed), the
    udev rules are deleted (must come back) and a login prompt is enabled on the kiosk's tty1
    (must be disabled). A fourth run must again change nothing.
    """
    need_root("install.sh sets owners of the files it installs")
    need("systemd-sysusers", "systemd")
    need("systemctl", "systemd")
    root = tmp_path_factory.mktemp("root")
    first = run_install(checkout, "--root", str(root))
    assert first.returncode == 0, first.stdout + first.stderr
    after_first = snapshot(root)
    config_after_first = (root / "etc/station/station.toml").read_bytes()
    second = run_install(checkout, "--root", str(root))
    after_second = snapshot(root)

    config = root / "etc/station/station.toml"
    edited = config.read_text(encoding="utf-8") + "\n# edited on site by a technician\n"
    config.write_text(edited, encoding="utf-8")
    unit = root / "etc/systemd/system/station.service"
    unit.write_text(unit.read_text() + "\n# local edit\n")
    (root / "var/lib/station").chmod(0o755)
    (root / "etc/udev/rules.d/99-station.rules").unlink()
    getty = root / "usr/lib/systemd/system/getty@.service"
    getty.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(Path("/lib/systemd/system/getty@.service"), getty)
    enabled = subprocess.run(
        ["systemctl", f"--root={root}", "enable", "getty@tty1.service"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert enabled.returncode == 0, enabled.stderr
    tampered = run_install(checkout, "--root", str(root))
    after_tampered = run_install(checkout, "--root", str(root))
    return InstallRuns(
        root,
        first,
        second,
        after_first,
        config_after_first,
        after_second,
        tampered,
        after_tampered,
        edited,
    )


INSTALL_TIMEOUT_S = 900
"""install.sh runs four times (a venv and pip each) in the first test that asks for
`install_runs`: minutes on a loaded 2-core CI machine, far over the default per-test limit."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "install_runs" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.timeout(INSTALL_TIMEOUT_S))
