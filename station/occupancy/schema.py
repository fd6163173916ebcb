"""The occupancy component's tables: finished sessions, the live state, and the two relays.

The usage log carries the events (what syncs); these tables are the state the daemon needs at
start: today's totals without replaying the log, and an unfinished session to close honestly
after a crash.
"""

from station.store import Schema

OCCUPANCY_SCHEMA = Schema(
    "occupancy",
    [
        """
        CREATE TABLE occupancy_sessions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            started_at REAL NOT NULL,
            ended_at REAL NOT NULL,
            duration_s REAL NOT NULL CHECK (duration_s >= 0),
            end_reason TEXT NOT NULL
        );
        CREATE INDEX occupancy_sessions_ended ON occupancy_sessions(ended_at);

        CREATE TABLE occupancy_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            state TEXT NOT NULL CHECK (state IN ('occupied', 'vacant', 'unknown')),
            since REAL NOT NULL,
            session_started_at REAL,
            last_seen_at REAL
        );

        CREATE TABLE occupancy_relays (
            name TEXT PRIMARY KEY,
            is_on INTEGER NOT NULL,
            since REAL NOT NULL,
            override_on INTEGER,
            override_until REAL,
            override_by TEXT,
            override_reason TEXT
        );
        """,
    ],
)
