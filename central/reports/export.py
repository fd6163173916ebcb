"""A report's tables as CSV (one view) and as an XLSX workbook (one sheet per view).

Both carry the same header row (the columns' bilingual labels) and the same values; in the
workbook numbers are stored as numbers, so a spreadsheet sums them without conversion. CSV
opens with a UTF-8 byte-order mark so that Excel, which the offices use, reads the Chinese
labels right instead of guessing a legacy code page.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from central.reports.build import Report, Table

CSV_MEDIA = "text/csv; charset=utf-8"
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class SpreadsheetUnavailable(RuntimeError):
    """openpyxl is a central-only dependency; a Pi's install does without it."""


def _cell(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula is written as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def table_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.label for c in table.columns])
    for row in table.rows:
        writer.writerow([_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode()


def report_xlsx(report: Report) -> bytes:
    try:
        from openpyxl import Workbook
        from openpyxl.utils import get_column_letter
    except ImportError:  # pragma: no cover - the dependency is installed with central
        raise SpreadsheetUnavailable(
            "XLSX needs the 'openpyxl' package on the central server: pip install openpyxl"
        ) from None
    book = Workbook()
    book.remove(book.active)
    for table in report.tables:
        sheet = book.create_sheet(table.name)
        sheet.append([c.label for c in table.columns])
        for row in table.rows:
            sheet.append([_cell(v) for v in row])
        sheet.freeze_panes = "A2"
        for i, column in enumerate(table.columns, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = max(10, len(column.label) + 2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
