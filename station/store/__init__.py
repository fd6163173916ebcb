"""The station's durable store: SQLite (the stdlib's sqlite3), one writer, an append-only log."""

from station.store.db import Store
from station.store.errors import StoreDamaged, StoreError, StoreFull
from station.store.events import Event, Tx, first_after
from station.store.rows import record
from station.store.schema import Schema

__all__ = [
    "Event",
    "Schema",
    "Store",
    "StoreDamaged",
    "StoreError",
    "StoreFull",
    "Tx",
    "first_after",
    "record",
]
