"""Tables of the people component: members, staff and PIN failure counters."""

from station.store import Schema

PEOPLE_SCHEMA = Schema(
    "people",
    [
        """
        CREATE TABLE members (
            id TEXT PRIMARY KEY,            -- keyed hash of the phone number (hex)
            prefix3 TEXT NOT NULL,          -- first 3 digits, for the masked display only
            last4 TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('resident', 'courier')),
            pin_hash TEXT NOT NULL,         -- argon2id
            status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
            source TEXT NOT NULL DEFAULT 'station' CHECK (source IN ('station', 'central')),
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );

        CREATE TABLE staff (
            staff_no TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            pin_hash TEXT NOT NULL,         -- argon2id
            active INTEGER NOT NULL DEFAULT 1,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );

        CREATE TABLE pin_failures (
            subject TEXT PRIMARY KEY,       -- 'member:<hash>' or 'staff:<number>'
            label TEXT NOT NULL,            -- how the log and alarms name it
            failures INTEGER NOT NULL DEFAULT 0,
            lockouts INTEGER NOT NULL DEFAULT 0,
            locked_until REAL,
            last_failure_at REAL
        );
        """,
        # Staff accounts the central office manages arrive in its bundle; local ones stay local.
        """
        ALTER TABLE staff ADD COLUMN source TEXT NOT NULL DEFAULT 'station'
            CHECK (source IN ('station', 'central'));
        """,
    ],
)
