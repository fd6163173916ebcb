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
