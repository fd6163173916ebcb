#!/usr/bin/python3
"""Move the secrets written inline in /etc/station/station.toml into files of their own.

Run by deploy/install.sh on every install and update (standard library only: it runs before
and without the station's virtual environment). The kiosk user reads station.toml, so it must
hold no secret: each inline `token` or `phone_hash_key` line becomes a `token_file` or
`phone_hash_key_file` line naming its file, the rest of the file (comments included) is kept
as written. The kiosk's own token goes to /etc/station/kiosk.token (0640 root:station-kiosk),
everything else to /etc/station/secrets/ (0640 root:station). An API token still holding the
example's CHANGE-ME placeholder is replaced by a fresh random one; the fleet-wide
phone_hash_key cannot be made up here and is moved as it is (`station doctor` flags a
placeholder). Prints one line per secret moved and nothing when there is nothing to do; never
prints a secret. A second run changes nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONFIG = "/etc/station/station.toml"
KIOSK_DIR = "/etc/station"
SECRETS_DIR = "/etc/station/secrets"

HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-]+)\s*\]\]?\s*(#.*)?$")
SECRET_LINE = re.compile(
    r"""^(?P<indent>\s*)(?P<key>token|phone_hash_key)(?P<eq>\s*=\s*)"""
    r"""(?P<value>"(?:[^"\\]|\\.)*"|'[^']*')(?P<tail>\s*(?:\#.*)?)$"""
)
SECRET_KEYS = {"api.tokens": "token", "people": "phone_hash_key", "sync": "token", "ui": "token"}


class SplitError(Exception):
    pass


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", name) or "token"


@dataclass(frozen=True)
class Move:
    key: str
    """The dotted key moved, e.g. api.tokens[1].token."""
    file: str
    """Its file on the target."""
    kiosk: bool
    """The kiosk's own token (group station-kiosk), else one of the daemon's (group station)."""
    value: str
    note: str = ""


class Plan:
    """Which file each inline secret goes to, and the value written there."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.kiosk_files: dict[str, str] = {}
        """Inline kiosk token value -> its file, so [ui] token shares the api entry's file."""
        self.fresh: dict[str, str] = {}
        """Placeholder value -> the random token replacing it (one per placeholder)."""

    def _token(self, key: str, file: str, kiosk: bool, old: str) -> Move:
        if "change-me" not in old.lower():
            return Move(key, file, kiosk, old)
        value = self.fresh.setdefault(old, secrets.token_urlsafe(32))
        return Move(key, file, kiosk, value, " (a new random token replaces the placeholder)")

    def target(self, table: str, index: int) -> Move:
        """Where the secret of this table goes, and what is written there."""
        if table == "api.tokens":
            entry = self.data["api"]["tokens"][index]
            key, old = f"api.tokens[{index}].token", entry["token"]
            if entry.get("role") == "kiosk":
                file = f"{KIOSK_DIR}/kiosk.token"
                if file in self.kiosk_files.values():
                    file = f"{KIOSK_DIR}/kiosk-{_safe(entry.get('name', str(index)))}.token"
                self.kiosk_files[old] = file
                return self._token(key, file, True, old)
            name = _safe(entry.get("name", str(index)))
            return self._token(key, f"{SECRETS_DIR}/{name}.token", False, old)
        if table == "people":
            old = self.data["people"]["phone_hash_key"]
            note = " (the example's placeholder: put the fleet's key there)"
            return Move(
                "people.phone_hash_key",
                f"{SECRETS_DIR}/phone_hash_key",
                False,
                old,
                note if "change-me" in old.lower() else "",
            )
        if table == "sync":
            return Move(
                "sync.token", f"{SECRETS_DIR}/sync.token", False, self.data["sync"]["token"]
            )
        old = self.data["ui"]["token"]
        file = self.kiosk_files.get(old, f"{KIOSK_DIR}/kiosk-ui.token")
        return self._token("ui.token", file, True, old)


def inline_secrets(data: dict[str, Any]) -> list[str]:
    found = [
        f"api.tokens[{i}].token"
        for i, t in enumerate(data.get("api", {}).get("tokens", []))
        if isinstance(t, dict) and "token" in t
    ]
    for table, key in (("people", "phone_hash_key"), ("sync", "token"), ("ui", "token")):
        if data.get(table, {}).get(key):
            found.append(f"{table}.{key}")
    return found


def split(text: str) -> tuple[str, list[Move]]:
    """The config rewritten with `_file` keys, and where each secret moves."""
    data = tomllib.loads(text)
    plan = Plan(data)
    table, token_index = "", -1
    lines, moves = [], []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        header = HEADER.match(body)
        if header:
            table = header.group(2)
            if header.group(1) == "[[" and table == "api.tokens":
                token_index += 1
        secret = SECRET_LINE.match(body)
        if secret and SECRET_KEYS.get(table) == secret.group("key"):
            key = secret.group("key")
            if table == "sync" and not data["sync"].get("token"):
                lines.append(line)
                continue
            move = plan.target(table, token_index)
            moves.append(move)
            ending = line[len(body) :]
            line = f'{secret["indent"]}{key}_file{secret["eq"]}"{move.file}"{ending}'
        lines.append(line)
    new_text = "".join(lines)
    left = inline_secrets(tomllib.loads(new_text))
    if left:
        raise SplitError(
            f"cannot move {', '.join(left)} out of station.toml automatically (written on "
            "more than one line or inside an inline table): move each into its own file by "
            "hand and name it with a `_file` key (see deploy/README.md)"
        )
    return new_text, moves


def write_secret(path: Path, value: str, gid: int) -> bool:
    """Write the secret unless the file already holds it; True when written."""
    if path.exists():
        if path.read_text(encoding="utf-8").strip() == value:
            return False
        raise SplitError(
            f"{path} exists and holds a different secret: it is never overwritten; remove "
            "it or move the inline value by hand"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(value + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.chown(path, 0, gid)
    os.chmod(path, 0o640)
    return True


def replace_config(path: Path, text: str) -> None:
    """Swap the config for its rewritten text atomically, keeping its owner and mode."""
    st = path.stat()
    tmp = path.with_name(path.name + ".split-tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.chown(tmp, st.st_uid, st.st_gid)
    os.chmod(tmp, st.st_mode & 0o7777)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default="", help="the target root (install.sh --root)")
    parser.add_argument("--dry-run", action="store_true", help="say what would move")
    parser.add_argument("--read", help="plan for this file instead (a config not yet created)")
    parser.add_argument("--daemon-gid", type=int, default=0)
    parser.add_argument("--kiosk-gid", type=int, default=0)
    args = parser.parse_args(argv)
    config = Path(args.root + CONFIG)
    source = Path(args.read) if args.read else config
    try:
        new_text, moves = split(source.read_text(encoding="utf-8"))
        for move in moves:
            print(f"move {move.key} to {move.file}{move.note}")
            if not args.dry_run:
                gid = args.kiosk_gid if move.kiosk else args.daemon_gid
                write_secret(Path(args.root + move.file), move.value, gid)
        if moves and not args.dry_run:
            replace_config(config, new_text)
    except (OSError, SplitError, tomllib.TOMLDecodeError) as exc:
        print(f"split-secrets: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
