"""Sync's own tables: the upload cursor, the applied bundles and each boot's clock offset."""

from station.store.schema import Schema

SYNC_SCHEMA = Schema(
    "sync",
    [
        """
        CREATE TABLE sync_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            cursor INTEGER NOT NULL DEFAULT 0,
            last_success_at REAL,
            bundle_version INTEGER NOT NULL DEFAULT 0,
            bundle_rejected_version INTEGER,
            bundle_rejected_reason TEXT
        );
        INSERT INTO sync_state (id) VALUES (1);

        CREATE TABLE sync_bundles (
            version INTEGER PRIMARY KEY,
            sha256 TEXT NOT NULL,
            body TEXT NOT NULL,
            applied_at REAL NOT NULL
        );

        CREATE TABLE sync_boot_offsets (
            boot_id TEXT PRIMARY KEY,
            offset REAL NOT NULL,
            source TEXT NOT NULL CHECK (source IN ('clock', 'event', 'central')),
            uncertainty REAL NOT NULL,
            observed_at REAL NOT NULL
        );
        """,
    ],
)
