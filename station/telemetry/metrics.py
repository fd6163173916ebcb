"""The station's /metrics: the telemetry snapshot in Prometheus' text format.

Every series is derived from one snapshot taken at scrape time by a custom collector in a
registry that belongs to one app (no process-wide default registry: several stations run in
one test process, and the central server has its own). Names follow Prometheus' conventions:
one `station_` prefix, base units (seconds, bytes, Celsius), `_total` only on counters, and
labels that name lockers, boards, alarm types and supplies but never a person.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from station.telemetry.service import TelemetryService
from wire.metrics import Families


def _flag(value: bool | None) -> float | None:
    return None if value is None else float(bool(value))


def station_families(snap: dict[str, Any], event_counts: dict[str, int]) -> list[Metric]:
    """The station's series from one full telemetry snapshot."""
    f = Families("station_")
    f.info(
        "The station's id, name and software version",
        {"station": snap["station"], "name": snap["name"], "version": snap["software"]},
    )
    f.gauge("start_time_seconds", "When the daemon started (Unix time)", snap["up_since"])
    f.gauge("clock_synced", "1 if the system clock is synchronised", _flag(snap["clock_synced"]))

    doors = snap["doors"]
    for state in ("open", "closed", "unknown"):
        f.gauge("doors", "Doors by what the boards report", doors[state], state=state)
    f.gauge("lockers_faulty", "Lockers out of service", doors["faulty"])
    for lk in snap["lockers"]:
        f.enum(
            "locker_door",
            "Each locker's door state",
            lk["door"],
            ("open", "closed", "unknown"),
            locker=lk["id"],
        )
        f.gauge(
            "locker_faulty",
            "1 if the locker is out of service",
            _flag(lk["faulty"]),
            locker=lk["id"],
        )
    offline = set(doors["boards_offline"])
    for board in sorted({lk["board"] for lk in snap["lockers"]} | offline):
        f.gauge(
            "board_online", "1 if the lock board answers", _flag(board not in offline), board=board
        )

    for alarm_type, n in sorted(snap["alarms"]["by_type"].items()):
        f.gauge("alarms_open", "Alarms raised or acknowledged, not cleared", n, type=alarm_type)

    occ = snap["occupancy"]
    if occ.get("present"):
        f.enum(
            "occupancy_state",
            "The rest area's state",
            occ["state"],
            ("occupied", "vacant", "unknown"),
        )
        today = occ["today"]
        f.gauge(
            "occupancy_today_occupied_seconds",
            "Time the rest area was occupied today (local day)",
            today["occupied_minutes"] * 60.0,
        )
        f.gauge("occupancy_today_sessions", "Occupancy sessions today", today["sessions"])
        for sensor in occ["detail"]["sensors"]:
            f.gauge(
                "occupancy_sensor_online",
                "1 if the sensor reports",
                _flag(sensor not in occ["sensors_offline"]),
                sensor=sensor,
            )

    tools = snap["tools"]
    if tools.get("present"):
        for status, n in tools["by_status"].items():
            f.gauge("tools", "Tools in the catalogue by status", n, status=status)
        f.gauge("loans_open", "Tools out on loan", tools["out"])
        f.gauge("loans_overdue", "Loans past their due time", tools["overdue"])

    lost = snap["lost_found"]
    if lost.get("present"):
        for status, n in lost["by_status"].items():
            f.gauge("lost_items_waiting", "Found items waiting, by status", n, status=status)
        f.gauge("lost_claims_pending", "Claims waiting for staff", lost["claims_pending"])

    deposits = snap["storage"]
    if deposits.get("present"):
        f.gauge("deposits_active", "Bags and phones in lockers", deposits["active"])
        f.gauge("deposits_overtime", "Deposits past their pickup time", deposits["overtime"])

    supplies = snap["supplies"]
    if supplies.get("present"):
        f.gauge("supplies_low", "Supplies at or below their restock threshold", supplies["low"])
        for item in supplies["items"]:
            f.gauge(
                "supply_stock",
                "Units on the shelf at the last count",
                item["count"],
                supply=item["id"],
            )
            f.gauge(
                "supply_threshold",
                "Restock at or below this many units",
                item["threshold"],
                supply=item["id"],
            )
            f.gauge(
                "supply_low",
                "1 if the supply needs restocking",
                _flag(item["low"]),
                supply=item["id"],
            )

    sync = snap["sync"]
    if sync.get("present", True):
        f.gauge("sync_enabled", "1 if a central server is configured", _flag(sync["enabled"]))
        f.gauge(
            "sync_pending_events", "Usage-log events central does not hold yet", sync["pending"]
        )
        f.gauge("sync_lag_seconds", "Age of the oldest event central does not hold", sync["lag_s"])
        f.gauge(
            "sync_last_success_timestamp_seconds",
            "Last batch central acknowledged",
            sync["last_success_at"],
        )
        f.counter(
            "sync_failures", "Failed sync attempts since the daemon started", sync["failures"]
        )
        f.gauge(
            "sync_bundle_version",
            "Version of the office's bundle in use",
            sync["bundle"].get("version"),
        )

    health = snap["health"]
    f.gauge("cpu_temperature_celsius", "SoC temperature", health["cpu_temp_c"])
    f.gauge(
        "disk_free_bytes",
        "Free space on the data directory's file system",
        health["disk_free_bytes"],
    )
    f.gauge(
        "disk_size_bytes", "Size of the data directory's file system", health["disk_total_bytes"]
    )
    f.gauge("process_resident_memory_bytes", "Resident memory of the daemon", health["rss_bytes"])
    f.gauge("memory_available_bytes", "Memory available to programs", health["mem_available_bytes"])
    f.gauge("memory_size_bytes", "Total memory", health["mem_total_bytes"])
    f.gauge("system_uptime_seconds", "Time since the Pi booted", health["system_uptime_s"])
    f.gauge("load1", "One-minute load average", health["load1"])

    f.counter(
        "usage_log_appended",
        "Events ever appended to the usage log",
        snap["events"]["appended_total"],
    )
    for event_type, n in sorted(event_counts.items()):
        f.counter(
            "events", "Usage-log events since the daemon started, by type", n, type=event_type
        )
    return f.collect()


class StationCollector(Collector):
    def __init__(self, telemetry: Callable[[], TelemetryService]) -> None:
        self._telemetry = telemetry

    def collect(self) -> Iterator[Metric]:
        telemetry = self._telemetry()
        yield from station_families(telemetry.snapshot(), telemetry.event_counts)


def station_registry(telemetry: Callable[[], TelemetryService]) -> CollectorRegistry:
    """A registry of its own holding only this station's collector."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StationCollector(telemetry))
    return registry
