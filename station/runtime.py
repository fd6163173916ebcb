"""The running station's parts, as built by the composition root (station/daemon.py).

The API and the CLI take this one object instead of reaching for globals; tests build it
the same way the daemon does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from station.alarms import AlarmService
from station.clock import Clock
from station.config import StationConfig
from station.live import LiveHub
from station.lockers import LockerService
from station.store import Store

if TYPE_CHECKING:
    from station.occupancy.tracker import OccupancyTracker
    from station.services import Services
    from station.sync import SyncService
    from station.telemetry import TelemetryService


@dataclass
class Station:
    config: StationConfig
    clock: Clock
    store: Store
    alarms: AlarmService
    lockers: LockerService
    live: LiveHub
    services: Services | None = None
    """Members, staff, lending, lost and found, storage, supplies (station/services.py)."""
    occupancy: OccupancyTracker | None = None
    """The rest area's sensors, state and fan/light relays (station/occupancy/)."""
    sync: SyncService | None = None
    """The usage log's uplink to the central server and the bundle downlink (station/sync.py)."""
    telemetry: TelemetryService | None = None
    """Snapshots for the office, /metrics and each sync batch (station/telemetry.py)."""
