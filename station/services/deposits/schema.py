"""Deposits' table: who left what in which storage locker, and where its pickup code stands."""

from __future__ import annotations

from station.store import Schema

STORAGE_SCHEMA = Schema(
    "storage",
    [
        """
        CREATE TABLE deposits (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            locker TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('bag', 'phone_charge')),
            depositor TEXT NOT NULL,        -- member label or the kiosk actor (walk-in)
            depositor_masked TEXT,
            status TEXT NOT NULL CHECK (status IN
                ('open', 'active', 'collected', 'cleared', 'abandoned')),
            started_at REAL NOT NULL,
            code_id INTEGER,
            code_expires_at REAL,
            overtime_logged INTEGER NOT NULL DEFAULT 0,
            closed_at REAL,
            closed_by TEXT,
            note TEXT
        );
        CREATE INDEX deposits_locker ON deposits(locker, status);
        """,
    ],
)
