"""Where central keeps stations, tokens, the fleet's usage logs and the bundles it publishes."""

from __future__ import annotations

from pathlib import Path

from central.storage.base import (
    BundleRecord,
    EventQuery,
    IncomingEvent,
    IngestResult,
    SeqConflict,
    StationExists,
    StationRecord,
    Storage,
    StorageError,
    TokenRecord,
    UnknownStation,
)


def open_storage(database: str | Path) -> Storage:
    """A PostgreSQL URL (postgresql://...) selects PostgreSQL; anything else is a SQLite path."""
    text = str(database)
    if text.startswith(("postgresql://", "postgres://")) or text.startswith("host="):
        from central.storage.postgres import PostgresStorage

        return PostgresStorage(text)
    from central.storage.sqlite import SQLiteStorage

    return SQLiteStorage(Path(text))


__all__ = [
    "BundleRecord",
    "EventQuery",
    "IncomingEvent",
    "IngestResult",
    "SeqConflict",
    "StationExists",
    "StationRecord",
    "Storage",
    "StorageError",
    "TokenRecord",
    "UnknownStation",
    "open_storage",
]
