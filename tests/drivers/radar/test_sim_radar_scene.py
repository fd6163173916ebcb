"""The virtual radar's scripted scene player (used by the demo station), with a virtual PIR."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from gpiozero.pins.mock import MockFactory

from drivers.gpio.pir import Pir
from drivers.radar.ld2410 import TargetState
from drivers.radar.reader import RadarReader
from drivers.sim.pir import VirtualPir
from drivers.sim.radar import VirtualRadar


def test_play_runs_the_scene_and_drives_the_pir(
    radar: VirtualRadar, make_reader: Callable[..., RadarReader]
) -> None:
    pins = MockFactory()
    pir = Pir(17, sample_rate=100, pin_factory=pins)
    virtual_pir = VirtualPir(pins, 17)
    reader = make_reader(radar.path)
    seen: list[tuple[TargetState, bool]] = []
    radar.play([(0.4, "enter"), (0.4, "sit_still"), (0.4, "leave")], loop=False, pir=virtual_pir)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        latest = reader.latest
        if latest is not None:
            state = (latest.target, pir.motion)
            if not seen or seen[-1] != state:
                seen.append(state)
            if (TargetState.STILL, False) in seen and state == (TargetState.NONE, False):
                break
        time.sleep(0.01)
    # The PIR's sampler may lag the radar by a poll: look for the settled states in order.
    moving = seen.index((TargetState.MOVING, True))
    still = seen.index((TargetState.STILL, False), moving)
    assert seen[-1] == (TargetState.NONE, False) and len(seen) - 1 > still
    assert radar.reports_sent > 0
    pir.close()
    pins.reset()
    pins.close()


def test_play_refuses_an_unknown_action(radar: VirtualRadar) -> None:
    with pytest.raises(ValueError, match="unknown scene action 'dance'"):
        radar.play([(1.0, "dance")])
