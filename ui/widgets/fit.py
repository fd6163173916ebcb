"""How many rows of touch targets fit in the height a list gets, so lists page instead of
pushing buttons off a small panel (66x13 cells on the 7 inch screen).

A list's page size is what the design allows at most (`PAGE_SIZE`) cut down to what fits in
the cells the screen has now; a larger screen shows more per page, a smaller one more pages.
"""

from __future__ import annotations

from textual.widget import Widget

TARGET_H = 3
"""The least height of anything a finger must hit."""
PAGER_H = 3
"""The previous / next page buttons."""


def rows_that_fit(height: int, row_h: int = TARGET_H, gutter: int = 1) -> int:
    """Rows of `row_h` cells (with `gutter` between them) in `height` cells; at least one."""
    return max(1, (height + gutter) // (row_h + gutter))


def outer_height(widget: Widget) -> int:
    """Cells a shown widget takes in its column, margins included; 0 when hidden."""
    if not widget.display or widget.has_class("hidden"):
        return 0
    margin = widget.styles.margin
    return widget.outer_size.height + margin.top + margin.bottom


def page_size(
    items: int,
    columns: int,
    most: int,
    room: int,
    row_h: int = TARGET_H,
    gutter: int = 1,
) -> int:
    """Items per page: at most `most`, in rows of `columns` that fit in `room` cells.

    `room` is the height the list has without its pager; when the items need more than one
    page, the pager's height comes off it.
    """
    most = max(1, most)
    whole = min(most, columns * rows_that_fit(room, row_h, gutter))
    if items <= whole:
        return whole
    return min(most, columns * rows_that_fit(room - PAGER_H, row_h, gutter))
