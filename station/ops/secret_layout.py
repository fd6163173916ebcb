"""Who can read the station's secrets: the check behind `station doctor`'s "secret files" line.

The loader already refuses a secret file anyone on the machine may read (station/secret_files.py).
What it cannot see is who the groups hold: a daemon secret in a file of group `station` is
only as safe as that group is small. This check reads the users and groups from the target's
own /etc/passwd and /etc/group (so it works on a mounted SD card as well) and says, for each
file, whether the kiosk user can read it and what to run to fix it. Nothing here prints a
secret: only key names, paths, modes and owners.
"""

from __future__ import annotations

import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path

from station.secret_files import DAEMON_USER, KIOSK_USER, secret_refs


@dataclass(frozen=True, slots=True)
class Accounts:
    """The users and groups of one machine, from its passwd and group files."""

    uids: dict[str, int]
    primary_gid: dict[str, int]
    members: dict[int, set[str]]
    group_names: dict[int, str]

    @classmethod
    def read(cls, etc: Path) -> Accounts:
        uids: dict[str, int] = {}
        primary: dict[str, int] = {}
        members: dict[int, set[str]] = {}
        names: dict[int, str] = {}
        for line in _lines(etc / "passwd"):
            parts = line.split(":")
            if len(parts) >= 4 and parts[2].isdigit() and parts[3].isdigit():
                uids[parts[0]] = int(parts[2])
                primary[parts[0]] = int(parts[3])
        for line in _lines(etc / "group"):
            parts = line.split(":")
            if len(parts) >= 4 and parts[2].isdigit():
                gid = int(parts[2])
                names[gid] = parts[0]
                members.setdefault(gid, set()).update(m for m in parts[3].split(",") if m)
        for user, gid in primary.items():
            members.setdefault(gid, set()).add(user)
        return cls(uids, primary, members, names)

    def can_read(self, user: str, st_uid: int, st_gid: int, mode: int) -> bool:
        """Whether `user` may read a file of this owner and mode (root aside)."""
        if self.uids.get(user) == st_uid:
            return bool(mode & stat.S_IRUSR)
        if user in self.members.get(st_gid, set()):
            return bool(mode & stat.S_IRGRP)
        return bool(mode & stat.S_IROTH)

    def group(self, gid: int) -> str:
        return self.group_names.get(gid, str(gid))


def _lines(path: Path) -> list[str]:
    try:
        return [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    except OSError:
        return []


@dataclass(frozen=True, slots=True)
class Layout:
    problems: list[str]
    """What is wrong, one sentence each with the command that fixes it."""
    files: int
    """How many secret files the config names (and exist)."""
    installed: bool
    """The machine has the kiosk user, so who may read what was checked."""


def layout_problems(config_path: Path, etc: Path = Path("/etc")) -> Layout:
    """What is wrong with who may read the secrets the config at `config_path` names.

    A machine without the kiosk user (a developer's, the demo) has nobody to keep out: only
    the files' own modes are checked then (the loader's rule).
    """
    try:
        data = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return Layout([], 0, installed=False)  # the config check reports it
    accounts = Accounts.read(etc)
    installed = KIOSK_USER in accounts.uids
    problems: list[str] = []
    checked = 0
    if installed and KIOSK_USER in accounts.members.get(
        accounts.primary_gid.get(DAEMON_USER, -1), set()
    ):
        problems.append(
            f"user {KIOSK_USER} is in group {DAEMON_USER}, which reads the daemon's secrets: "
            f"`gpasswd -d {KIOSK_USER} {DAEMON_USER}` (deploy/install.sh does it)"
        )
    config_readable = _kiosk_reads(config_path, accounts) if installed else False
    refs = list(secret_refs(data, config_path.parent))
    # The kiosk's own token may sit in the file the kiosk reads (the demo keeps it inline).
    daemon_inline = [ref.key for ref in refs if ref.file is None and not ref.kiosk]
    if daemon_inline and config_readable:
        problems.append(
            f"{config_path} holds {', '.join(daemon_inline)} inline and the kiosk user can "
            "read it: run deploy/install.sh again (it moves them into /etc/station/secrets/) "
            "or move each into a file named by a `_file` key"
        )
    for ref in refs:
        if ref.file is None:
            continue
        try:
            st = ref.file.stat()
        except OSError:
            continue  # the config check names a missing file
        checked += 1
        mode = stat.S_IMODE(st.st_mode)
        where = f"{ref.key}_file {ref.file} (mode {mode:04o}, group {accounts.group(st.st_gid)})"
        if not installed:
            continue
        readable = accounts.can_read(KIOSK_USER, st.st_uid, st.st_gid, mode)
        if ref.kiosk and not readable:
            problems.append(
                f"{where}: the touchscreen cannot read its token: `chown root:{KIOSK_USER} "
                f"{ref.file}` and `chmod 0640 {ref.file}`"
            )
        elif not ref.kiosk and readable:
            problems.append(
                f"{where}: the kiosk user can read this daemon secret: `chown "
                f"root:{DAEMON_USER} {ref.file}` and `chmod 0640 {ref.file}`"
            )
        daemon_reads = accounts.can_read(DAEMON_USER, st.st_uid, st.st_gid, mode)
        if DAEMON_USER in accounts.uids and not daemon_reads:
            problems.append(
                f"{where}: the daemon's user {DAEMON_USER} cannot read it: `chown "
                f"root:{DAEMON_USER} {ref.file}` and `chmod 0640 {ref.file}`"
            )
    return Layout(problems, checked, installed)


def _kiosk_reads(path: Path, accounts: Accounts) -> bool:
    try:
        st = path.stat()
    except OSError:
        return False
    return accounts.can_read(KIOSK_USER, st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode))
