"""The [occupancy] config section: which sensors and relays the rest area has, and their timing.

Every key has a default, so a station without sensors keeps a valid config and simply reports
its rest area as `unknown`. The base repeats station.config.Section's settings because
station/config.py imports this module, not the other way round.
"""

from __future__ import annotations

from collections import Counter
from datetime import time
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


GpioPin = Annotated[int, Field(ge=0, le=27)]


class RelayOutputConfig(Section):
    """One output relay (fan or air-conditioner contactor)."""

    pin: GpioPin | None = None
    """BCM GPIO number of the relay input; none = this station has no such relay."""
    active_high: bool = False
    """Most relay modules switch on when their input is pulled low: leave false for those."""
    min_on_s: Annotated[float, Field(ge=0, le=3_600)] = 60.0
    """Once switched on, stay on at least this long (no chatter)."""
    min_off_s: Annotated[float, Field(ge=0, le=3_600)] = 60.0
    """Once switched off, stay off at least this long (compressors need a rest)."""


class LightOutputConfig(RelayOutputConfig):
    """The light relay: like the fan, but only allowed on between `on_from` and `on_until`."""

    min_on_s: Annotated[float, Field(ge=0, le=3_600)] = 30.0
    min_off_s: Annotated[float, Field(ge=0, le=3_600)] = 5.0
    on_from: time = time(18, 0)
    """Local time from which the light may come on (TOML: on_from = 18:00:00)."""
    on_until: time = time(7, 0)
    """Local time after which it goes off; earlier than on_from means past midnight.
    Equal to on_from means at any hour."""

    def allowed_at(self, local: time) -> bool:
        start, end = self.on_from, self.on_until
        if start == end:
            return True
        if start < end:
            return start <= local < end
        return local >= start or local < end


class OccupancyConfig(Section):
    pir_pin: GpioPin | None = None
    """BCM GPIO of the PIR's output (HC-SR501). Avoid GPIO2/3: they have fixed pull-ups."""
    radar_port: str | None = None
    """Serial device of the LD2410 (a /dev/serial/by-id/... path or a udev symlink)."""
    radar_baud: Annotated[int, Field(ge=9600, le=460_800)] = 256_000
    radar_engineering: bool = False
    """Switch the radar to engineering mode on connect (per-gate energies for the self-test)."""
    radar_max_cm: Annotated[int, Field(ge=30, le=1_000)] | None = None
    """Ignore radar targets farther than this (people passing outside the booth's walls)."""
    hold_s: Annotated[float, Field(ge=0, le=3_600)] = 120.0
    """How long after the last sign of a person the area turns `vacant`."""
    stale_s: Annotated[float, Field(ge=1, le=600)] = 10.0
    """A sensor silent this long is offline: alarm `sensor_offline`, state never `vacant`."""
    poll_ms: Annotated[int, Field(ge=50, le=5_000)] = 200
    """How often the sensors are read and the state re-evaluated."""
    override_max_s: Annotated[float, Field(ge=60, le=86_400)] = 4 * 3_600.0
    """Longest manual fan/light override staff can set from the maintenance screen."""
    fan: RelayOutputConfig = RelayOutputConfig()
    light: LightOutputConfig = LightOutputConfig()

    @model_validator(mode="after")
    def _distinct_pins(self) -> OccupancyConfig:
        used = Counter(self.gpio_pins())
        dup = sorted(p for p, n in used.items() if n > 1)
        if dup:
            raise ValueError(f"GPIO pins used twice in [occupancy]: {dup}")
        return self

    def gpio_pins(self) -> list[int]:
        """Every GPIO this section claims (the station checks them against door boards)."""
        pins = [self.pir_pin, self.fan.pin, self.light.pin]
        return [p for p in pins if p is not None]

    @property
    def sensors(self) -> tuple[str, ...]:
        """Names of the configured sensors, as used in alarms and the API."""
        names: list[str] = []
        if self.pir_pin is not None:
            names.append("pir")
        if self.radar_port:
            names.append("radar")
        return tuple(names)

    @property
    def configured(self) -> bool:
        """Whether there is anything to run at all."""
        return bool(self.sensors) or self.fan.pin is not None or self.light.pin is not None
