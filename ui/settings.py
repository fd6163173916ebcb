"""What the touchscreen reads of station.toml, and how it finds the daemon.

The UI reads the sections it uses ([station]'s names and help phone, [[lockers]]' ids,
whether there is a [reader], [api]'s address and the kiosk's token, and [ui]) with tomllib,
not through station.config: pydantic and every section's model are 12 MB of RSS, and the
launcher's other commands that came with them 7 MB more (docs/benchmarks.md). `[ui]` is
checked by the same code as the daemon's (`station.ui_config.ui_section`); the rest of the
file is the daemon's to check (`station run` and `station check-config` refuse a config with
an error anywhere).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from station.config_paths import (
    STATION_NAME,
    STATION_NAME_EN,
    ConfigFileError,
    read_config_file,
)
from station.secret_files import SecretFileError, resolve_secrets
from station.ui_config import Language, SettingError, UiConfig, ui_section

if TYPE_CHECKING:
    from station.config import StationConfig

__all__ = [
    "Connection",
    "KioskConfig",
    "Language",
    "NoKioskToken",
    "UiConfig",
    "UiConfigError",
    "connection_of",
    "read_kiosk_config",
]


class UiConfigError(ValueError):
    """The config file cannot be used by the touchscreen; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class KioskStation:
    name: str = STATION_NAME
    name_en: str = STATION_NAME_EN
    help_phone: str = ""


@dataclass(frozen=True, slots=True)
class KioskToken:
    role: str
    token: str | None = None


@dataclass(frozen=True, slots=True)
class KioskApi:
    bind: str = "127.0.0.1"
    port: int = 8470
    tokens: tuple[KioskToken, ...] = ()


@dataclass(frozen=True, slots=True)
class KioskLocker:
    id: str


@dataclass(frozen=True, slots=True)
class KioskConfig:
    """The touchscreen's view of station.toml: the same attribute names as StationConfig's
    for what it holds, so `build_app` and `connection_of` take either."""

    station: KioskStation = field(default_factory=KioskStation)
    api: KioskApi = field(default_factory=KioskApi)
    lockers: tuple[KioskLocker, ...] = ()
    reader: dict[str, Any] | None = None
    ui: UiConfig = field(default_factory=UiConfig)


def read_kiosk_config(path: str | Path) -> KioskConfig:
    """Read what the touchscreen uses of a station.toml, or UiConfigError saying what to fix.
    The daemon's secrets are left out unread: the kiosk user may read only its own token."""
    path = Path(path)
    try:
        data = read_config_file(path)
    except ConfigFileError as exc:
        raise UiConfigError(str(exc)) from None
    try:
        data = resolve_secrets(data, path.parent, kiosk=True)
        return _kiosk_config(data)
    except SecretFileError as exc:
        raise UiConfigError(f"{path}: {exc}") from None
    except SettingError as exc:
        raise UiConfigError(f"{path}: 1 problem(s):\n  {exc.key}: {exc.problem}") from None


def _kiosk_config(data: dict[str, Any]) -> KioskConfig:
    station = _table(data, "station")
    api = _table(data, "api")
    tokens = []
    for i, entry in enumerate(_list(api, _key("api", "tokens"), "tokens")):
        if not isinstance(entry, dict):
            raise SettingError(_key("api", f"tokens[{i}]"), "must be a table (an array of tables)")
        token = entry.get("token")
        if token is not None and not isinstance(token, str):
            raise SettingError(_key("api", f"tokens[{i}]", "token"), "must be a string")
        tokens.append(KioskToken(role=str(entry.get("role", "")), token=token))
    lockers = []
    for i, entry in enumerate(_list(data, "lockers", "lockers")):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise SettingError(_key(f"lockers[{i}]", "id"), "required key is missing")
        lockers.append(KioskLocker(entry["id"]))
    port = api.get("port", KioskApi.port)
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise SettingError(_key("api", "port"), f"must be a port number, 1-65535 (got {port!r})")
    reader = data.get("reader")
    try:
        ui = ui_section(data.get("ui", {}))
    except SettingError as exc:
        raise SettingError(_key("ui", exc.key), exc.problem) from None
    except ValueError as exc:
        raise SettingError("ui", str(exc)) from None
    return KioskConfig(
        station=KioskStation(
            name=_text(station, "station", "name", KioskStation.name),
            name_en=_text(station, "station", "name_en", KioskStation.name_en),
            help_phone=_text(station, "station", "help_phone", KioskStation.help_phone),
        ),
        api=KioskApi(
            bind=_text(api, "api", "bind", KioskApi.bind), port=port, tokens=tuple(tokens)
        ),
        lockers=tuple(lockers),
        reader=reader if isinstance(reader, dict) else None,
        ui=ui,
    )


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise SettingError(key, f"must be a table ([{key}])")
    return value


def _list(table: dict[str, Any], where: str, key: str) -> list[Any]:
    value = table.get(key, [])
    if not isinstance(value, list):
        raise SettingError(where, "must be an array of tables")
    return value


def _text(table: dict[str, Any], section: str, key: str, default: str) -> str:
    value = table.get(key, default)
    if not isinstance(value, str):
        raise SettingError(_key(section, key), f"must be a string (got {value!r})")
    return value


def _key(*parts: str) -> str:
    """A dotted key of station.toml, as errors name it: api.tokens[0].token."""
    return ".".join(parts)


@dataclass(frozen=True, slots=True)
class Connection:
    """What the UI needs to reach the daemon, resolved from the whole station config."""

    base_url: str
    token: str


class NoKioskToken(ValueError):
    """The config names no token the touchscreen could use."""


def connection_of(config: StationConfig | KioskConfig) -> Connection:
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
