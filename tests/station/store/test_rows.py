"""Rows into records: columns by name, computed fields given, late columns defaulted."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import pytest

from station.store import record


@dataclass(frozen=True)
class _Thing:
    id: int
    name: str
    low: bool
    state: str = "set"


def _row(sql: str) -> sqlite3.Row:
    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    return conn.execute(sql).fetchone()


def test_fields_come_from_columns_by_name_and_given_ones_win() -> None:
    row = _row("SELECT 7 AS id, 'pump' AS name, 3 AS count, 'x' AS state")
    assert record(_Thing, row, low=row["count"] <= 5) == _Thing(7, "pump", True, "x")


def test_a_column_a_later_schema_added_may_be_missing_if_the_field_has_a_default() -> None:
    assert record(_Thing, {"id": 1, "name": "a"}, low=False).state == "set"
    with pytest.raises(KeyError):
        record(_Thing, {"id": 1}, low=False)
