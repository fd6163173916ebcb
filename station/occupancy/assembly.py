"""Builds the occupancy drivers and tracker from [occupancy]; called by the composition root only.

Kept beside the tracker so the root stays one call long, and so the scene tests build exactly
what the daemon builds.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from station.clock import Clock
from station.occupancy.config import OccupancyConfig
from station.occupancy.relays import RelayName
from station.occupancy.sources import PirSource, RadarSource, SensorSource
from station.occupancy.tracker import Alarms, OccupancyTracker
from station.store import Store

if TYPE_CHECKING:
    from drivers.gpio.relay import OutputRelay


def build_occupancy(
    config: OccupancyConfig,
    *,
    store: Store,
    clock: Clock,
    alarms: Alarms,
    pin_factory: Any = None,
    tz: tzinfo | None = None,
    reader_options: dict[str, Any] | None = None,
) -> OccupancyTracker:
    """The tracker with its PIR, radar reader and relays; nothing is started yet.

    `reader_options` go to RadarReader (tests shorten its reconnect back-off).
    """
    sources: list[SensorSource] = []
    relays: dict[RelayName, OutputRelay] = {}
    try:
        # Each driver is imported where the config has its device: a station without a
        # radar or GPIO devices never loads pyserial's radar reader or gpiozero.
        if config.pir_pin is not None:
            from drivers.gpio.pir import Pir

            sources.append(PirSource(Pir(config.pir_pin, pin_factory=pin_factory)))
        if config.radar_port:
            from drivers.radar.reader import RadarReader

            reader = RadarReader(
                config.radar_port,
                baudrate=config.radar_baud,
                monotonic=clock.monotonic,
                engineering=config.radar_engineering,
                **(reader_options or {}),
            )
            sources.append(RadarSource(reader, config.radar_max_cm))
        if config.fan.pin is not None or config.light.pin is not None:
            from drivers.gpio.relay import OutputRelay
        if config.fan.pin is not None:
            relays["fan"] = OutputRelay(
                config.fan.pin, active_high=config.fan.active_high, pin_factory=pin_factory
            )
        if config.light.pin is not None:
            relays["light"] = OutputRelay(
                config.light.pin, active_high=config.light.active_high, pin_factory=pin_factory
            )
    except Exception:
        for source in sources:
            source.close()
        for relay in relays.values():
            relay.close()
        raise
    return OccupancyTracker(config, store, clock, alarms, sources=sources, relays=relays, tz=tz)
