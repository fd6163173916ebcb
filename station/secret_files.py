"""Secrets kept in files of their own, apart from station.toml.

The touchscreen runs as its own user and reads station.toml; a passer-by who breaks out of
the kiosk session can read whatever that user can. So station.toml names each secret's file
(`token_file`, `phone_hash_key_file`) instead of holding it: the kiosk's own token in a file
the kiosk user may read, the daemon's (staff and central tokens, the sync token, the
fleet-wide phone hash key) in files only the daemon's user may read. The loader reads them
here, refusing a missing, empty or too-open file with a message that names the key and the
file and never shows the secret. `station doctor` checks who owns them (station/ops/doctor.py).
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KIOSK_USER = "station-kiosk"
"""The touchscreen's user (deploy/sysusers/station.conf)."""
DAEMON_USER = "station"
"""The daemon's user; its group `station` holds nobody else."""
KIOSK_TOKEN_FILE = Path("/etc/station/kiosk.token")
"""Where an installed station keeps the kiosk's token (0640 root:station-kiosk)."""
SECRETS_DIR = Path("/etc/station/secrets")
"""Where an installed station keeps the daemon's secrets (0750 root:station, files 0640)."""


class SecretFileError(Exception):
    """A secret's file that cannot be used; the message never contains the secret."""


@dataclass(frozen=True, slots=True)
class SecretRef:
    """One secret named in the config: the key it fills, where it comes from, whose it is."""

    key: str
    """The dotted key as written, e.g. `api.tokens[1].token`."""
    table: dict[str, Any]
    """The raw TOML table holding the key (filled in by `resolve_secrets`)."""
    name: str
    """The key's last part: `token` or `phone_hash_key`."""
    file: Path | None
    """The `<name>_file` given, or None when the secret is written inline."""
    kiosk: bool
    """The kiosk's own token (readable by the kiosk user), not one of the daemon's secrets."""


def secret_refs(data: dict[str, Any], base: Path) -> Iterator[SecretRef]:
    """Every secret the raw config names, inline or by file (relative files from `base`)."""

    def ref(key: str, table: Any, name: str, kiosk: bool) -> Iterator[SecretRef]:
        if not isinstance(table, dict) or (name not in table and f"{name}_file" not in table):
            return
        raw = table.get(f"{name}_file")
        file = None
        if isinstance(raw, str):
            file = Path(raw) if Path(raw).is_absolute() else base / raw
        yield SecretRef(key, table, name, file, kiosk)

    api = data.get("api")
    tokens = api.get("tokens") if isinstance(api, dict) else None
    if isinstance(tokens, list):
        for i, entry in enumerate(tokens):
            kiosk = isinstance(entry, dict) and entry.get("role") == "kiosk"
            yield from ref(f"api.tokens[{i}].token", entry, "token", kiosk)
    yield from ref("people.phone_hash_key", data.get("people"), "phone_hash_key", False)
    yield from ref("sync.token", data.get("sync"), "token", False)
    yield from ref("ui.token", data.get("ui"), "token", True)


def read_secret(ref: SecretRef) -> str:
    """The secret in `ref.file`: one line, nothing else; or SecretFileError saying what to fix."""
    assert ref.file is not None
    where = f"{ref.key}_file = {ref.file}"
    owner = "root:station-kiosk" if ref.kiosk else "root:station"
    try:
        st = ref.file.stat()
    except FileNotFoundError:
        raise SecretFileError(
            f"{where}: no such file; put the secret there on one line (mode 0640, owner "
            f"{owner}; deploy/install.sh creates it)"
        ) from None
    except OSError as exc:
        raise SecretFileError(f"{where}: cannot be reached ({exc.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        raise SecretFileError(f"{where}: not a regular file")
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o027:
        raise SecretFileError(
            f"{where}: too open (mode {mode:04o}: "
            f"{'every user on this machine can read it' if mode & 0o004 else 'others may write it'}"
            f"); `chmod 0640 {ref.file}` and `chown {owner} {ref.file}`"
        )
    try:
        text = ref.file.read_text(encoding="utf-8")
    except PermissionError:
        raise SecretFileError(
            f"{where}: this user may not read it (it belongs to {owner}); run the command as "
            f"the daemon's user (`sudo -u {DAEMON_USER} ...`) or as root"
        ) from None
    except UnicodeDecodeError:
        raise SecretFileError(f"{where}: not UTF-8 text") from None
    except OSError as exc:
        raise SecretFileError(f"{where}: cannot read ({exc.strerror})") from None
    value = text.strip()
    if not value:
        raise SecretFileError(f"{where}: the file is empty; put the secret there on one line")
    if "\n" in value:
        raise SecretFileError(f"{where}: more than one line; the file holds the secret only")
    return value


def resolve_secrets(data: dict[str, Any], base: Path, *, kiosk: bool = False) -> dict[str, Any]:
    """`data` with every `<name>_file` replaced by the secret it names, checked.

    With `kiosk`, the daemon's secrets are left out before anything is read: the touchscreen
    never holds them, nor needs read access to their files. The tables are copied, so `data`
    is left as it was.
    """
    data = _copy(data)
    if kiosk:
        _drop_daemon_secrets(data)
    for ref in list(secret_refs(data, base)):
        file_key = f"{ref.name}_file"
        if file_key not in ref.table:
            continue
        if ref.table.get(ref.name):
            raise SecretFileError(f"{ref.key}: give either {ref.name} or {file_key}, not both")
        if ref.file is None:
            raise SecretFileError(f"{ref.key}_file: expected a file path (a string)")
        ref.table[ref.name] = read_secret(ref)
        del ref.table[file_key]
    return data


def _drop_daemon_secrets(data: dict[str, Any]) -> None:
    api = data.get("api")
    if isinstance(api, dict) and isinstance(api.get("tokens"), list):
        api["tokens"] = [
            t for t in api["tokens"] if isinstance(t, dict) and t.get("role") == "kiosk"
        ]
    people = data.get("people")
    if isinstance(people, dict):
        people.pop("phone_hash_key", None)
        people.pop("phone_hash_key_file", None)
    # The touchscreen has nothing to do with sync; its token is the daemon's.
    data.pop("sync", None)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value
