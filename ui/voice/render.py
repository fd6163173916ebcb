"""Phrases rendered once to WAV files by espeak-ng and kept: the second time is a file read.

A file's name is a hash of everything that changes the sound (voice, rate, volume, text), so a
changed setting or an edited catalogue text renders anew and never plays a stale file. Files
are written under a temporary name and renamed, so a UI killed mid-render leaves no half file
to play; the cache is pruned to its newest files (texts with dates in them would otherwise pile
up). The key click is a short tone made here with the standard library, no program needed.
"""

from __future__ import annotations

import array
import hashlib
import logging
import math
import os
import subprocess
import sys
import wave
from dataclasses import dataclass
from pathlib import Path

from station.ui_config import UiConfig
from ui.voice.port import Phrase

log = logging.getLogger(__name__)

RATE_HZ = 22_050
"""espeak-ng's own sample rate; the click is made at the same rate."""
MAX_FILES = 400
RENDER_TIMEOUT_S = 20.0


class RenderFailed(RuntimeError):
    """espeak-ng did not make the file; the message says what it answered."""


@dataclass(frozen=True)
class SpeechSettings:
    """What decides how a phrase sounds, from `[ui]`."""

    voice_zh: str
    voice_en: str
    wpm: int
    volume: int

    @classmethod
    def of(cls, ui: UiConfig) -> SpeechSettings:
        return cls(ui.voice_zh, ui.voice_en, ui.speech_wpm, ui.volume)

    def voice(self, phrase: Phrase) -> str:
        return self.voice_zh if phrase.language == "zh" else self.voice_en


def default_cache_dir() -> Path:
    """The kiosk unit's CacheDirectory= (systemd sets $CACHE_DIRECTORY), else the user's cache."""
    systemd = os.environ.get("CACHE_DIRECTORY", "").split(":")[0]
    if systemd:
        return Path(systemd) / "voice"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "station-ui" / "voice"


class PhraseCache:
    """WAV files of phrases and of the key click, made on first use."""

    def __init__(self, directory: Path, settings: SpeechSettings, espeak: str) -> None:
        self.directory = directory
        self.settings = settings
        self.espeak = espeak
        self.rendered = 0
        """Phrases espeak-ng was run for (a cache hit does not count)."""

    def key(self, phrase: Phrase) -> str:
        s = self.settings
        parts = (s.voice(phrase), str(s.wpm), str(s.volume), phrase.text)
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]

    def wav(self, phrase: Phrase) -> Path:
        """The phrase's file, rendering it if this is the first time."""
        path = self.directory / f"{self.key(phrase)}.wav"
        if path.exists():
            os.utime(path)  # recently used: kept by the pruning
            return path
        self.directory.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.part")
        command = [
            self.espeak,
            "--stdin",
            "-b",
            "1",
            "-v",
            self.settings.voice(phrase),
            "-s",
            str(self.settings.wpm),
            "-a",
            str(self.settings.volume),
            "-w",
            str(partial),
        ]
        try:
            done = subprocess.run(
                command,
                input=phrase.text.encode(),
                capture_output=True,
                timeout=RENDER_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            partial.unlink(missing_ok=True)
            raise RenderFailed(f"espeak-ng could not run: {exc}") from exc
        if done.returncode != 0 or not partial.exists():
            partial.unlink(missing_ok=True)
            answer = done.stderr.decode(errors="replace").strip()
            raise RenderFailed(f"espeak-ng exited {done.returncode}: {answer}")
        partial.replace(path)
        self.rendered += 1
        self._prune()
        return path

    def click(self) -> Path:
        """A 12 ms tick at 2.4 kHz, fading out, as loud as the volume setting says."""
        path = self.directory / f"click-{self.settings.volume}.wav"
        if path.exists():
            return path
        self.directory.mkdir(parents=True, exist_ok=True)
        peak = 0.6 * 32_767 * self.settings.volume / 100
        frames = int(RATE_HZ * 0.012)
        fade = frames / 4
        tone = 2 * math.pi * 2_400 / RATE_HZ
        samples = array.array(
            "h", (int(peak * math.exp(-n / fade) * math.sin(tone * n)) for n in range(frames))
        )
        if sys.byteorder == "big":
            samples.byteswap()  # WAV samples are little-endian
        partial = path.with_suffix(f".{os.getpid()}.part")
        with wave.open(str(partial), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(RATE_HZ)
            out.writeframes(samples.tobytes())
        partial.replace(path)
        return path

    def _prune(self) -> None:
        files = sorted(self.directory.glob("*.wav"), key=lambda p: p.stat().st_mtime)
        for old in files[: max(0, len(files) - MAX_FILES)]:
            old.unlink(missing_ok=True)
