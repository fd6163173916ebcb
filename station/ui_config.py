"""Config section `[ui]`: what the touchscreen shows and how it finds the daemon.

The UI reads the same station.toml as the daemon so a station has one file to edit. The section
lives with the config that reads it (station/config.py wires it in as `StationConfig.ui`), so
the station never imports the UI; the UI takes the checked section from here.

It is a plain dataclass that checks itself, not a pydantic model: the touchscreen's process
reads its sections of station.toml without pydantic (ui/settings.py; pydantic and building
this model were 9 MB of the UI's RSS, docs/benchmarks.md). `ui_section` turns the TOML table
into the section for both: the UI's reader calls it, and `StationConfig` validates `[ui]`
with it (the daemon, `station check-config`), so both give the same verdicts.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Language = Literal["zh", "en"]
LANGUAGES = ("zh", "en")
VOICE_NAME = r"^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$"
"""An espeak-ng voice name (`espeak-ng --voices` lists them): cmn, cmn-latn-pinyin, en-us."""


class SettingError(ValueError):
    """One key of `[ui]` is wrong: `key` names it, the message says why."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


_NUMBER_RANGES: dict[str, tuple[float | None, float | None, float]] = {
    # key: (greater than, at most, at least) -- None where the bound is absent
    "idle_timeout_s": (None, 3_600, 10),
    "staff_idle_timeout_s": (None, 3_600, 10),
    "notice_cycle_s": (None, 600, 2),
    "web_port": (None, 65535, 1),
    "reconnect_max_s": (0, 60, float("-inf")),
    "volume": (None, 100, 0),
    "close_reminder_s": (None, 600, 5),
    "speech_wpm": (None, 260, 80),
}
_PATTERNS: dict[str, str] = {
    "daemon_url": r"^https?://[^\s/]+(:\d+)?/?$",
    "staff_no_prefix": r"^[A-Za-z]{0,4}$",
    "voice_zh": VOICE_NAME,
    "voice_en": VOICE_NAME,
    "sound_device": r"^[A-Za-z0-9_:,.=/-]{1,120}$",
}


@dataclass(frozen=True, slots=True)
class UiConfig:
    daemon_url: str | None = None
    """Where the daemon's API is; empty means http://<api.bind>:<api.port> on this machine."""
    token: str | None = None
    """The kiosk token (16+ characters); empty means the first `[[api.tokens]]` entry with
    role kiosk."""
    language: Language = "zh"
    """Language shown after start and after every idle return to Home."""
    idle_timeout_s: float = 60.0
    """No touch for this long (10-3600 s) returns to Home and forgets who was identified."""
    staff_idle_timeout_s: float = 120.0
    """No touch for this long (10-3600 s) logs staff out of the maintenance screen."""
    staff_no_prefix: str = ""
    """Letters of this station's staff numbers before the digits ("S" for S001): the keypad
    is numeric, so staff type the digits and the screen puts these in front."""
    notice_cycle_s: float = 8.0
    """How long (2-600 s) each central-office notice stays on Home before the next one."""
    timezone: str = "Asia/Shanghai"
    """IANA zone in which due times and pickup deadlines are shown."""
    web_bind: str = "127.0.0.1"
    """Address `station ui --web` serves the browser UI on."""
    web_port: int = 8471
    reconnect_max_s: float = 3.0
    """Longest wait (up to 60 s) between attempts to reach a daemon that went away."""

    # --- voice and sound (docs/ui.md#voice-and-sound) ---------------------------------------
    mute: bool = False
    """True: no spoken prompts and no key clicks (the screen alone guides)."""
    volume: int = 80
    """Loudness of prompts and clicks (0-100), 100 = espeak-ng's full level; the sound card's
    own mixer (`amixer`) sets what 100 means on the speaker. 0 is the same as `mute`."""
    key_clicks: bool = True
    """A short click on every keypad key, so a finger knows the tap was taken."""
    close_reminder_s: float = 30.0
    """A door still open this long (5-600 s) after it opened is named again: "please close
    door A03" (at most three times; the daemon's `door_left_open` alarm is for staff)."""
    speech_wpm: int = 150
    """Speaking rate in words per minute (80-260; espeak-ng's default is 175; slower suits
    elderly residents in street noise)."""
    voice_zh: str = "cmn-latn-pinyin"
    """espeak-ng voice for 简体中文. Debian's `cmn` reads the pinyin it makes of Chinese text as
    English words; `cmn-latn-pinyin` speaks it as Mandarin."""
    voice_en: str = "en-us"
    """espeak-ng voice for English."""
    sound_device: str = "default"
    """ALSA device prompts are played on (`aplay -D`): `default`, or e.g. `plughw:1,0` for a
    USB sound card (`aplay -L` lists them)."""

    @property
    def silent_by_choice(self) -> bool:
        """The config asks for no sound at all (mute, or volume 0)."""
        return self.mute or self.volume == 0

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            default = f.default
            if isinstance(default, bool):
                if not isinstance(value, bool):
                    raise SettingError(f.name, f"must be true or false (got {value!r})")
            elif isinstance(default, float):
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise SettingError(f.name, f"must be a number (got {value!r})")
                object.__setattr__(self, f.name, float(value))
            elif isinstance(default, int):
                if isinstance(value, bool) or not isinstance(value, int):
                    raise SettingError(f.name, f"must be a whole number (got {value!r})")
            elif value is not None and not isinstance(value, str):
                raise SettingError(f.name, f"must be a string (got {value!r})")
        for key, (above, at_most, at_least) in _NUMBER_RANGES.items():
            value = getattr(self, key)
            if above is not None and not value > above:
                raise SettingError(key, f"must be greater than {above} (got {value!r})")
            if value > at_most or value < at_least:
                low = "" if at_least == float("-inf") else f"at least {at_least:g} and "
                raise SettingError(key, f"must be {low}at most {at_most:g} (got {value!r})")
        for key, pattern in _PATTERNS.items():
            value = getattr(self, key)
            if value is not None and not re.fullmatch(pattern, value):
                raise SettingError(key, f"must match {pattern} (got {value!r})")
        if self.token is not None and len(self.token) < 16:
            raise SettingError("token", "must be at least 16 characters")
        if self.language not in LANGUAGES:
            raise SettingError("language", f"must be 'zh' or 'en' (got {self.language!r})")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingError(
                "timezone",
                f"unknown time zone {self.timezone!r}; use an IANA name such as 'Asia/Shanghai'",
            ) from None


def ui_section(table: Any) -> UiConfig:
    """The `[ui]` table of station.toml as the section, or SettingError naming the key."""
    if isinstance(table, UiConfig):
        return table
    if not isinstance(table, dict):
        raise ValueError("must be a table ([ui])")
    known = UiConfig.keys()
    for key in table:
        if key not in known:
            raise SettingError(
                key, "unknown key (check the spelling against deploy/station.example.toml)"
            )
    return UiConfig(**table)


def ui_table(section: UiConfig) -> dict[str, Any]:
    """The section as a TOML table again (None, the default of the optional keys, left out)."""
    return {key: value for key, value in asdict(section).items() if value is not None}
