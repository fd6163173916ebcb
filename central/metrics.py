"""Central's /metrics: per-station series from the latest snapshots, for the office's Prometheus.

Stations behind 4G NAT cannot be scraped; central can, and it re-exports what each station
last reported with a `station` label, plus whether it is heard from at all. Series come from
a collector in a registry of this app's own, computed at scrape time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from central.fleet import Fleet, items_of, num
from wire.metrics import Families
from wire.telemetry import dig


def central_families(fleet: Fleet) -> list[Metric]:
    f = Families("central_")
    overview = fleet.overview()
    for status, n in overview["counts"].items():
        if status != "total":
            f.gauge("stations", "Registered stations by status", n, status=status)
    records = {r.id: r for r in fleet.storage.stations()}
    for row in overview["stations"]:
        sid = row["id"]
        t: dict[str, Any] = records[sid].telemetry or {}
        f.gauge(
            "station_up",
            "1 if the station reported within offline_after_s",
            1.0 if row["status"] == "online" else 0.0,
            station=sid,
        )
        f.gauge(
            "station_last_seen_timestamp_seconds",
            "When the station last reported",
            row["last_seen"],
            station=sid,
        )
        f.counter(
            "station_events_received",
            "Usage-log events central holds contiguously",
            row["acked_seq"],
            station=sid,
        )
        f.gauge(
            "station_start_time_seconds",
            "When the station's daemon started",
            row["up_since"],
            station=sid,
        )
        for state in ("open", "closed", "unknown"):
            f.gauge(
                "station_doors", "Doors by state", row["doors"][state], station=sid, state=state
            )
        f.gauge(
            "station_lockers_faulty", "Lockers out of service", row["doors"]["faulty"], station=sid
        )
        by_type = dig(t, "alarms", "by_type")
        if isinstance(by_type, dict):
            for alarm_type, n in sorted(by_type.items()):
                f.gauge(
                    "station_alarms_open",
                    "Open alarms by type",
                    num(n),
                    station=sid,
                    type=str(alarm_type),
                )
        if row["occupancy"] is not None:
            f.gauge(
                "station_occupied",
                "1 if the rest area is occupied (0 vacant)",
                {"occupied": 1.0, "vacant": 0.0}.get(row["occupancy"]),
                station=sid,
            )
            minutes = row["occupied_minutes_today"]
            f.gauge(
                "station_occupancy_today_occupied_seconds",
                "Occupied time today",
                None if minutes is None else minutes * 60.0,
                station=sid,
            )
        f.gauge("station_loans_open", "Tools out on loan", row["loans_out"], station=sid)
        f.gauge("station_loans_overdue", "Loans past due", row["loans_overdue"], station=sid)
        f.gauge(
            "station_lost_items_waiting", "Found items waiting", row["lost_waiting"], station=sid
        )
        f.gauge(
            "station_supplies_low",
            "Supplies at or below threshold",
            row["supplies_low"],
            station=sid,
        )
        for item in items_of(dig(t, "supplies", "items")):
            if isinstance(item.get("id"), str):
                f.gauge(
                    "station_supply_low",
                    "1 if the supply needs restocking",
                    1.0 if item.get("low") is True else 0.0,
                    station=sid,
                    supply=item["id"],
                )
        f.gauge(
            "station_sync_lag_seconds",
            "Age of the oldest event not yet at central",
            row["sync_lag_s"],
            station=sid,
        )
        f.gauge(
            "station_sync_pending_events",
            "Events waiting on the station",
            row["sync_pending"],
            station=sid,
        )
        f.gauge(
            "station_cpu_temperature_celsius", "SoC temperature", row["cpu_temp_c"], station=sid
        )
        f.gauge(
            "station_disk_free_bytes",
            "Free space for the station's data",
            row["disk_free_bytes"],
            station=sid,
        )
        f.gauge(
            "station_memory_available_bytes",
            "Memory available on the Pi",
            row["mem_available_bytes"],
            station=sid,
        )
        synced = row["clock_synced"]
        f.gauge(
            "station_clock_synced",
            "1 if the station's clock is synchronised",
            None if synced is None else float(synced),
            station=sid,
        )
        f.gauge(
            "station_telemetry_timestamp_seconds",
            "When the latest snapshot arrived",
            row["telemetry_at"],
            station=sid,
        )
    return f.collect()


class FleetCollector(Collector):
    def __init__(self, fleet: Fleet) -> None:
        self._fleet = fleet

    def collect(self) -> Iterator[Metric]:
        yield from central_families(self._fleet)


def central_registry(fleet: Fleet) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FleetCollector(fleet))
    return registry
