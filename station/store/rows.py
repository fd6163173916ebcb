"""Rows into typed records: one way for every service, so no record spells out its columns.

A record whose fields are named like its table's columns is built with `record(cls, row)`;
the fields that are computed (a flag from two columns, a masked number, JSON decoded) are
given as keywords, the rest are taken from the row by name, and a field with a default may
be missing from the row (a column a later schema step added).
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")


def record(cls: type[T], row: Any, **given: Any) -> T:
    """`cls` (a dataclass) from `row` (a mapping or sqlite3.Row), with `given` overriding."""
    r = dict(row)
    taken = {
        f.name: r[f.name]
        for f in dataclasses.fields(cls)
        if f.name not in given and (f.name in r or f.default is dataclasses.MISSING)
    }
    return cls(**taken, **given)
