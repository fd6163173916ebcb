"""The telemetry snapshot each sync batch carries: its version and what central reads of it.

The snapshot is a JSON object the station builds (station/telemetry/) and central keeps as the
station's latest state. Central reads it tolerantly (a station of an older version may lack a
part), so the contract is this list of the numbers central keeps over time, each by its path
in the snapshot: a station test checks that its compact snapshot has every one.
"""

from __future__ import annotations

from typing import Any

SNAPSHOT_VERSION = 1
"""`v` in every snapshot; raised when a part changes meaning, so central can tell."""

SAMPLE_PATHS: dict[str, tuple[str, ...]] = {
    "sync_lag_s": ("sync", "lag_s"),
    "sync_pending": ("sync", "pending"),
    "doors_open": ("doors", "open"),
    "doors_faulty": ("doors", "faulty"),
    "alarms_open": ("alarms", "open"),
    "loans_overdue": ("tools", "overdue"),
    "supplies_low": ("supplies", "low"),
    "cpu_temp_c": ("health", "cpu_temp_c"),
    "disk_free_bytes": ("health", "disk_free_bytes"),
    "mem_available_bytes": ("health", "mem_available_bytes"),
}
"""The numbers of a snapshot central samples for its history, by where they are."""
OCCUPANCY_STATE = ("occupancy", "state")


def dig(value: Any, *path: str) -> Any:
    """value[path[0]][path[1]]..., or None where any step is missing or not an object."""
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value
