"""A list of rows with action buttons, a page at a time (a booth touchscreen cannot scroll).

Maintenance lists (alarms, claims, supplies) are rows of text with one or two buttons each.
The widget posts `PagedRows.Action(action, item)` when a row's button is tapped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import MountError
from textual.widgets import Button

from ui.widgets.fit import page_size as fitting
from ui.widgets.text import DataButton, DataLabel, Labeller, TButton, TLabel


@dataclass(frozen=True)
class RowAction:
    key: str
    """Catalogue key of the button's label."""
    action: str
    variant: str = "default"


@dataclass(frozen=True)
class Row:
    text: Labeller
    item: Any
    key: str
    """Unique among the rows: buttons get ids `<action>-<key>`."""
    actions: Sequence[RowAction] = field(default_factory=tuple)


class PagedRows(Vertical):
    PAGE_SIZE: ClassVar[int] = 5
    """The most rows on one page; fewer when the panel has less room."""

    class Action(Message):
        def __init__(self, rows: PagedRows, action: str, item: Any) -> None:
            super().__init__()
            self.rows = rows
            self.action = action
            self.item = item

        @property
        def control(self) -> PagedRows:
            return self.rows

    def __init__(
        self, empty_key: str, *, page_size: int | None = None, id: str | None = None
    ) -> None:
        super().__init__(id=id, classes="rows")
        self.empty_key = empty_key
        self.most = page_size or self.PAGE_SIZE
        self.page_size = self.most
        self._rows: list[Row] = []
        self._page = 0
        self._drawing = asyncio.Lock()

    def compose(self) -> ComposeResult:
        yield TLabel(self.empty_key, classes="sentence empty")
        yield Vertical(classes="row-list")
        with Horizontal(classes="pager hidden"):
            yield TButton("nav.prev_page", classes="prev")
            yield TLabel("nav.page", {"page": 1, "pages": 1}, classes="page-no")
            yield TButton("nav.next_page", classes="next")

    async def show_rows(self, rows: Sequence[Row]) -> None:
        self._rows = list(rows)
        self._page = min(self._page, self._pages() - 1)
        await self._draw()

    def _pages(self) -> int:
        return max(1, -(-len(self._rows) // self.page_size))

    def fit(self) -> int:
        """Rows per page that fit the height this list has now (3 cells each, 1 between)."""
        room = self.size.height or (self.app.size.height - 7)
        return fitting(len(self._rows), 1, self.most, room)

    def on_resize(self) -> None:
        self.call_after_refresh(self._refit)

    async def _refit(self) -> None:
        if self.is_mounted and self.query(".pager") and self.fit() != self.page_size:
            await self._draw()

    async def _draw(self) -> None:
        """Replace the shown rows; one redraw at a time, so two never mount the same ids."""
        async with self._drawing:
            first = self._page * self.page_size
            self.page_size = self.fit()
            self._page = min(first // self.page_size, self._pages() - 1)
            await self._draw_rows()

    async def _draw_rows(self) -> None:
        box = self.query_one(".row-list", Vertical)
        await box.remove_children()
        start = self._page * self.page_size
        shown = self._rows[start : start + self.page_size]
        widgets = [
            Horizontal(
                DataLabel(row.text, classes="row-text"),
                *(
                    DataButton(
                        _label(a.key),
                        (a.action, row.item),
                        id=_safe(f"{a.action}-{row.key}"),
                        variant=a.variant,
                        classes="row-action",
                    )
                    for a in row.actions
                ),
                classes="row",
            )
            for row in shown
        ]
        try:
            await box.mount_all(widgets)
        except MountError:
            if self.is_attached:
                raise
        if not self.is_attached:
            return  # the screen went away while the rows were drawn: nothing to show them on
        self.query_one(".empty").set_class(bool(self._rows), "hidden")
        pages = self._pages()
        self.query_one(".pager").set_class(pages <= 1, "hidden")
        self.query_one(".page-no", TLabel).show("nav.page", page=self._page + 1, pages=pages)
        self.query_one(".prev", Button).disabled = self._page == 0
        self.query_one(".next", Button).disabled = self._page >= pages - 1

    @on(Button.Pressed, ".prev")
    async def _prev(self, event: Button.Pressed) -> None:
        event.stop()
        self._page = max(0, self._page - 1)
        await self._draw()

    @on(Button.Pressed, ".next")
    async def _next(self, event: Button.Pressed) -> None:
        event.stop()
        self._page = min(self._pages() - 1, self._page + 1)
        await self._draw()

    @on(Button.Pressed, ".row-action")
    def _action(self, event: Button.Pressed) -> None:
        event.stop()
        if isinstance(event.button, DataButton):
            action, item = event.button.value
            self.post_message(self.Action(self, action, item))


def _label(key: str) -> Labeller:
    return lambda i18n: i18n.t(key)


def _safe(text: str) -> str:
    return "".join(c if (c.isascii() and c.isalnum()) or c in "-_" else "_" for c in text)
