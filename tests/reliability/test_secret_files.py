"""Finding 9 of issue 18: the kiosk user reads its own token and no other secret.

Through the real config loader, `station check-config`, `station doctor`'s secret-files check
and deploy/split-secrets.py, with real files, modes and owners (the tests run as root, so they
chown to the numeric ids of a passwd and group file written for the test: the check reads the
target's own /etc, as it does on a mounted SD card).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest
import tomli_w

from launcher.main import main
from station.config import ConfigError, load_config
from station.ops.doctor import DoctorOptions, check_secret_files
from ui.settings import connection_of

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "deploy" / "station.example.toml"
SPLIT = REPO / "deploy" / "split-secrets.py"

KIOSK = "kQ7mZ2pX9rTc4WvB1nYe3s"
STAFF = "sT8nH3kL5qP1wE0rY6uI2o"
CENTRAL = "cV4bN7mQ2xZ9aS1dF6gH0j"
PHONE_KEY = "pK3jH8gF1dS6aQ0wE5rT2yU7iO4pL9zX"
SECRETS = (KIOSK, STAFF, CENTRAL, PHONE_KEY)

DAEMON_UID, DAEMON_GID, KIOSK_UID, KIOSK_GID = 64990, 64990, 64991, 64991


def fake_etc(root: Path, *, kiosk_in_station: bool = False) -> Path:
    etc = root / "etc"
    etc.mkdir(parents=True, exist_ok=True)
    (etc / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/bash\n"
        f"station:x:{DAEMON_UID}:{DAEMON_GID}::/var/lib/station:/usr/sbin/nologin\n"
        f"station-kiosk:x:{KIOSK_UID}:{KIOSK_GID}::/var/lib/station-kiosk:/usr/sbin/nologin\n"
    )
    (etc / "group").write_text(
        "root:x:0:\n"
        f"station:x:{DAEMON_GID}:{'station-kiosk' if kiosk_in_station else ''}\n"
        f"station-kiosk:x:{KIOSK_GID}:station\n"
    )
    return etc


def secret_file(path: Path, value: str, gid: int, mode: int = 0o640) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(value + "\n")
    os.chown(path, 0, gid)
    path.chmod(mode)
    return path


def split_station(tmp_path: Path) -> tuple[Path, Path]:
    """The example config with its secrets in files, laid out as install.sh lays it out."""
    conf = tmp_path / "conf"
    data = tomllib.loads(EXAMPLE.read_text())
    data["station"]["data_dir"] = str(tmp_path / "data")
    (tmp_path / "data").mkdir()
    values = {"kiosk": KIOSK, "staff": STAFF, "central": CENTRAL}
    for entry in data["api"]["tokens"]:
        del entry["token"]
        role = entry["role"]
        if role == "kiosk":
            entry["token_file"] = str(secret_file(conf / "kiosk.token", KIOSK, KIOSK_GID))
        else:
            path = secret_file(conf / "secrets" / f"{role}.token", values[role], DAEMON_GID)
            entry["token_file"] = str(path)
    del data["people"]["phone_hash_key"]
    key = secret_file(conf / "secrets" / "phone_hash_key", PHONE_KEY, DAEMON_GID)
    data["people"]["phone_hash_key_file"] = str(key)
    config = conf / "station.toml"
    config.write_text(tomli_w.dumps(data))
    os.chown(config, 0, KIOSK_GID)
    config.chmod(0o640)
    return config, fake_etc(tmp_path)


def test_the_daemon_reads_every_secret_from_its_file_and_the_kiosk_only_its_own(
    tmp_path: Path,
) -> None:
    config_path, _ = split_station(tmp_path)
    assert not any(s in config_path.read_text() for s in SECRETS)

    daemon = load_config(config_path)
    assert [t.token for t in daemon.api.tokens] == [KIOSK, STAFF, CENTRAL]
    assert daemon.people.phone_hash_key == PHONE_KEY

    # The touchscreen never opens the daemon's files: with them gone it still starts.
    shutil.rmtree(config_path.parent / "secrets")
    kiosk = load_config(config_path, kiosk=True)
    assert [(t.role, t.token) for t in kiosk.api.tokens] == [("kiosk", KIOSK)]
    assert kiosk.people.phone_hash_key is None
    assert connection_of(kiosk).token == KIOSK
    with pytest.raises(ConfigError, match=r"api\.tokens\[1\]\.token_file = .*: no such file"):
        load_config(config_path)


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("missing", "no such file"),
        ("empty", "the file is empty"),
        ("world-readable", r"too open \(mode 0644: every user on this machine can read it"),
        ("group-writable", r"too open \(mode 0660: others may write it"),
        ("two lines", "more than one line"),
        ("a directory", "not a regular file"),
    ],
)
def test_a_bad_secret_file_is_refused_naming_key_and_file_never_the_secret(
    tmp_path: Path, damage: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path, _ = split_station(tmp_path)
    key = config_path.parent / "secrets" / "phone_hash_key"
    if damage == "missing":
        key.unlink()
    elif damage == "empty":
        key.write_text("\n")
    elif damage == "world-readable":
        key.chmod(0o644)
    elif damage == "group-writable":
        key.chmod(0o660)
    elif damage == "two lines":
        key.write_text(f"{PHONE_KEY}\n{PHONE_KEY}\n")
    else:
        key.unlink()
        key.mkdir()

    with pytest.raises(ConfigError) as refused:
        load_config(config_path)
    message = str(refused.value)
    assert f"people.phone_hash_key_file = {key}" in message
    assert re.search(expected, message), message
    with pytest.raises(SystemExit) as stopped:
        main(["check-config", "--config", str(config_path)])
    assert stopped.value.code == 2
    shown = capsys.readouterr()
    assert str(key) in shown.err
    for secret in SECRETS:
        assert secret not in message and secret not in shown.out + shown.err


def test_inline_and_file_together_are_refused(tmp_path: Path) -> None:
    config_path, _ = split_station(tmp_path)
    data = tomllib.loads(config_path.read_text())
    data["people"]["phone_hash_key"] = PHONE_KEY
    config_path.write_text(tomli_w.dumps(data))
    with pytest.raises(ConfigError, match="give either phone_hash_key or phone_hash_key_file"):
        load_config(config_path)


def test_a_user_who_may_not_read_a_secret_is_told_whose_it_is() -> None:
    """The kiosk's user running the daemon's loader: refused, and told to run as the daemon."""
    if os.geteuid() != 0:
        pytest.skip("needs root to run the loader as another user (setpriv)")
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv is not installed (Debian package util-linux)")
    with tempfile.TemporaryDirectory(prefix="secret-files-") as where:
        Path(where).chmod(0o755)  # pytest's own temporary folder is root's alone
        as_another_user(Path(where))


def as_another_user(tmp_path: Path) -> None:
    config_path, _ = split_station(tmp_path)
    for d in (config_path.parent, config_path.parent / "secrets"):
        d.chmod(0o755)
    config_path.chmod(0o644)
    code = "from station.config import load_config; load_config(__import__('sys').argv[1])"
    user = ["setpriv", f"--reuid={KIOSK_UID}", f"--regid={KIOSK_GID}", "--clear-groups"]
    run = subprocess.run(
        [*user, sys.executable, "-c", code, str(config_path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"},
        check=False,
    )
    assert run.returncode != 0
    assert "this user may not read it (it belongs to root:station)" in run.stderr, run.stderr
    assert "sudo -u station" in run.stderr
    for secret in SECRETS:
        assert secret not in run.stderr + run.stdout


def test_doctor_passes_the_installed_layout(tmp_path: Path) -> None:
    config_path, etc = split_station(tmp_path)
    check = check_secret_files(config_path, DoctorOptions(etc=etc))
    assert check.status == "OK", check.detail
    assert "4 secret file(s)" in check.detail


def test_doctor_says_what_to_fix_when_the_kiosk_can_read_a_daemon_secret(tmp_path: Path) -> None:
    config_path, _ = split_station(tmp_path)
    etc = fake_etc(tmp_path, kiosk_in_station=True)
    staff = config_path.parent / "secrets" / "staff.token"
    os.chown(staff, 0, KIOSK_GID)
    kiosk = config_path.parent / "kiosk.token"
    os.chown(kiosk, 0, 0)

    check = check_secret_files(config_path, DoctorOptions(etc=etc))

    assert check.status == "FAIL"
    assert "gpasswd -d station-kiosk station" in check.detail
    assert f"{staff} (mode 0640, group station-kiosk): the kiosk user can read" in check.detail
    assert f"`chown root:station {staff}`" in check.detail
    assert f"{kiosk} (mode 0640, group root): the touchscreen cannot read its token" in check.detail
    for secret in SECRETS:
        assert secret not in check.detail


def test_doctor_refuses_daemon_secrets_inline_in_a_file_the_kiosk_reads(tmp_path: Path) -> None:
    etc = fake_etc(tmp_path)
    config_path = tmp_path / "station.toml"
    config_path.write_text(EXAMPLE.read_text())
    os.chown(config_path, 0, KIOSK_GID)
    config_path.chmod(0o640)

    check = check_secret_files(config_path, DoctorOptions(etc=etc))

    assert check.status == "FAIL"
    assert "api.tokens[1].token, api.tokens[2].token, people.phone_hash_key inline" in check.detail
    assert "run deploy/install.sh again" in check.detail
    assert "CHANGE-ME" not in check.detail


def test_split_secrets_moves_every_inline_secret_out_and_a_second_run_changes_nothing(
    tmp_path: Path,
) -> None:
    """What install.sh runs: the example's placeholders become fresh tokens in their files."""
    etc = fake_etc(tmp_path)
    config = tmp_path / "etc/station/station.toml"
    config.parent.mkdir(parents=True)
    config.write_text(EXAMPLE.read_text())
    os.chown(config, 0, KIOSK_GID)
    config.chmod(0o640)
    args = [sys.executable, str(SPLIT), "--root", str(tmp_path)]
    ids = ["--daemon-gid", str(DAEMON_GID), "--kiosk-gid", str(KIOSK_GID)]

    first = subprocess.run(args + ids, capture_output=True, text=True, check=True)
    second = subprocess.run(args + ids, capture_output=True, text=True, check=True)

    assert first.stdout.splitlines() == [
        "move api.tokens[0].token to /etc/station/kiosk.token "
        "(a new random token replaces the placeholder)",
        "move api.tokens[1].token to /etc/station/secrets/technician.token "
        "(a new random token replaces the placeholder)",
        "move api.tokens[2].token to /etc/station/secrets/central-office.token "
        "(a new random token replaces the placeholder)",
        "move people.phone_hash_key to /etc/station/secrets/phone_hash_key "
        "(the example's placeholder: put the fleet's key there)",
    ]
    assert second.stdout == ""
    text = config.read_text()
    # Comments and every other line are kept; only the four secret lines changed.
    old, new = EXAMPLE.read_text().splitlines(), text.splitlines()
    changed = [(a, b) for a, b in zip(old, new, strict=True) if a != b]
    assert [b for _, b in changed] == [
        'token_file = "/etc/station/kiosk.token"',
        'token_file = "/etc/station/secrets/technician.token"',
        'token_file = "/etc/station/secrets/central-office.token"',
        'phone_hash_key_file = "/etc/station/secrets/phone_hash_key"',
    ]
    assert "CHANGE-ME" not in text
    st = config.stat()
    assert (st.st_gid, st.st_mode & 0o777) == (KIOSK_GID, 0o640)
    for path, gid in (
        ("etc/station/kiosk.token", KIOSK_GID),
        ("etc/station/secrets/technician.token", DAEMON_GID),
        ("etc/station/secrets/phone_hash_key", DAEMON_GID),
    ):
        st = (tmp_path / path).stat()
        assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (0, gid, 0o640), path
    tokens = [(tmp_path / p).read_text().strip() for p in ("etc/station/kiosk.token",)]
    assert len(tokens[0]) >= 32 and tokens[0] not in first.stdout
    # The result loads (paths moved under the test's root) and doctor is content.
    (tmp_path / "etc/station/secrets").chmod(0o750)
    relocated = text.replace('"/etc/station/', f'"{tmp_path}/etc/station/')
    relocated = relocated.replace('"/var/lib/station"', f'"{tmp_path}"')
    config.write_text(relocated)
    loaded = load_config(config)
    assert loaded.api.tokens[0].token == tokens[0]
    assert check_secret_files(config, DoctorOptions(etc=etc)).status == "OK"
