"""Adapters from the sensor drivers to SensorReadings the tracker fuses.

The tracker's loop calls `read(now)` on each source every poll; a source returns its newest
reading, or None when it has nothing (the radar before its first report, a PIR whose pin
cannot be read). A source that keeps returning old or no readings goes stale in the fusion.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Protocol

from station.occupancy.fusion import SensorReading

if TYPE_CHECKING:  # the drivers come with the sources assembly.py builds for the config
    from drivers.gpio.pir import Pir
    from drivers.radar.ld2410 import RadarReport
    from drivers.radar.reader import RadarReader

log = logging.getLogger(__name__)


class SensorSource(Protocol):
    name: str

    def start(self) -> None: ...

    def read(self, now: float) -> SensorReading | None: ...

    def close(self) -> None:
        """Release the device; may block briefly (the tracker calls it off the event loop)."""
        ...


class PirSource:
    """The PIR reads on every poll, so it is stale only if its pin stops answering.

    An HC-SR501 with a cut wire reads as 'no motion' and cannot be told apart electrically;
    the radar, which reports on its own, is the sensor whose silence is detected.
    """

    name = "pir"

    def __init__(self, pir: Pir) -> None:
        from gpiozero import GPIOZeroError

        self.pir = pir
        self._errors = (GPIOZeroError, OSError)

    def start(self) -> None:
        return None

    def read(self, now: float) -> SensorReading | None:
        try:
            motion = self.pir.poll()
        except self._errors as exc:
            log.warning("PIR on GPIO%s cannot be read: %s", self.pir.pin, exc)
            return None
        return SensorReading("pir", now, motion, {"motion": motion})

    def close(self) -> None:
        self.pir.close()


class RadarSource:
    """The radar's newest report, stamped with its arrival time by the reader."""

    name = "radar"

    def __init__(self, reader: RadarReader, max_cm: int | None = None) -> None:
        self.reader = reader
        self.max_cm = max_cm

    def start(self) -> None:
        self.reader.start()

    def read(self, now: float) -> SensorReading | None:
        got = self.reader.reading()
        if got is None:
            return None
        report, at = got
        return SensorReading("radar", at, self.sees_someone(report), _radar_detail(report))

    def sees_someone(self, report: RadarReport) -> bool:
        """A target within range; farther ones are people outside the booth's walls."""
        limit = self.max_cm
        moving = report.target.moving and (limit is None or report.moving_cm <= limit)
        still = report.target.still and (limit is None or report.still_cm <= limit)
        return moving or still

    def close(self) -> None:
        self.reader.stop()


def _radar_detail(report: RadarReport) -> dict[str, Any]:
    return {
        "target": report.target.name.lower(),
        "moving_cm": report.moving_cm,
        "moving_energy": report.moving_energy,
        "still_cm": report.still_cm,
        "still_energy": report.still_energy,
        "detection_cm": report.detection_cm,
    }
