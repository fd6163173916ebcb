"""Settings the office changed remotely: checked with the config's own rules, applied to the
running daemon at once where it can (LIVE), and kept for every later start.

The config file stays the technician's: remote values are kept in the station's database and
laid over the file's values when the daemon starts, so a wrong remote value can be undone
from the office and a reinstalled config file does not silently lose it. Each value is checked
by building the whole config with it (the same validation a file gets), so a remote setting
can never make a config the daemon would refuse at start.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from station.config import ConfigError, StationConfig, parse_config
from station.store import Store, Tx
from wire.commands import REMOTE_SETTINGS, Scalar

NOT_LIVE: dict[str, str] = {}
"""Remote settings the running daemon cannot take at once, and why (none today: the help
phone reaches the touchscreen over its live stream)."""
LIVE: frozenset[str] = REMOTE_SETTINGS - set(NOT_LIVE)
"""Remote settings the daemon applies at once (windows, PIN limits, idle times, hold time):
each is read where it is used, so the running parts only need the new values."""

LiveApplier = Callable[[StationConfig], None]
"""Given the config with the live settings laid over it, hands the new values to the running
parts (the composition root builds it)."""


def overlay(config: StationConfig, values: Mapping[str, Scalar]) -> StationConfig:
    """The config with `values` (dotted keys from REMOTE_SETTINGS) laid over it; ConfigError
    naming the key when a value breaks the config's rules."""
    unknown = sorted(set(values) - REMOTE_SETTINGS)
    if unknown:
        raise ConfigError(f"{', '.join(unknown)} cannot be set remotely")
    data = config.model_dump(mode="json", exclude_none=True)
    for key, value in values.items():
        section, _, name = key.partition(".")
        data.setdefault(section, {})[name] = value
    return parse_config(data, "remote settings")


def stored(store: Store) -> dict[str, Scalar]:
    rows = store.query("SELECT key, value FROM remote_settings ORDER BY key")
    return {r["key"]: json.loads(r["value"]) for r in rows}


def save(tx: Tx, values: Mapping[str, Scalar], command: str, issuer: str) -> None:
    for key, value in values.items():
        tx.conn.execute(
            "INSERT INTO remote_settings (key, value, command, issuer, set_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
            " command = excluded.command, issuer = excluded.issuer, set_at = excluded.set_at",
            (key, json.dumps(value), command, issuer, tx.now()),
        )


def with_stored(config: StationConfig, store: Store) -> StationConfig:
    """What the daemon runs with: the file's config and the office's remote settings over it.

    A stored value the current release refuses (its rules changed) is skipped, not fatal: the
    file's own value is used and the daemon still starts.
    """
    values = stored(store)
    if not values:
        return config
    try:
        return overlay(config, values)
    except ConfigError:
        good: dict[str, Any] = {}
        for key, value in values.items():
            try:
                overlay(config, {**good, key: value})
            except ConfigError:
                continue
            good[key] = value
        return overlay(config, good) if good else config
