"""The alarm types a station raises: one list for the station's telemetry and central's alerts.

Central routes alarms to people by type and counts them per type, so a type the station raises
but central does not know would be an alarm nobody is told about.
"""

from __future__ import annotations

STATION_ALARMS = (
    "forced_open",
    "door_jammed",
    "door_left_open",
    "board_offline",
    "sensor_offline",
    "reader_offline",
    "item_left",
    "item_unexpected",
    "pin_lockout",
    "guessing",
    "low_stock",
    "sync_failing",
    "disk_full",
    "database_behind",
)
