"""Power cuts while residents visit and staff make their rounds (a module of its own so xdist
runs it beside test_power_cut.py; the two together make the issue's 200+ kills)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.powercutkit import KILLS, run_power_cuts


@pytest.mark.timeout(900)
async def test_power_cuts_during_visits_and_staff_rounds(tmp_path: Path) -> None:
    await run_power_cuts(tmp_path, kills=KILLS, seed=2, with_staff=True)
