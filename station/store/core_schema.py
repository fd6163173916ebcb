"""The core tables: station metadata, the usage log, lockers and alarms."""

from station.store.schema import Schema

CORE_SCHEMA = Schema(
    "core",
    [
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

        CREATE TABLE events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            type TEXT NOT NULL,
            ts REAL NOT NULL,
            ts_corrected REAL,
            mono REAL NOT NULL,
            boot_id TEXT NOT NULL,
            clock_synced INTEGER NOT NULL,
            actor TEXT NOT NULL,
            locker TEXT,
            payload TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX events_type_seq ON events(type, seq);
        CREATE INDEX events_locker_seq ON events(locker, seq);

        CREATE TRIGGER events_append_only BEFORE UPDATE OF
            seq, id, type, ts, mono, boot_id, clock_synced, actor, locker, payload ON events
        BEGIN
            SELECT RAISE(ABORT, 'the usage log is append-only');
        END;

        CREATE TABLE lockers (
            id TEXT PRIMARY KEY,
            board TEXT NOT NULL,
            channel INTEGER NOT NULL,
            size TEXT NOT NULL,
            purpose TEXT NOT NULL,
            door TEXT NOT NULL DEFAULT 'unknown' CHECK (door IN ('open', 'closed', 'unknown')),
            door_since REAL,
            faulty INTEGER NOT NULL DEFAULT 0,
            fault_reason TEXT,
            last_unlock_at REAL,
            last_unlock_seq INTEGER
        );

        CREATE TABLE alarms (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            type TEXT NOT NULL,
            subject TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('raised', 'acknowledged', 'cleared')),
            detail TEXT NOT NULL DEFAULT '',
            raised_at REAL NOT NULL,
            acked_by TEXT,
            acked_at REAL,
            cleared_at REAL
        );
        CREATE INDEX alarms_open ON alarms(type, subject) WHERE state != 'cleared';
        """,
    ],
)
