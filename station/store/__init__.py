"""The station's durable store: SQLite through sqlite-utils, one writer, an append-only log."""

from station.store.db import Store, StoreError, StoreFull
from station.store.events import Event, Tx, first_after
from station.store.rows import record
from station.store.schema import Schema

__all__ = ["Event", "Schema", "Store", "StoreError", "StoreFull", "Tx", "first_after", "record"]
