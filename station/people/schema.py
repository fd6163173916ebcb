"""Tables of the people component: members, staff, their cards and PIN failure counters."""

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
        # Cards and codes (community access cards, QR codes) bound to a member or a staff
        # account, as keyed hashes only (station/people/cards.py); members central imports
        # without a PIN, or with a first PIN they must change at the station.
        """
        CREATE TABLE cards (
            hash TEXT PRIMARY KEY,          -- keyed hash of the card number or code (hex)
            owner_kind TEXT NOT NULL CHECK (owner_kind IN ('member', 'staff')),
            owner TEXT NOT NULL,            -- member id (phone hash) or staff number
            source TEXT NOT NULL DEFAULT 'station' CHECK (source IN ('station', 'central')),
            created_at REAL NOT NULL
        );
        CREATE INDEX cards_owner ON cards (owner_kind, owner);
        ALTER TABLE members ADD COLUMN pin_state TEXT NOT NULL DEFAULT 'set'
            CHECK (pin_state IN ('set', 'must_change', 'unset'));
        """,
        # What the central office's bundle says beyond the account itself: a member's own
        # loan limit (NULL: the station's [services] default) and a staff member's role.
        """
        ALTER TABLE members ADD COLUMN max_loans INTEGER CHECK (max_loans >= 0);
        ALTER TABLE staff ADD COLUMN role TEXT NOT NULL DEFAULT 'staff'
            CHECK (role IN ('staff', 'admin'));
        """,
        # A lockout measured on the monotonic clock of the boot that set it, so moving the
        # wall clock neither ends nor lengthens it (station/store/elapsed.py).
        """
        ALTER TABLE pin_failures ADD COLUMN locked_boot TEXT;
        ALTER TABLE pin_failures ADD COLUMN locked_mono REAL;
        ALTER TABLE pin_failures ADD COLUMN lock_s REAL;
        """,
    ],
)
