"""Step screens every flow is built from: a keypad step and a choice step.

Each holds exactly one decision: type something and tap Next, or tap one of the choices.
Choices come as data (label builder, value, whether and why disabled) and are paged with
large previous/next buttons, since a touchscreen in a booth cannot scroll.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Button

from ui.screens.base import KioskScreen
from ui.screens.errors import ErrorScreen, Problem, line
from ui.widgets.fit import outer_height, page_size
from ui.widgets.keypad import SPECS, Keypad, Kind
from ui.widgets.text import DataButton, Labeller, TButton, TLabel


class KeypadScreen(KioskScreen):
    """Enter a number on the keypad, then Next (or Skip, where the number is optional).

    On a resident's screen (`GOES_ON`) an entry of one length (phone number, PIN, code) goes
    on by itself with its last digit, so it costs no tap of its own; the staff screens keep
    Next, as do entries of any length (staff numbers, counts).
    """

    PROMPT_KEY: ClassVar[str] = "keypad.empty"
    KIND: ClassVar[Kind] = "code"
    SKIPPABLE: ClassVar[bool] = False
    GOES_ON: ClassVar[bool] = False

    @property
    def auto(self) -> bool:
        return self.GOES_ON and SPECS[self.KIND].fixed

    def body(self) -> ComposeResult:
        yield TLabel(self.PROMPT_KEY, id="prompt", classes="prompt")
        with Horizontal(id="keypad-row"):
            yield self.keypad()
            with Vertical(id="keypad-side"):
                # An entry that goes on by itself shows Next only when one is already complete
                # (back on this screen after the next step): then Next takes it on as it is.
                classes = "hidden" if self.auto else ""
                yield TButton(
                    "nav.next", id="next", variant="primary", disabled=True, classes=classes
                )
                if self.SKIPPABLE:
                    yield TButton("nav.skip", id="skip")

    def keypad(self) -> Keypad:
        return Keypad(self.KIND, id="keypad")

    def on_keypad_changed(self, event: Keypad.Changed) -> None:
        next_button = self.query_one("#next", Button)
        next_button.disabled = not event.complete
        if self.auto:
            next_button.set_class(not event.complete, "hidden")
            if event.complete:
                self.submit(event.value)

    @on(Button.Pressed, "#next")
    def _next(self, event: Button.Pressed) -> None:
        event.stop()
        keypad = self.query_one(Keypad)
        if keypad.is_complete:
            self.submit(keypad.value)

    @on(Button.Pressed, "#skip")
    def _skip(self, event: Button.Pressed) -> None:
        event.stop()
        self.skip()

    def submit(self, value: str) -> None:
        """The entry is complete (its last digit, or Next)."""

    def skip(self) -> None:
        """Skip was tapped (only on screens where the entry is optional)."""

    def clear_entry(self) -> None:
        self.query_one(Keypad).clear()
        next_button = self.query_one("#next", Button)
        next_button.disabled = True
        next_button.set_class(self.auto, "hidden")


class PinTwice(KeypadScreen):
    """Choose a PIN: typed on this screen, then again on a second one (`first` set); two
    different PINs start over at the first screen, cleared. Mixed into a keypad step, which
    says what a second screen is (`again`) and what to do with the PIN (`chosen`)."""

    KIND = "pin"
    first: str = ""

    def on_mount(self) -> None:
        if self.first:
            self.query_one("#prompt", TLabel).show("pin.again")

    def again(self, first: str) -> Any:
        """The second screen, which asks for `first` again."""

    def chosen(self, pin: str) -> None:
        """The same PIN was typed twice."""

    def submit(self, value: str) -> None:
        if not self.first:
            self.app.push_screen(self.again(value))
            return
        if value != self.first:
            self.app.pop_screen()  # back to the first PIN screen, cleared
            first = self.app.screen
            if isinstance(first, KeypadScreen):
                first.clear_entry()
            self.app.push_screen(ErrorScreen(Problem("pin.differ", [line("pin.differ.body")])))
            return
        self.chosen(value)


@dataclass(frozen=True)
class Choice:
    """One tappable option. A disabled one stays visible and its label says why."""

    label: Labeller
    value: Any
    key: str
    """Stable and unique among the options: the button's id is `choice-<key>`."""
    enabled: bool = True
    variant: str = "default"
    classes: str = ""
    """More CSS classes for its button (a colour swatch)."""


def widget_id(key: str) -> str:
    """A Textual id from any text (a tool id, a locker, a category code)."""
    return "choice-" + re.sub(r"[^A-Za-z0-9_-]", "_", key)


class ChoiceScreen(KioskScreen):
    """Tap one of several options, shown a page at a time in a grid of large buttons."""

    PROMPT_KEY: ClassVar[str] = "keypad.empty"
    COLUMNS: ClassVar[int] = 3
    PAGE_SIZE: ClassVar[int] = 6
    """The most options on one page; fewer when the screen has less room (see `fit`)."""
    EMPTY_KEY: ClassVar[str] = "choice.empty"

    def __init__(self) -> None:
        super().__init__()
        self._choices: list[Choice] = []
        self._page = 0
        self._per_page = self.PAGE_SIZE
        self._drawing = asyncio.Lock()

    def body(self) -> ComposeResult:
        yield TLabel(self.PROMPT_KEY, id="prompt", classes="prompt")
        yield TLabel(self.EMPTY_KEY, id="empty", classes="sentence hidden")
        yield Grid(id="choices", classes=f"cols-{self.COLUMNS}")
        with Horizontal(id="pager", classes="hidden"):
            yield TButton("nav.prev_page", id="prev-page", classes="pager")
            yield TLabel("nav.page", {"page": 1, "pages": 1}, id="page-no")
            yield TButton("nav.next_page", id="next-page", classes="pager")

    async def show_choices(self, choices: Sequence[Choice]) -> None:
        """Replace the options (called with data once it arrives)."""
        self._choices = list(choices)
        self._page = min(self._page, max(0, self._pages() - 1))
        await self._render_page()
        # The first page may have been sized on a guess: measure once it is laid out.
        self.call_after_refresh(self._refit)

    def _pages(self) -> int:
        return max(1, -(-len(self._choices) // self._per_page))

    def fit(self) -> int:
        """Options per page that fit the room the grid has on this screen now."""
        body = self.query_one("#body")
        grid = self.query_one("#choices", Grid)
        if body.size.height <= 0:
            room = self.app.size.height - 4  # not laid out yet: the top bar and a prompt
        else:
            others = sum(outer_height(w) for w in body.children if w.id not in ("choices", "pager"))
            padding = grid.styles.padding
            room = body.size.height - others - padding.top - padding.bottom
        return page_size(len(self._choices), self.COLUMNS, self.PAGE_SIZE, room)

    def on_resize(self) -> None:
        self.call_after_refresh(self._refit)

    def on_language(self) -> None:
        # The other language may wrap the prompt onto more or fewer lines: the grid's room
        # changes with it.
        self.call_after_refresh(self._refit)

    async def _refit(self) -> None:
        if (
            self.is_mounted
            and self.query_one("#body").size.height > 0
            and (self.fit() != self._per_page)
        ):
            await self._render_page()

    async def _render_page(self) -> None:
        """Show the current page; one redraw at a time, so two never mount the same ids."""
        async with self._drawing:
            first = self._page * self._per_page
            self._per_page = self.fit()
            self._page = min(first // self._per_page, self._pages() - 1)
            await self._draw_page()

    async def _draw_page(self) -> None:
        grid = self.query_one("#choices", Grid)
        await grid.remove_children()
        start = self._page * self._per_page
        shown = self._choices[start : start + self._per_page]
        await grid.mount_all(
            DataButton(
                c.label,
                c.value,
                id=widget_id(c.key),
                classes=f"choice {c.classes}".strip(),
                variant=c.variant,
                disabled=not c.enabled,
            )
            for c in shown
        )
        self.query_one("#empty").set_class(bool(self._choices), "hidden")
        pages = self._pages()
        self.query_one("#pager").set_class(pages <= 1, "hidden")
        self.query_one("#page-no", TLabel).show("nav.page", page=self._page + 1, pages=pages)
        self.query_one("#prev-page", Button).disabled = self._page == 0
        self.query_one("#next-page", Button).disabled = self._page >= pages - 1

    @on(Button.Pressed, "#prev-page")
    async def _prev_page(self, event: Button.Pressed) -> None:
        event.stop()
        self._page = max(0, self._page - 1)
        await self._render_page()

    @on(Button.Pressed, "#next-page")
    async def _next_page(self, event: Button.Pressed) -> None:
        event.stop()
        self._page = min(self._pages() - 1, self._page + 1)
        await self._render_page()

    @on(Button.Pressed, ".choice")
    def _chosen(self, event: Button.Pressed) -> None:
        event.stop()
        if isinstance(event.button, DataButton):
            self.chosen(event.button.value)

    def chosen(self, value: Any) -> None:
        """One option was tapped."""
