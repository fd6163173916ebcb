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
        try:
            from central.storage.postgres import PostgresStorage
        except ImportError as exc:
            if exc.name is None or not exc.name.startswith("psycopg"):
                raise
            raise StorageError(
                "a PostgreSQL database needs psycopg, which this install leaves out: install "
                "the project with its central extra (pip install 'gongxiang-yizhan[central]', "
                "or deploy/install.sh --role central)"
            ) from exc

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
