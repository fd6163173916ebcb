"""The running station's parts, as built by the composition root (station/daemon.py).

The API and the CLI take this one object instead of reaching for globals; tests build it
the same way the daemon does.
"""

from __future__ import annotations

from dataclasses import dataclass

from station.alarms import AlarmService
from station.clock import Clock
from station.config import StationConfig
from station.doors.lockers import LockerService
from station.live import LiveHub
from station.occupancy.tracker import OccupancyTracker
from station.services.registry import Services
from station.store import Store
from station.sync.service import SyncService
from station.telemetry.service import TelemetryService


@dataclass(frozen=True)
class Station:
    """Every part, built whole by the composition root: nothing is filled in afterwards."""

    config: StationConfig
    clock: Clock
    store: Store
    alarms: AlarmService
    lockers: LockerService
    live: LiveHub
    services: Services
    """Members, staff, lending, lost and found, storage, supplies (station/services/)."""
    occupancy: OccupancyTracker
    """The rest area's sensors, state and fan/light relays (station/occupancy/)."""
    sync: SyncService
    """The usage log's uplink to central and the bundle downlink (station/sync/)."""
    telemetry: TelemetryService
    """Snapshots for the office, /metrics and each sync batch (station/telemetry/)."""
