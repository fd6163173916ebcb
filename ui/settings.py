"""How the touchscreen finds the daemon, resolved from the station's config.

The `[ui]` section itself is `station.ui_config.UiConfig`, read and checked with the rest of
station.toml; this module only turns the whole config into a URL and a kiosk token.
"""

from __future__ import annotations

from dataclasses import dataclass

from station.config import StationConfig
from station.ui_config import Language, UiConfig

__all__ = ["Connection", "Language", "NoKioskToken", "UiConfig", "connection_of"]


@dataclass(frozen=True, slots=True)
class Connection:
    """What the UI needs to reach the daemon, resolved from the whole station config."""

    base_url: str
    token: str


class NoKioskToken(ValueError):
    """The config names no token the touchscreen could use."""


def connection_of(config: StationConfig) -> Connection:
    """Resolve the daemon URL and kiosk token, or say which key to set."""
    ui = config.ui
    if ui.daemon_url:
        base = ui.daemon_url.rstrip("/")
    else:
        host = config.api.bind
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        base = f"http://{host}:{config.api.port}"
    token = ui.token
    if token is None:
        token = next(
            (t.token for t in config.api.tokens if t.role == "kiosk" and t.token is not None),
            None,
        )
    if token is None:
        raise NoKioskToken(
            "the touchscreen needs a kiosk token: set [ui] token, or give a [[api.tokens]] "
            "entry with role = \"kiosk\" a plain 'token' (not only 'token_sha256')"
        )
    return Connection(base_url=base, token=token)
