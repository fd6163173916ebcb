"""The command journal and the settings the office set remotely."""

from station.store.schema import Schema

REMOTE_SCHEMA = Schema(
    "remote",
    [
        """
        CREATE TABLE remote_commands (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            issuer TEXT NOT NULL,
            reason TEXT NOT NULL,
            expires_at REAL NOT NULL,
            received_at REAL NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('running', 'done', 'refused', 'failed')),
            detail TEXT NOT NULL DEFAULT '',
            data TEXT NOT NULL DEFAULT '{}',
            finished_at REAL,
            reported_at REAL
        );
        CREATE INDEX remote_commands_unreported ON remote_commands(reported_at)
            WHERE reported_at IS NULL;

        CREATE TABLE remote_settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            command TEXT NOT NULL,
            issuer TEXT NOT NULL,
            set_at REAL NOT NULL
        );
        """,
    ],
)
