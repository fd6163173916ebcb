"""Lost and found's tables: the items handed in, and the claims on them."""

from __future__ import annotations

from station.store import Schema

LOSTFOUND_SCHEMA = Schema(
    "lostfound",
    [
        """
        CREATE TABLE found_items (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            number TEXT NOT NULL UNIQUE,
            category TEXT NOT NULL,
            colour TEXT NOT NULL,
            place TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            valuable INTEGER NOT NULL,
            finder_id TEXT,                 -- keyed phone hash, for thanks; never shown
            finder_label TEXT,
            finder_masked TEXT,
            locker TEXT,
            in_locker INTEGER NOT NULL DEFAULT 1,
            status TEXT NOT NULL CHECK (status IN
                ('held', 'awaiting_pickup', 'with_staff', 'claimed', 'expired', 'removed')),
            found_at REAL NOT NULL,
            collect_by REAL,
            expires_at REAL NOT NULL,
            collected_by TEXT,
            disposition TEXT,
            disposition_reason TEXT,
            closed_at REAL
        );
        CREATE INDEX found_items_locker ON found_items(locker) WHERE in_locker = 1;

        CREATE TABLE claims (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            item_id INTEGER NOT NULL REFERENCES found_items(id),
            claimant_id TEXT NOT NULL,
            claimant_label TEXT NOT NULL,
            claimant_masked TEXT NOT NULL,
            description TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'picked_up')),
            created_at REAL NOT NULL,
            decided_at REAL,
            decided_by TEXT,
            reason TEXT,
            code_id INTEGER
        );
        CREATE INDEX claims_item ON claims(item_id);
        """,
    ],
)
