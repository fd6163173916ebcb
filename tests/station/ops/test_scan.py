"""`station doctor --scan`: boards of each protocol found on a pty by status reads only."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from drivers.sim.lockboard import LockBoardSimulator, SimBoardSpec
from station.config import parse_config
from station.ops.scan import format_scan, scan_port
from tests.simstation import sim_config_data


@pytest.mark.parametrize(
    ("protocol", "specs", "expected"),
    [
        ("cu", [SimBoardSpec(0), SimBoardSpec(3)], [(0, 16), (3, 16)]),
        ("dip8", [SimBoardSpec(2, channels=24)], [(2, 24)]),
        ("modbus", [SimBoardSpec(1, channels=16)], [(1, 16)]),
    ],
)
async def test_the_scan_finds_each_board_and_unlocks_nothing(
    protocol: str, specs: list[SimBoardSpec], expected: list[tuple[int, int]], tmp_path: Path
) -> None:
    with LockBoardSimulator(protocol, specs) as sim:  # type: ignore[arg-type]
        found = await scan_port(sim.path, protocols=(protocol,))
        assert [(f.address, f.channels) for f in found] == expected
        assert {f.protocol for f in found} == {protocol}
        assert sim.unlocks() == 0
        if protocol == "modbus":  # no coil was ever written
            assert not [rx for rx in sim.received() if type(rx.command).__name__ != "ReadInputs"]
        text = format_scan(sim.path, found)
    assert "nothing was unlocked" in text
    # The lines to paste make a valid config, as printed.
    pasted = "\n".join(line.split("#")[0] for line in text.split("paste into")[1].splitlines()[1:])
    boards = tomllib.loads(pasted)["boards"]
    data = sim_config_data(tmp_path)
    data["boards"] = boards
    data["lockers"] = [{"id": "A01", "board": boards[0]["id"], "channel": 1}]
    config = parse_config(data)
    assert config.boards[0].protocol == protocol


async def test_nothing_on_the_line_says_what_to_check() -> None:
    with LockBoardSimulator("cu", [SimBoardSpec(0)]) as sim:
        sim.set_silent()
        found = await scan_port(sim.path, protocols=("cu",))
        assert found == []
        assert "swapping them" in format_scan(sim.path, found)
