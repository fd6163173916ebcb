"""Supplies' table: each consumable, its restock threshold and its last count."""

from __future__ import annotations

from station.store import Schema

SUPPLIES_SCHEMA = Schema(
    "supplies",
    [
        """
        CREATE TABLE supplies (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            name_en TEXT NOT NULL,
            unit TEXT NOT NULL,
            threshold INTEGER NOT NULL,
            count INTEGER,                  -- NULL until staff first count it
            counted_at REAL,
            updated_at REAL NOT NULL
        );
        """,
    ],
)
