"""The full-screen "station is restarting" shown while the daemon cannot be reached.

It needs no tap to go away: it checks every second and, once the live stream is back and the
daemon answers /healthz, returns to Home by itself.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical

from ui.client import ApiError, DaemonUnreachable
from ui.screens.base import KioskScreen
from ui.widgets.text import TLabel


class RestartingScreen(KioskScreen):
    CSS_PATH = None
    """All it uses is in ui/theme.tcss: the start does not load the flows' stylesheet."""
    TITLE_KEY = "app.title"
    SHOW_BACK = False
    CHECK_EVERY_S = 1.0

    def body(self) -> ComposeResult:
        with Vertical(id="restart-panel", classes="panel"):
            yield TLabel("restart.title", id="restart-title", classes="headline")
            yield TLabel("restart.body", classes="sentence")
            yield TLabel("restart.refused", id="restart-refused", classes="sentence warn hidden")
            if self.kiosk.info.help_phone:
                yield TLabel(
                    "restart.help", {"phone": self.kiosk.info.help_phone}, classes="sentence help"
                )

    def on_mount(self) -> None:
        self.set_interval(self.CHECK_EVERY_S, self.check_now)

    def check_now(self) -> None:
        refused = self.kiosk.stream.refused
        self.query_one("#restart-refused").set_class(not refused, "hidden")
        if self.kiosk.connected:
            self.run_worker(self._probe, group="probe", exclusive=True)

    async def _probe(self) -> None:
        try:
            await self.kiosk.client.health()
        except (DaemonUnreachable, ApiError):
            return
        if self.kiosk.connected and self.is_current:
            self.kiosk.recovered()
