"""The other files deploy/ ships, each checked by the tool that will read it on the Pi."""

from __future__ import annotations

import ctypes
import ctypes.util
import re
import subprocess
from pathlib import Path

import pytest

from .conftest import DEPLOY, InstallRuns, need, need_root

RULES = DEPLOY / "udev/99-station.rules"
# Groups our sysusers.d file creates, which a development machine may not have yet.
STATION_GROUPS = ("gpio", "dialout")


def shell_scripts() -> list[Path]:
    scripts = []
    for path in sorted(DEPLOY.rglob("*")):
        if not path.is_file():
            continue
        with path.open("rb") as f:
            first = f.readline()
        if path.suffix == ".sh" or re.match(rb"#!\s*/(usr/)?bin/(env )?(ba)?sh", first):
            scripts.append(path)
    return scripts


def test_there_are_shell_scripts_to_check() -> None:
    assert DEPLOY / "install.sh" in shell_scripts()


@pytest.mark.parametrize("script", shell_scripts(), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_shellcheck_passes(script: Path) -> None:
    shellcheck = need("shellcheck", "shellcheck")
    result = subprocess.run(
        [shellcheck, "--severity=style", "--external-sources", str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout


def udevadm_test(rules_dir: Path) -> str:
    """Parse rules_dir as /etc/udev/rules.d with udevadm, in a private mount namespace.

    udevadm reads rules only from the system's directories, so the directory is bind-mounted
    over /etc/udev/rules.d where only this command sees it.
    """
    need_root("a private mount namespace to show udevadm the rules")
    udevadm = need("udevadm", "udev")
    unshare = need("unshare", "util-linux")
    device = next(
        (
            p
            for p in ("/sys/class/tty/ptmx", "/sys/class/tty/tty", "/sys/class/mem/null")
            if Path(p).exists()
        ),
        None,
    )
    if device is None:
        pytest.skip("no /sys device for udevadm test to evaluate rules against")
    script = f'mount --bind "{rules_dir}" /etc/udev/rules.d && exec "{udevadm}" test "{device}"'
    result = subprocess.run(
        [unshare, "--mount", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Reading rules file: /etc/udev/rules.d/" in result.stdout + result.stderr, result.stderr
    return result.stdout + result.stderr


def rule_complaints(output: str, name: str) -> list[str]:
    complaints = re.findall(rf"^/etc/udev/rules\.d/{re.escape(name)}:\d+ (.*)$", output, re.M)
    return [
        c
        for c in complaints
        if not any(c == f"Unknown group '{g}', ignoring" for g in STATION_GROUPS)
    ]


def test_udev_accepts_the_rules(tmp_path: Path) -> None:
    (tmp_path / RULES.name).write_bytes(RULES.read_bytes())

    output = udevadm_test(tmp_path)

    assert f"Reading rules file: /etc/udev/rules.d/{RULES.name}" in output
    assert rule_complaints(output, RULES.name) == []


def test_udev_check_reports_a_mistake(tmp_path: Path) -> None:
    """The check above can fail: a misspelt key in a copy of the rules is reported."""
    broken = RULES.read_text().replace('SYMLINK+="station-radar"', 'SYMLNK+="station-radar"')
    (tmp_path / RULES.name).write_text(broken)

    output = udevadm_test(tmp_path)

    assert any("SYMLNK" in c for c in rule_complaints(output, RULES.name))


def test_udev_rules_name_the_devices_the_config_uses() -> None:
    rules = [line for line in RULES.read_text().splitlines() if line and not line.startswith("#")]
    locks = [r for r in rules if 'SYMLINK+="station-locks"' in r]
    radar = [r for r in rules if 'SYMLINK+="station-radar"' in r]

    assert locks and radar
    usb_id = re.compile(r'ATTRS\{idVendor\}=="([0-9a-f]{4})", ATTRS\{idProduct\}=="([0-9a-f]{4})"')
    ids: dict[str, set[tuple[str, ...]]] = {"locks": set(), "radar": set()}
    for name, found in (("locks", locks), ("radar", radar)):
        for rule in found:
            assert 'SUBSYSTEM=="tty"' in rule
            match = usb_id.search(rule)
            assert match, rule
            ids[name].add(match.groups())
    assert not ids["locks"] & ids["radar"], "one adapter type cannot be both locks and radar"
    assert "udevadm info" in RULES.read_text()


def test_foot_accepts_the_kiosk_config() -> None:
    foot = need("foot", "foot")
    result = subprocess.run(
        [foot, "--check-config", f"--config={DEPLOY / 'kiosk/foot.ini'}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert " err:" not in result.stderr and "warn:" not in result.stderr
    ini = (DEPLOY / "kiosk/foot.ini").read_text()
    assert re.search(r"^font=Noto Sans Mono CJK SC:pixelsize=\d+$", ini, re.M)


def test_bookworm_cage_and_foot_take_the_options_the_kiosk_unit_gives() -> None:
    cage = need("cage", "cage")
    foot = need("foot", "foot")
    cage_help = subprocess.run([cage, "-h"], capture_output=True, text=True, check=False)
    foot_help = subprocess.run([foot, "--help"], capture_output=True, text=True, check=False)

    assert re.search(r"^ -d\s", cage_help.stdout + cage_help.stderr, re.M)
    assert "--config=PATH" in foot_help.stdout


def load_cursor(path: Path) -> tuple[int, int, list[int]]:
    """Read an Xcursor file with libXcursor, the library the cursor theme is written for."""
    name = ctypes.util.find_library("Xcursor")
    if name is None:
        pytest.skip("libXcursor is not installed (Debian package libxcursor1)")
    lib = ctypes.CDLL(name)

    class XcursorImage(ctypes.Structure):
        _fields_ = [
            ("version", ctypes.c_uint),
            ("size", ctypes.c_uint),
            ("width", ctypes.c_uint),
            ("height", ctypes.c_uint),
            ("xhot", ctypes.c_uint),
            ("yhot", ctypes.c_uint),
            ("delay", ctypes.c_uint),
            ("pixels", ctypes.POINTER(ctypes.c_uint32)),
        ]

    lib.XcursorFilenameLoadImage.restype = ctypes.POINTER(XcursorImage)
    lib.XcursorFilenameLoadImage.argtypes = [ctypes.c_char_p, ctypes.c_int]
    lib.XcursorImageDestroy.argtypes = [ctypes.POINTER(XcursorImage)]
    image = lib.XcursorFilenameLoadImage(str(path).encode(), 24)
    assert image, f"libXcursor cannot load {path}"
    try:
        w, h = image.contents.width, image.contents.height
        return w, h, [image.contents.pixels[i] for i in range(w * h)]
    finally:
        lib.XcursorImageDestroy(image)


def test_blank_cursor_is_a_valid_fully_transparent_xcursor() -> None:
    width, height, pixels = load_cursor(DEPLOY / "kiosk/cursors/blank")

    assert (width, height) == (1, 1)
    assert all(p >> 24 == 0 for p in pixels)


@pytest.mark.slow
def test_installed_cursor_names_all_load_the_blank_image(install_runs: InstallRuns) -> None:
    cursors = install_runs.root / "opt/station/share/icons/station-blank/cursors"
    for name in ("left_ptr", "xterm", "text", "default"):
        assert load_cursor(cursors / name)[:2] == (1, 1), name


def conf_keys(path: Path) -> dict[str, str]:
    return dict(
        line.split("=", 1)
        for line in path.read_text().splitlines()
        if line and not line.startswith(("#", "["))
    )


def test_journald_limits_use_keys_journald_knows() -> None:
    """Every key is one that this systemd's own journald.conf documents."""
    reference = Path("/etc/systemd/journald.conf")
    if not reference.exists():
        pytest.skip("no /etc/systemd/journald.conf (Debian package systemd)")
    known = set(re.findall(r"^#?(\w+)=", reference.read_text(), re.M))
    ours = conf_keys(DEPLOY / "journald/station.conf")

    assert set(ours) <= known, set(ours) - known
    assert ours["SystemMaxUse"] == "200M"
    assert ours["SystemKeepFree"] == "500M"
    assert ours["RuntimeMaxUse"] == "32M"


def test_sysusers_config_is_accepted_by_systemd_sysusers(tmp_path: Path) -> None:
    sysusers = need("systemd-sysusers", "systemd")
    (tmp_path / "etc/sysusers.d").mkdir(parents=True)
    for conf in ("station.conf", "station-central.conf"):
        (tmp_path / "etc/sysusers.d" / conf).write_bytes((DEPLOY / "sysusers" / conf).read_bytes())
        result = subprocess.run(
            [sysusers, "--dry-run", f"--root={tmp_path}", conf],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert "Creating user" in result.stderr + result.stdout
