"""install.sh as on a real Pi: inside a fresh Debian bookworm made with debootstrap.

This is the closest a container gets to a fresh SD card: install.sh runs with no --root, no
--no-apt, installs the Debian packages with apt, creates the users with the target's own
systemd-sysusers, pip-installs the project into the target's Python and enables the units with
the target's systemctl. Then it runs again and must change nothing, systemd-analyze verifies
the installed units against the target's own unit set, and the installed `station` command
starts with the target's Python.

It needs root, debootstrap and the Debian and Python package registries, and takes about two
minutes and 800 MB, so it runs only when asked: STATION_DEBOOTSTRAP_TEST=1. Without it, the
same script is still installed for real into a throwaway root by test_install.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import UNITS, need, need_root

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("STATION_DEBOOTSTRAP_TEST") != "1",
        reason="opt-in (about 2 minutes, network): set STATION_DEBOOTSTRAP_TEST=1",
    ),
]


def sh(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def bookworm(checkout: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    need_root("debootstrap, chroot and mounts")
    debootstrap = need("debootstrap", "debootstrap")
    target = tmp_path_factory.mktemp("bookworm")
    made = sh(
        debootstrap,
        "--variant=minbase",
        "--include=python3,systemd,ca-certificates",
        "bookworm",
        str(target),
    )
    assert made.returncode == 0, made.stdout[-2000:] + made.stderr[-2000:]
    shutil.copytree(checkout, target / "src", symlinks=True)
    # Name resolution and the host's trust store (a proxy's CA, where there is one).
    for name in ("etc/resolv.conf", "etc/ssl/certs/ca-certificates.crt"):
        shutil.copy2(Path("/") / name, target / name)
    policy = target / "usr/sbin/policy-rc.d"  # a chroot must not start services
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    mounts = [("proc", target / "proc"), ("sysfs", target / "sys")]
    for fstype, where in mounts:
        assert sh("mount", "-t", fstype, fstype, str(where)).returncode == 0
    assert sh("mount", "--bind", "/dev", str(target / "dev")).returncode == 0
    try:
        yield target
    finally:
        for where in (target / "dev", target / "sys", target / "proc"):
            sh("umount", "--lazy", str(where))
        shutil.rmtree(target, ignore_errors=True)


def in_target(target: Path, *command: str) -> subprocess.CompletedProcess[str]:
    return sh("chroot", str(target), *command)


def test_install_in_a_fresh_bookworm_then_again_changes_nothing(bookworm: Path) -> None:
    first = in_target(bookworm, "bash", "/src/deploy/install.sh")
    second = in_target(bookworm, "bash", "/src/deploy/install.sh")

    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "changed: install python3-venv" in first.stdout
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert second.stdout.strip().endswith("install.sh: nothing changed")

    for unit in UNITS:
        verified = sh("systemd-analyze", "verify", "--man=no", f"--root={bookworm}", unit)
        assert verified.returncode == 0 and verified.stderr == "", (unit, verified.stderr)
    enabled = in_target(bookworm, "systemctl", "is-enabled", "station.service")
    assert enabled.stdout.strip() == "enabled"
    getty = in_target(bookworm, "systemctl", "is-enabled", "getty@tty1.service")
    assert getty.stdout.strip() != "enabled"
    station = in_target(bookworm, "/opt/station/venv/bin/station", "--help")
    assert station.returncode == 0, station.stderr
    for tool in ("/usr/bin/cage", "/usr/bin/foot"):
        assert (bookworm / tool.lstrip("/")).exists(), tool
