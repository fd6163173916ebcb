"""`station doctor` against simulated stations in good and broken states, and a real central."""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory

from central.app import create_app
from central.auth import new_token, token_hash
from central.server import BackgroundServer
from central.storage.sqlite import SQLiteStorage
from drivers.sim.lockboard import LockBoardSimulator, SimBoardSpec
from drivers.sim.radar import VirtualRadar
from drivers.sim.reader import SerialReaderSim
from launcher.main import main
from station.config import parse_config
from station.doors.boards import LearnedAnswers
from station.ops.doctor import Check, DoctorOptions, diagnose_config, exit_code, format_report
from tests.simstation import running_station, sim_config_data

NOBODY = "http://127.0.0.1:9"  # nothing listens on the discard port: "daemon not running"


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def with_data_dir(tmp_path: Path) -> dict[str, Any]:
    """The test station's config with its data directory made (the daemon would make it)."""
    data = sim_config_data(tmp_path)
    Path(data["station"]["data_dir"]).mkdir(parents=True, exist_ok=True)
    return data


def cu_config(tmp_path: Path, port: str) -> dict[str, Any]:
    """The test station with its board on a real serial port (a simulator's pty) instead."""
    data = sim_config_data(tmp_path)
    board = data["boards"][0]
    board["protocol"] = "cu"
    board["port"] = port
    for key in [k for k in board if k.startswith("sim_")]:
        del board[key]
    Path(data["station"]["data_dir"]).mkdir(parents=True, exist_ok=True)
    return data


async def test_running_station_is_healthy_and_boards_come_from_the_daemon(tmp_path: Path) -> None:
    data = sim_config_data(tmp_path)
    data["people"]["phone_hash_key"] = "Vb3nH8sK1qP6wE0rT5yU2iO7aS4dF9gJ"  # not the placeholder
    async with running_station(data) as st:
        st.sim.force_open(3)
        await st.wait_for(lambda: st.daemon.boards is not None)
        await st.wait_for(
            lambda: any(
                v["door"] == "open"
                for v in st.daemon.station.lockers.snapshot()  # type: ignore[union-attr]
            )
        )
        checks = await diagnose_config(st.config, DoctorOptions(daemon_url=st.url))
    found = by_name(checks)
    assert found["daemon"].status == "OK"
    board = found["board B0"]
    assert board.status == "OK", board.detail
    assert "via daemon" in board.detail and "open: 3" in board.detail
    assert found["data directory"].status == "OK"
    assert found["secrets"].status == "OK", found["secrets"].detail
    assert exit_code(checks) == 0, format_report(checks)


async def test_silent_board_behind_the_daemon_fails(tmp_path: Path) -> None:
    async with running_station(sim_config_data(tmp_path)) as st:
        st.sim.set_silent()
        await st.wait_for(lambda: not st.daemon.station.lockers.board_online("B0"), within=10)  # type: ignore[union-attr]
        checks = await diagnose_config(st.config, DoctorOptions(daemon_url=st.url))
    board = by_name(checks)["board B0"]
    assert board.status == "FAIL"
    assert "offline" in board.detail and "RS485" in board.detail
    assert exit_code(checks) == 1


async def test_hashed_tokens_only_still_count_boards_from_healthz(tmp_path: Path) -> None:
    async with running_station(sim_config_data(tmp_path)) as st:
        data = sim_config_data(tmp_path)
        data["api"]["tokens"] = [
            {"name": "kiosk", "role": "kiosk", "token_sha256": hashlib.sha256(b"k").hexdigest()}
        ]
        config = parse_config(data)
        good = by_name(await diagnose_config(config, DoctorOptions(daemon_url=st.url)))
        assert good["boards"].status == "OK" and "1 of 1 answer" in good["boards"].detail
        st.sim.set_silent()
        await st.wait_for(lambda: not st.daemon.station.lockers.board_online("B0"), within=10)  # type: ignore[union-attr]
        bad = by_name(await diagnose_config(config, DoctorOptions(daemon_url=st.url)))
    assert bad["boards"].status == "FAIL" and "0 of 1 answer" in bad["boards"].detail


async def test_sim_board_without_daemon_is_probed_directly(tmp_path: Path) -> None:
    data = with_data_dir(tmp_path)
    checks = await diagnose_config(parse_config(data), DoctorOptions(daemon_url=NOBODY))
    found = by_name(checks)
    assert found["daemon"].status == "WARN"
    assert found["board B0"].status == "OK", found["board B0"].detail
    assert "16 door(s); open: none" in found["board B0"].detail


async def test_serial_board_answers_then_unplugged_fails(tmp_path: Path) -> None:
    with LockBoardSimulator("cu", [SimBoardSpec(address=0)]) as sim:
        config = parse_config(cu_config(tmp_path, sim.path))
        sim.force_open(5)
        good = by_name(await diagnose_config(config, DoctorOptions(daemon_url=NOBODY)))
        assert good["board B0"].status == "OK", good["board B0"].detail
        assert "open: 5" in good["board B0"].detail

        sim.set_silent()
        silent = by_name(await diagnose_config(config, DoctorOptions(daemon_url=NOBODY)))
        assert silent["board B0"].status == "FAIL"
        assert "does not answer" in silent["board B0"].detail

        sim.unplug()
        gone = await diagnose_config(config, DoctorOptions(daemon_url=NOBODY))
    assert by_name(gone)["board B0"].status == "FAIL"
    assert exit_code(gone) == 1


async def test_missing_serial_device_names_the_udev_rule(tmp_path: Path) -> None:
    config = parse_config(cu_config(tmp_path, "/dev/station-locks-absent"))
    board = by_name(await diagnose_config(config, DoctorOptions(daemon_url=NOBODY)))["board B0"]
    assert board.status == "FAIL"
    assert "no such device" in board.detail and "99-station.rules" in board.detail


async def test_disk_nearly_full_warns_then_fails(tmp_path: Path) -> None:
    data = with_data_dir(tmp_path)
    config = parse_config(data)
    free_mb = shutil.disk_usage(tmp_path).free / 1e6
    # The thresholds move above what this disk really has free: the same code path a nearly full
    # card takes.
    warn = DoctorOptions(daemon_url=NOBODY, warn_free_mb=free_mb * 2, fail_free_mb=1)
    found = by_name(await diagnose_config(config, warn))["data directory"]
    assert found.status == "WARN" and "free space soon" in found.detail
    fail = DoctorOptions(daemon_url=NOBODY, warn_free_mb=free_mb * 4, fail_free_mb=free_mb * 2)
    checks = await diagnose_config(config, fail)
    assert by_name(checks)["data directory"].status == "FAIL"
    assert "cannot grow" in by_name(checks)["data directory"].detail
    assert exit_code(checks) == 1


async def test_missing_data_directory_fails(tmp_path: Path) -> None:
    config = parse_config(sim_config_data(tmp_path / "nowhere"))
    found = by_name(await diagnose_config(config, DoctorOptions(daemon_url=NOBODY)))
    assert found["data directory"].status == "FAIL"
    assert "does not exist" in found["data directory"].detail


@pytest.fixture
def central(tmp_path: Path) -> Iterator[tuple[str, str]]:
    storage = SQLiteStorage(tmp_path / "central.db")
    token = new_token()
    storage.add_station("TEST-0001", "test station", token_hash(token), time.time())
    with BackgroundServer(create_app(storage)) as server:
        yield server.url, token
    storage.close()


def with_sync(tmp_path: Path, url: str, token: str) -> Any:
    data = sim_config_data(tmp_path)
    Path(data["station"]["data_dir"]).mkdir(parents=True, exist_ok=True)
    data["sync"] = {"url": url, "token": token}
    return parse_config(data)


async def test_central_accepts_the_token(tmp_path: Path, central: tuple[str, str]) -> None:
    url, token = central
    checks = await diagnose_config(
        with_sync(tmp_path, url, token), DoctorOptions(daemon_url=NOBODY)
    )
    found = by_name(checks)["central"]
    assert found.status == "OK", found.detail
    assert "token accepted" in found.detail


async def test_central_rejects_a_wrong_token(tmp_path: Path, central: tuple[str, str]) -> None:
    url, _ = central
    config = with_sync(tmp_path, url, "wrong-token-" + "x" * 20)
    checks = await diagnose_config(config, DoctorOptions(daemon_url=NOBODY))
    found = by_name(checks)["central"]
    assert found.status == "FAIL"
    assert "rejected" in found.detail and "register" in found.detail
    assert exit_code(checks) == 1


async def test_central_unreachable_fails(tmp_path: Path) -> None:
    config = with_sync(tmp_path, "http://127.0.0.1:9", "t" * 30)
    found = by_name(await diagnose_config(config, DoctorOptions(daemon_url=NOBODY)))["central"]
    assert found.status == "FAIL" and "unreachable" in found.detail


async def test_gpio_pins_and_radar(tmp_path: Path) -> None:
    data = with_data_dir(tmp_path)
    with VirtualRadar(tmp_path / "station-radar") as radar:
        data["occupancy"] = {"pir_pin": 17, "radar_port": radar.path}
        options = DoctorOptions(daemon_url=NOBODY, pin_factory=MockFactory())
        found = by_name(await diagnose_config(parse_config(data), options))
        assert found["gpio"].status == "OK" and "[17]" in found["gpio"].detail
        assert found["radar"].status == "OK", found["radar"].detail
        radar.unplug()
        gone = by_name(await diagnose_config(parse_config(data), options))["radar"]
    assert gone.status == "FAIL" and "no such device" in gone.detail


def test_cli_reports_a_bad_config_and_exits_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "station.toml"
    bad.write_text("[station]\nid = 'X'\nbogus = 1\n", encoding="utf-8")
    assert main(["doctor", "--config", str(bad)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("FAIL  config")
    assert "bogus" in out


async def test_doctor_says_what_a_board_answers_to_an_unlock(tmp_path: Path) -> None:
    with LockBoardSimulator("cu", [SimBoardSpec(address=0)]) as sim:
        data = cu_config(tmp_path, sim.path)
        config = parse_config(data)
        first = by_name(await diagnose_config(config, DoctorOptions(daemon_url=NOBODY)))
        assert "unlocks answered: auto, not learnt yet" in first["board B0"].detail
        LearnedAnswers(config.station.data_dir).learned("B0", "none")
        learnt = by_name(await diagnose_config(config, DoctorOptions(daemon_url=NOBODY)))
        assert 'unlocks answered: none (learnt; set unlock_answer = "none"' in (
            learnt["board B0"].detail
        )
        data["boards"][0]["unlock_answer"] = "status"
        fixed = by_name(await diagnose_config(parse_config(data), DoctorOptions(daemon_url=NOBODY)))
        assert "unlocks answered: status (configured)" in fixed["board B0"].detail


async def test_card_reader_line_says_what_to_plug_in(tmp_path: Path) -> None:
    data = with_data_dir(tmp_path)
    data["reader"] = {"kind": "hid", "device": "/dev/input/by-id/usb-absent-event-kbd"}
    line = by_name(await diagnose_config(parse_config(data), DoctorOptions(daemon_url=NOBODY)))
    reader = line["card reader"]
    assert reader.status == "FAIL" and "ls -l /dev/input/by-id/" in reader.detail
    with SerialReaderSim(tmp_path / "card-reader") as sim:
        data["reader"] = {"kind": "serial", "device": sim.path}
        checks = await diagnose_config(parse_config(data), DoctorOptions(daemon_url=NOBODY))
    assert by_name(checks)["card reader"].status == "OK"
