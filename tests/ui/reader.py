"""A real daemon with the pty card reader behind the real pyserial backend, for UI tests that
present cards as a person does: once the screen waits for one, lifted since the last time."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from drivers.sim.reader import SerialReaderSim
from tests.simstation import SimStation, running_station
from tests.ui.conftest import station_data, stock

HOLD_S = 0.3


@contextlib.asynccontextmanager
async def reader_station(tmp_path: Path) -> AsyncIterator[tuple[SimStation, SerialReaderSim]]:
    """The stocked test station with a serial card reader (de-bounce `HOLD_S`)."""
    sim = SerialReaderSim(tmp_path / "card-reader")
    sim.start()
    data = station_data(tmp_path)
    data["reader"] = {"kind": "serial", "device": sim.path, "hold_s": HOLD_S}
    # A walk through many screens on a loaded machine outlasts the 2 minutes of staff idle time.
    data["people"]["staff_idle_s"] = 900
    try:
        async with running_station(data) as st:
            await stock(st)
            reader = st.daemon.station.services.cards.reader
            assert await asyncio.to_thread(reader.wait_connected, True, 10.0)
            yield st, sim
    finally:
        sim.stop()


async def present(st: SimStation, sim: SerialReaderSim, text: str) -> None:
    """Present a card once a screen waits for one (as a person does when the screen asks)."""
    desk = st.daemon.station.services.cards
    await asyncio.sleep(HOLD_S + 0.05)  # lifted since its last presentation
    for _ in range(1000):
        if desk._waiter is not None:
            break
        await asyncio.sleep(0.01)
    await asyncio.to_thread(sim.present, text)
