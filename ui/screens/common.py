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
from ui.widgets.fit import outer_height, page_size
from ui.widgets.keypad import Keypad, Kind
from ui.widgets.text import DataButton, Labeller, TButton, TLabel


class KeypadScreen(KioskScreen):
    """Enter a number on the keypad, then Next (or Skip, where the number is optional)."""

    PROMPT_KEY: ClassVar[str] = "keypad.empty"
    KIND: ClassVar[Kind] = "code"
    SKIPPABLE: ClassVar[bool] = False

    def body(self) -> ComposeResult:
        yield TLabel(self.PROMPT_KEY, id="prompt", classes="prompt")
        with Horizontal(id="keypad-row"):
            yield self.keypad()
            with Vertical(id="keypad-side"):
                yield TButton("nav.next", id="next", variant="primary", disabled=True)
                if self.SKIPPABLE:
                    yield TButton("nav.skip", id="skip")

    def keypad(self) -> Keypad:
        return Keypad(self.KIND, id="keypad")

    def on_keypad_changed(self, event: Keypad.Changed) -> None:
        self.query_one("#next", Button).disabled = not event.complete

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
        """The entry is complete and Next was tapped."""

    def skip(self) -> None:
        """Skip was tapped (only on screens where the entry is optional)."""

    def clear_entry(self) -> None:
        self.query_one(Keypad).clear()
        self.query_one("#next", Button).disabled = True


@dataclass(frozen=True)
class Choice:
    """One tappable option. A disabled one stays visible and its label says why."""

    label: Labeller
    value: Any
    key: str
    """Stable and unique among the options: the button's id is `choice-<key>`."""
    enabled: bool = True
    variant: str = "default"


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
                classes="choice",
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
