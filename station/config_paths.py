"""Where the station's config file is, and the defaults the touchscreen shares with it,
without loading the config's models.

The touchscreen's process and the `station` command's parser need only these, not pydantic
and every section's model (station/config.py re-exports the paths and uses the names).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

SYSTEM_CONFIG = Path("/etc/station/station.toml")
"""Where an installed station keeps its config (deploy/install.sh puts it there)."""
DEMO_CONFIG = Path("var/demo/station.toml")
"""Where `station demo` writes its config, relative to the folder it was started in."""

STATION_NAME = "共享益站"
"""[station] name when the config gives none."""
STATION_NAME_EN = "Shared Benefit Station"
"""[station] name_en when the config gives none."""


def default_config_path() -> Path:
    """The config a command uses without --config: $STATION_CONFIG if set, else the installed
    station's file, else (on a developer's machine with no installed station) the demo's."""
    chosen = os.environ.get("STATION_CONFIG")
    if chosen:
        return Path(chosen)
    if SYSTEM_CONFIG.exists() or not DEMO_CONFIG.exists():
        return SYSTEM_CONFIG
    return DEMO_CONFIG


class ConfigFileError(Exception):
    """The config file cannot be read as TOML; the message names the file and what to do."""


def read_config_file(path: Path) -> dict[str, Any]:
    """The TOML of a config file, or ConfigFileError saying what is wrong with the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigFileError(
            f"{path}: no such file; pass --config FILE (or set STATION_CONFIG), or copy "
            f"deploy/station.example.toml there; `station demo` writes {DEMO_CONFIG}"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigFileError(f"{path}: cannot read: {exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigFileError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        # tomllib recurses per nesting level: `a = [[[[...` thousands deep exhausts the stack.
        raise ConfigFileError(
            f"{path}: not valid TOML: arrays or tables nested too deeply"
        ) from None


__all__ = [
    "DEMO_CONFIG",
    "STATION_NAME",
    "STATION_NAME_EN",
    "SYSTEM_CONFIG",
    "ConfigFileError",
    "default_config_path",
    "read_config_file",
]
