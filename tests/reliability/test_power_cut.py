"""Power cuts during residents' visits: the daemon killed with SIGKILL again and again.

After every restart: every event a screen was shown is in the usage log, the log has no gap,
loans, deposits and found items agree with the log, no loan or hand-in is left half-made, and
every door state equals what the board says (tests/reliability/powercutkit.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.powercutkit import KILLS, run_power_cuts


@pytest.mark.timeout(900)
async def test_power_cuts_during_visits(tmp_path: Path) -> None:
    await run_power_cuts(tmp_path, kills=KILLS, seed=1, with_staff=False)
