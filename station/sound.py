"""What the kiosk's voice needs on this machine: espeak-ng with its two voices, aplay, a card.

The touchscreen speaks (ui/voice) and `station doctor` reports; both ask this one probe, so the
doctor's line says exactly why a kiosk is silent and what to install or plug in. Nothing here
plays a sound: the sound card belongs to the kiosk session (docs/ui.md#voice-and-sound).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from station.ui_config import UiConfig

CARDS_FILE = Path("/proc/asound/cards")
_CARD_LINE = re.compile(r"^\s*\d+\s+\[[^\]]*\]:\s*(?:\S+\s+-\s+)?(?P<name>.+?)\s*$")


@dataclass(frozen=True)
class SoundSupport:
    """What was found; `silent_because` is None when the kiosk can speak."""

    muted: bool
    espeak: str | None
    aplay: str | None
    missing_voices: tuple[str, ...]
    cards: tuple[str, ...]

    @property
    def silent_because(self) -> str | None:
        """Why the kiosk works silently, with the fix; None when it speaks."""
        if self.muted:
            return "muted in [ui] (mute = true or volume = 0)"
        if self.espeak is None:
            return "espeak-ng is not installed: apt-get install espeak-ng"
        if self.aplay is None:
            return "aplay is not installed: apt-get install alsa-utils"
        if self.missing_voices:
            voices = ", ".join(self.missing_voices)
            return (
                f"espeak-ng has no voice {voices}: set [ui] voice_zh / voice_en to one that "
                "`espeak-ng --voices` lists"
            )
        if not self.cards:
            return (
                "no sound card (ALSA lists none): plug in a USB sound card or enable the Pi's "
                "audio output (dtparam=audio=on in config.txt)"
            )
        return None

    def describe(self) -> str:
        reason = self.silent_because
        if reason is not None:
            return f"the kiosk works silently: {reason}"
        return f"spoken prompts on {', '.join(self.cards)} through espeak-ng and aplay"


def sound_cards(cards_file: Path = CARDS_FILE) -> tuple[str, ...]:
    """The names of the sound cards ALSA knows (none when /proc/asound is absent)."""
    try:
        text = cards_file.read_text()
    except OSError:
        return ()
    return tuple(m["name"] for line in text.splitlines() if (m := _CARD_LINE.match(line)))


def voice_exists(espeak: str, voice: str) -> bool:
    """espeak-ng exits non-zero when asked for a voice its data does not have."""
    try:
        done = subprocess.run(
            [espeak, "-v", voice, "-q", "x"], capture_output=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def probe_sound(ui: UiConfig, cards_file: Path = CARDS_FILE) -> SoundSupport:
    espeak = shutil.which("espeak-ng")
    missing: tuple[str, ...] = ()
    if espeak is not None and not ui.silent_by_choice:
        missing = tuple(v for v in (ui.voice_zh, ui.voice_en) if not voice_exists(espeak, v))
    return SoundSupport(
        muted=ui.silent_by_choice,
        espeak=espeak,
        aplay=shutil.which("aplay"),
        missing_voices=missing,
        cards=sound_cards(cards_file),
    )
