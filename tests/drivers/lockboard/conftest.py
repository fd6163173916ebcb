"""Simulated boards on real ptys and a bus registry with short, CI-friendly timings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence

import pytest

from drivers.lockboard.serial_bus import BusRegistry
from drivers.lockboard.spec import BusTiming
from drivers.sim.lockboard import LockBoardSimulator, SimBoardSpec, SimProtocol

MakeSim = Callable[..., LockBoardSimulator]


@pytest.fixture
def timing() -> BusTiming:
    # answer_ms stays well above a loaded CI machine's thread wake-up latency.
    return BusTiming.from_ms(answer_ms=300, quiet_ms=20, reconnect_max_s=0.4)


@pytest.fixture
def make_sim() -> Iterator[MakeSim]:
    started: list[LockBoardSimulator] = []

    def make(
        protocol: SimProtocol = "cu",
        boards: Sequence[SimBoardSpec] = (SimBoardSpec(0),),
        **kwargs: object,
    ) -> LockBoardSimulator:
        sim = LockBoardSimulator(protocol, boards, **kwargs)  # type: ignore[arg-type]
        sim.start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()


@pytest.fixture
async def buses(timing: BusTiming) -> AsyncIterator[BusRegistry]:
    registry = BusRegistry(timing)
    yield registry
    await registry.close()
