"""A virtual LD2410 on a pty behind a stable symlink, and readers that are always stopped."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from drivers.radar.reader import RadarReader
from drivers.sim.radar import VirtualRadar


@pytest.fixture
def radar(tmp_path: Path) -> Iterator[VirtualRadar]:
    sim = VirtualRadar(tmp_path / "dev" / "station-radar", period_s=0.02)
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def make_reader() -> Iterator[Callable[..., RadarReader]]:
    readers: list[RadarReader] = []

    def make(port: str, **kwargs: Any) -> RadarReader:
        kwargs.setdefault("reconnect_min_s", 0.05)
        kwargs.setdefault("reconnect_max_s", 0.2)
        reader = RadarReader(port, **kwargs)
        readers.append(reader)
        reader.start()
        return reader

    yield make
    for reader in readers:
        reader.stop()
