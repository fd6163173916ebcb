"""Speech and sound for the touchscreen: spoken prompts and key clicks, through a small port.

The UI owns speech and the daemon never makes a sound: the sound card belongs to the kiosk's
session (its user, its logind seat) like the screen does, while the daemon's user owns the
lock boards and runs without a seat; a prompt is about what the screen shows now, in the
language shown now, which only the UI knows; and a UI that crashes takes its voice with it
instead of leaving the daemon speaking for a screen that is gone. See docs/ui.md.
"""

from __future__ import annotations

import logging
from pathlib import Path

from station.sound import CARDS_FILE, probe_sound
from station.ui_config import UiConfig
from ui.voice.alsa import AlsaPlayer
from ui.voice.port import Phrase, Player, RecordingPlayer, SilentPlayer
from ui.voice.prompts import Voice
from ui.voice.render import PhraseCache, SpeechSettings, default_cache_dir

log = logging.getLogger(__name__)

__all__ = [
    "AlsaPlayer",
    "Phrase",
    "PhraseCache",
    "Player",
    "RecordingPlayer",
    "SilentPlayer",
    "SpeechSettings",
    "Voice",
    "open_player",
]


def open_player(
    ui: UiConfig, *, cache_dir: Path | None = None, cards_file: Path = CARDS_FILE
) -> Player:
    """The ALSA player when this machine can speak, else a silent one (logged once, with why:
    the same words `station doctor` prints)."""
    support = probe_sound(ui, cards_file)
    reason = support.silent_because
    if reason is not None or support.espeak is None or support.aplay is None:
        log.info("voice: %s", support.describe())
        return SilentPlayer(reason or "no sound")
    cache = PhraseCache(cache_dir or default_cache_dir(), SpeechSettings.of(ui), support.espeak)
    return AlsaPlayer(cache, aplay=support.aplay, device=ui.sound_device, clicks=ui.key_clicks)
