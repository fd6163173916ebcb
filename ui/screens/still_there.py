"""The "still there?" idle prompt, so time belongs to the person at the screen.

After the idle time without a touch, this covers the screen with a large question and a
countdown; any tap anywhere on it cancels it and gives the person the whole idle time again.
When the countdown runs out the app goes Home, unless a door is open or a door flow is still
running behind it: then nobody is sent away (a courier plugging in a phone, a resident taking a
tool) and the prompt simply comes back after the next idle time.
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Digits

from ui.screens.base import KioskScreen
from ui.widgets.text import TLabel

PROMPT_S = 15.0
"""How long the question stays before the app acts."""


class StillThereScreen(KioskScreen):
    TITLE_KEY = "idle.title"
    SHOW_BACK = False

    def __init__(self, seconds_left: float = PROMPT_S) -> None:
        super().__init__()
        self._left = seconds_left

    def body(self) -> ComposeResult:
        with Vertical(id="still-there", classes="panel"):
            yield TLabel("idle.question", id="still-question", classes="headline")
            yield Digits(str(int(self._left)), id="still-countdown")
            yield TLabel("idle.tap", id="still-tap", classes="sentence")

    def on_mount(self) -> None:
        self.kiosk.voice.still_there()

    def show_left(self, seconds: float) -> None:
        self._left = max(0.0, seconds)
        for digits in self.query("#still-countdown").results(Digits):
            digits.update(str(int(self._left + 0.999)))

    def on_mouse_down(self, event: events.MouseDown) -> None:
        # Any tap, anywhere: the person is still here. The tap is used up by this.
        event.stop()
        self.kiosk.touched()
        self.dismiss()
