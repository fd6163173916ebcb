"""The port the touchscreen speaks through, and the two players that need no sound card.

Screens never run a program or touch a device: they hand a `Phrase` (text and its language)
or a click to the app's `Player`, which returns at once. The ALSA player (ui/voice/alsa.py)
renders and plays in a thread of its own; `SilentPlayer` is what a kiosk without espeak-ng,
aplay or a sound card gets (and the web mode, whose sound would come out of this machine,
not the browser); `RecordingPlayer` keeps what was said, so tests can check which prompt each
moment gives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from station.ui_config import Language


@dataclass(frozen=True, slots=True)
class Phrase:
    """One prompt as it is spoken: the words and the language whose voice says them."""

    text: str
    language: Language


class Player(Protocol):
    """Where prompts and key clicks go. Every method returns at once (never blocks the UI)."""

    def say(self, phrase: Phrase) -> None: ...

    def hush(self) -> None:
        """Stop the phrase playing now and drop those waiting: the person they were for has
        gone (back to Home), and the next one must not hear them."""
        ...

    def click(self) -> None: ...

    def close(self) -> None: ...


@dataclass
class SilentPlayer:
    """No sound at all; `reason` says why (the doctor's words), for the log at start."""

    reason: str = "muted"

    def say(self, phrase: Phrase) -> None:
        pass

    def hush(self) -> None:
        pass

    def click(self) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass
class RecordingPlayer:
    """Keeps every phrase and counts clicks instead of playing them."""

    said: list[Phrase] = field(default_factory=list)
    clicks: int = 0
    hushed: int = 0

    def say(self, phrase: Phrase) -> None:
        self.said.append(phrase)

    def hush(self) -> None:
        self.hushed += 1

    def click(self) -> None:
        self.clicks += 1

    def close(self) -> None:
        pass

    def texts(self, language: Language | None = None) -> list[str]:
        return [p.text for p in self.said if language is None or p.language == language]
