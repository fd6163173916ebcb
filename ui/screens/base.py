"""The frame every touchscreen screen shares: a top bar with back, title and the language toggle.

A screen supplies its title key and its body; the frame gives it the back button, the
language toggle, idle tracking (any tap restarts the idle timer) and `call()` for API work in
the background, so a tap never waits on the network with the screen frozen.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button

from ui.client import ApiError, DaemonUnreachable
from ui.widgets.text import TButton, TLabel, Translatable

if TYPE_CHECKING:
    from ui.app import StationApp
    from ui.i18n import Translator

T = TypeVar("T")

FLOWS_CSS = str(Path(__file__).resolve().parents[1] / "flows.tcss")
"""The stylesheet of every screen but Home and "restarting" (ui/theme.tcss has theirs and the
frame's). Textual loads a screen's CSS_PATH when such a screen first opens, so the kiosk's start
parses and matches against a third of the rules; the path is absolute because Textual resolves a
relative one against each subclass's own folder."""


class KioskScreen(Screen[None]):
    CSS_PATH = FLOWS_CSS
    TITLE_KEY: ClassVar[str] = "app.title"
    SHOW_BACK: ClassVar[bool] = True
    SHOW_STAFF: ClassVar[bool] = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._preset_breakpoints()

    def _preset_breakpoints(self) -> None:
        """Give the screen its breakpoint classes (-tiny, -wide, ...) for the app's size now.

        Textual adds them on the screen's first Resize, after its widgets are mounted and
        styled, and then styles every widget again. Set before mounting, that Resize finds
        nothing to change and the second pass is saved (Home drawn sooner at start, a tap's
        next screen sooner). Should the size change meanwhile, that Resize corrects them.
        """
        try:
            app = self.app
        except RuntimeError:  # Textual's NoActiveAppError: built outside a running app
            return  # Textual sets them on the first Resize as usual
        width, height = app.size
        across, down = self.HORIZONTAL_BREAKPOINTS, self.VERTICAL_BREAKPOINTS
        for dimension, points in (
            (width, app.HORIZONTAL_BREAKPOINTS if across is None else across),
            (height, app.VERTICAL_BREAKPOINTS if down is None else down),
        ):
            self.add_class(*self._get_breakpoint_classes(dimension, points or []), update=False)

    @property
    def kiosk(self) -> StationApp:
        return cast("StationApp", self.app)

    @property
    def i18n(self) -> Translator:
        return self.kiosk.i18n

    def compose(self) -> ComposeResult:
        with Horizontal(id="topbar"):
            if self.SHOW_BACK:
                yield TButton("nav.back", id="back", classes="nav")
            yield self.title_widget()
            if self.SHOW_STAFF:
                yield TButton("staff.button", id="staff", classes="nav staff")
            yield TButton("lang.toggle", id="lang", classes="nav lang")
        with Vertical(id="body"):
            yield from self.body()

    def title_widget(self) -> TLabel:
        return TLabel(self.TITLE_KEY, id="title")

    def body(self) -> ComposeResult:
        """The screen's own widgets, below the top bar."""
        return iter(())

    # --- frame actions --------------------------------------------------------------------

    @on(Button.Pressed, "#back")
    def _back_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.go_back()

    @on(Button.Pressed, "#lang")
    def _lang_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.kiosk.toggle_language()

    def go_back(self) -> None:
        self.app.pop_screen()

    def holds_person(self) -> bool:
        """True while this screen must not be left for idleness (a door flow under way)."""
        return False

    def on_mouse_down(self, _: events.MouseDown) -> None:
        self.kiosk.touched()

    def retranslate(self) -> None:
        """Look every text up again in the language now chosen."""
        for widget in self.query("*"):
            if isinstance(widget, Translatable):
                widget.retranslate()
        self.on_language()

    def on_language(self) -> None:
        """Screens with texts built outside translatable widgets rebuild them here."""

    # --- background API work -----------------------------------------------------------------

    def call(
        self,
        work: Callable[[], Coroutine[Any, Any, T]],
        *,
        done: Callable[[T], Any] | None = None,
        refused: Callable[[ApiError], Any] | None = None,
        busy: bool = True,
        group: str | None = None,
    ) -> None:
        """Run `work` (API calls) in a worker; then `done(result)` or `refused(error)`.

        While it runs the body shows it is busy and takes no taps, so a double tap cannot
        borrow twice. A daemon that does not answer switches to the restarting screen.
        Reads that only refresh what is shown pass a `group`: a newer read of the same group
        replaces one still running. Actions never replace each other.
        """
        body = self.query_one("#body")

        async def run() -> None:
            if busy:
                body.loading = True
            try:
                result = await self.kiosk.api(work())
            except DaemonUnreachable:
                return
            except ApiError as exc:
                if refused is None:
                    self.kiosk.show_refusal(exc)
                else:
                    await _maybe_await(refused(exc))
                return
            finally:
                if busy and body.is_mounted:
                    body.loading = False
            if done is not None:
                await _maybe_await(done(result))

        self.run_worker(run, group=group or "api", exclusive=group is not None)


async def _maybe_await(value: Any) -> None:
    """Await what an async callback returned, but never a screen change (AwaitComplete): the
    screen being replaced would wait on its own worker."""
    if inspect.iscoroutine(value):
        await value
