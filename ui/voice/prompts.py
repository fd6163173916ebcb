"""The moments the kiosk speaks at, each a catalogue phrase in the language shown now.

Only what helps a person who is not looking at the screen: which door opened and what to do
there, a reminder to close it, that it is closed, that a code was taken, whether they need
more time, and what went wrong with what to do next. Never a code, a phone number or a PIN:
the booth stands in the street, and what is spoken is heard by everyone near it (and what is
rendered is kept on disk).
"""

from __future__ import annotations

from collections.abc import Sequence

from ui.i18n import Translator
from ui.voice.port import Phrase, Player


class Voice:
    def __init__(self, player: Player, i18n: Translator) -> None:
        self.player = player
        self.i18n = i18n

    def _say(self, key: str, **params: object) -> None:
        self.player.say(Phrase(self.i18n.t(key, **params), self.i18n.language))

    def door_opened(self, locker: str, todo_key: str) -> None:
        """The door is open: its number, then what to do there (take, put in, close)."""
        self._say("voice.door_open", locker=locker, todo=self.i18n.t(todo_key))

    def close_door(self, locker: str) -> None:
        self._say("voice.close_door", locker=locker)

    def door_closed(self, locker: str) -> None:
        """The door the person was at is shut: they can leave it (or answer on screen)."""
        self._say("voice.door_closed", locker=locker)

    def still_there(self) -> None:
        """The idle prompt's question: a person looking at the locker hears it too."""
        self._say("voice.still_there")

    def hush(self) -> None:
        self.player.hush()

    def code_accepted(self) -> None:
        """Said as the door starts to open; which door follows when it is open."""
        self._say("voice.code_ok")

    def error(self, title: str, what: Sequence[str]) -> None:
        """An error screen's title and its sentences (what happened, what to do now)."""
        self._say("voice.error", title=title, what=" ".join(what))

    def click(self) -> None:
        self.player.click()

    def close(self) -> None:
        self.player.close()
