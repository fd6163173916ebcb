"""The fleet history's tables on PostgreSQL: the same tables as history_sqlite.py in
PostgreSQL's types. The logic that fills and reads them is sql_history.py's.
"""

HISTORY_STEP = """
    CREATE TABLE rollup_state (
        station TEXT PRIMARY KEY REFERENCES stations(id),
        rolled_seq BIGINT NOT NULL
    );
    CREATE TABLE station_hourly (
        station TEXT NOT NULL REFERENCES stations(id),
        hour BIGINT NOT NULL,
        occupied_s DOUBLE PRECISION NOT NULL DEFAULT 0,
        sessions BIGINT NOT NULL DEFAULT 0,
        loans BIGINT NOT NULL DEFAULT 0,
        returns BIGINT NOT NULL DEFAULT 0,
        alarms BIGINT NOT NULL DEFAULT 0,
        door_openings BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (station, hour)
    );
    CREATE INDEX station_hourly_hour ON station_hourly(hour);
    CREATE TABLE telemetry_samples (
        station TEXT NOT NULL REFERENCES stations(id),
        at DOUBLE PRECISION NOT NULL,
        sample JSONB NOT NULL,
        PRIMARY KEY (station, at)
    );
    CREATE INDEX telemetry_samples_at ON telemetry_samples(at);
"""

REPORTS_STEP = """
    CREATE TABLE report_state (
        station TEXT PRIMARY KEY REFERENCES stations(id),
        rolled_seq BIGINT NOT NULL
    );
    CREATE TABLE report_counts (
        station TEXT NOT NULL REFERENCES stations(id),
        hour BIGINT NOT NULL,
        metric TEXT NOT NULL,
        key TEXT NOT NULL,
        value DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (station, hour, metric, key)
    );
    CREATE INDEX report_counts_hour ON report_counts(hour);
"""
"""The office reports' figures (central/reports/fold.py) and each station's fold position."""

ALERTS_STEP = """
    CREATE TABLE alert_state (
        station TEXT PRIMARY KEY REFERENCES stations(id),
        rolled_seq BIGINT NOT NULL
    );
    CREATE TABLE alerts (
        id BIGSERIAL PRIMARY KEY,
        station TEXT NOT NULL REFERENCES stations(id),
        source TEXT NOT NULL,
        type TEXT NOT NULL,
        subject TEXT NOT NULL,
        detail TEXT NOT NULL,
        raised_at DOUBLE PRECISION NOT NULL,
        acked_at DOUBLE PRECISION,
        cleared_at DOUBLE PRECISION,
        reminders BIGINT NOT NULL DEFAULT 0,
        noticed_at DOUBLE PRECISION,
        UNIQUE (station, source)
    );
    CREATE INDEX alerts_open ON alerts(station, type) WHERE cleared_at IS NULL;
    CREATE TABLE alert_messages (
        id BIGSERIAL PRIMARY KEY,
        alert_id BIGINT NOT NULL REFERENCES alerts(id),
        channel TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('raised', 'reminder', 'cleared')),
        quiet TEXT,
        due_at DOUBLE PRECISION NOT NULL,
        attempts BIGINT NOT NULL DEFAULT 0,
        sent_at DOUBLE PRECISION,
        last_error TEXT
    );
    CREATE INDEX alert_messages_due ON alert_messages(due_at) WHERE sent_at IS NULL;
"""
"""Alerts to people (central/alerts/): each alarm once, and every message owed to a channel."""

REMINDERS_STEP = """
    CREATE TABLE reminder_state (
        station TEXT PRIMARY KEY REFERENCES stations(id),
        rolled_seq BIGINT NOT NULL
    );
    CREATE TABLE member_contacts (
        member TEXT PRIMARY KEY,
        sealed TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL
    );
    CREATE TABLE member_reminders (
        id BIGSERIAL PRIMARY KEY,
        station TEXT NOT NULL REFERENCES stations(id),
        member TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('due_soon', 'overdue', 'claim_approved')),
        ref TEXT NOT NULL,
        facts TEXT NOT NULL,
        due_at DOUBLE PRECISION NOT NULL,
        attempts BIGINT NOT NULL DEFAULT 0,
        sent_at DOUBLE PRECISION,
        dropped TEXT,
        UNIQUE (station, kind, ref)
    );
    CREATE INDEX member_reminders_due ON member_reminders(due_at)
        WHERE sent_at IS NULL AND dropped IS NULL;
"""
"""Reminders to members who opted in: their sealed contacts and the reminders owed."""
