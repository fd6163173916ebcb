"""The virtual lock board on its own: raw bytes over pyserial, its pty's life, and its console."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from drivers.lockboard import cu, dip8
from drivers.sim.cli import run_command
from drivers.sim.lockboard import (
    LockBoardSimulator,
    SimBoardRequest,
    SimBoardSpec,
    start_sim_board,
    start_sim_boards,
)

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def cu_sim() -> Iterator[LockBoardSimulator]:
    with LockBoardSimulator("cu", [SimBoardSpec(0, channels=8, auto_close_s=0.3)]) as sim:
        yield sim


def ask(port: serial.Serial, request: bytes, length: int) -> bytes:
    port.reset_input_buffer()
    port.write(request)
    return port.read(length)


def test_speaks_cu_bytes_and_closes_doors_after_the_auto_close_time(
    cu_sim: LockBoardSimulator,
) -> None:
    with serial.Serial(cu_sim.path, 9600, timeout=1) as port:
        assert ask(port, cu.encode_unlock(0, 2), 6) == cu.encode_unlock_answer(0, 2, False)
        answer = cu.decode_answer(ask(port, cu.encode_status(0), 9))
        assert isinstance(answer, cu.StatusAnswer)
        assert answer.locks[:8] == (True, False, True, True, True, True, True, True)
        time.sleep(0.35)
        answer = cu.decode_answer(ask(port, cu.encode_status(0), 9))
        assert isinstance(answer, cu.StatusAnswer)
        assert all(answer.locks[:8])


def test_other_addresses_and_noise_get_no_answer(cu_sim: LockBoardSimulator) -> None:
    with serial.Serial(cu_sim.path, 9600, timeout=0.2) as port:
        assert ask(port, cu.encode_status(3), 9) == b""
        assert ask(port, b"\xff\x02\x00", 9) == b""
    assert cu_sim.noise_received >= 1
    assert [rx.command for rx in cu_sim.received()] == [cu.StatusCommand(3)]


def test_speaks_dip8_with_the_configured_polarity() -> None:
    spec = SimBoardSpec(9, channels=16, feedback="open")
    with (
        LockBoardSimulator("dip8", [spec]) as sim,
        serial.Serial(sim.path, 9600, timeout=1) as port,
    ):
        # feedback "open": a set bit means open, so the answer after firing is 11.
        assert ask(port, dip8.encode_unlock(9, 12), 5) == dip8.encode_unlock_answer(9, 12, True)
        answer = dip8.decode_answer(ask(port, dip8.encode_status(9), 6), groups=2)
        assert isinstance(answer, dip8.ReadAllAnswer)
        assert [i + 1 for i, bit in enumerate(answer.channels) if bit] == [12]


def test_unplug_closes_the_pty_and_replug_repoints_the_same_path(
    cu_sim: LockBoardSimulator,
) -> None:
    path = cu_sim.path
    port = serial.Serial(path, 9600, timeout=0.2)
    cu_sim.unplug()
    assert not os.path.lexists(path)
    with pytest.raises(serial.SerialException):
        port.write(cu.encode_status(0))
        port.read(9)
    port.close()
    with pytest.raises(serial.SerialException, match="could not open port"):
        serial.Serial(path, 9600)

    cu_sim.replug()
    assert cu_sim.plugged
    assert os.path.islink(path)
    assert Path(os.readlink(path)).exists()  # a live pty behind the same path
    with serial.Serial(path, 9600, timeout=1) as port:
        assert len(ask(port, cu.encode_status(0), 9)) == 9


def test_wire_time_emulation_delays_answers_by_their_bytes() -> None:
    with (
        LockBoardSimulator("cu", [SimBoardSpec(0)], wire_baud=1200) as sim,
        serial.Serial(sim.path, 9600, timeout=1) as port,
    ):
        started = time.monotonic()
        assert len(ask(port, cu.encode_status(0), 9)) == 9
        # 5 + 9 bytes of 10 bits at 1200 baud = 117 ms
        assert time.monotonic() - started >= 0.11


def test_control_calls_from_many_threads_while_serving(cu_sim: LockBoardSimulator) -> None:
    errors: list[BaseException] = []

    def churn(channel: int) -> None:
        try:
            for _ in range(200):
                cu_sim.force_open(channel)
                cu_sim.close_door(channel)
                cu_sim.set_jammed(channel, True)
                cu_sim.set_jammed(channel, False)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=churn, args=(ch,)) for ch in (1, 2, 3)]
    for t in threads:
        t.start()
    with serial.Serial(cu_sim.path, 9600, timeout=1) as port:
        for _ in range(20):
            assert len(ask(port, cu.encode_status(0), 9)) == 9
    for t in threads:
        t.join()
    assert errors == []
    assert not cu_sim.is_open(1)


def test_stop_removes_the_port_and_its_directory() -> None:
    sim = LockBoardSimulator("cu", [SimBoardSpec(0)])
    path = Path(sim.start())
    assert path.is_symlink()
    sim.stop()
    sim.stop()
    assert not path.parent.exists()


def test_bad_setups_are_refused_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"addresses 0\.\.15"):
        LockBoardSimulator("cu", [SimBoardSpec(16)])
    with pytest.raises(ValueError, match="two simulated boards at address 1"):
        LockBoardSimulator("dip8", [SimBoardSpec(1), SimBoardSpec(1)])
    taken = tmp_path / "a-file"
    taken.write_text("")
    with pytest.raises(ValueError, match="is not a symlink"):
        LockBoardSimulator("cu", [SimBoardSpec(0)], link_path=taken).start()
    with LockBoardSimulator("cu", [SimBoardSpec(0), SimBoardSpec(1)]) as sim:
        with pytest.raises(ValueError, match="give an address"):
            sim.force_open(1)
        with pytest.raises(ValueError, match=r"channels 1\.\.16, not 17"):
            sim.force_open(17, address=1)


def test_start_sim_board_serves_a_sim_config_at_its_port(tmp_path: Path) -> None:
    link = tmp_path / "sim-locks"
    request = SimBoardRequest("S", "dip8", SimBoardSpec(3, channels=8), port=str(link))
    sim, path = start_sim_board(request)
    try:
        assert path == str(link)
        assert sim.protocol == "dip8"
        with serial.Serial(path, 9600, timeout=1) as port:
            assert ask(port, dip8.encode_unlock(3, 1), 5) == dip8.encode_unlock_answer(3, 1, False)
        assert sim.is_open(1)
    finally:
        sim.stop()
    assert not link.exists()


def test_sim_boards_sharing_a_port_are_served_by_one_simulator(tmp_path: Path) -> None:
    link = str(tmp_path / "bus")
    configs = [
        SimBoardRequest("A", "cu", SimBoardSpec(1, channels=8), port=link),
        SimBoardRequest("B", "cu", SimBoardSpec(2, channels=8), port=link),
        SimBoardRequest("C", "dip8", SimBoardSpec(0)),
    ]
    sims, paths = start_sim_boards(configs)
    try:
        assert len(sims) == 2
        assert paths["A"] == paths["B"] == link
        assert paths["C"] != link
        with serial.Serial(link, 9600, timeout=1) as port:
            assert len(ask(port, cu.encode_status(1), 9)) == 9
            assert len(ask(port, cu.encode_status(2), 9)) == 9
        with pytest.raises(ValueError, match="already points at a live pty"):
            start_sim_board(configs[0])
    finally:
        for sim in sims:
            sim.stop()


def test_sim_boards_on_one_port_must_share_a_protocol(tmp_path: Path) -> None:
    link = str(tmp_path / "bus")
    configs = [
        SimBoardRequest("A", "cu", SimBoardSpec(1), port=link),
        SimBoardRequest("B", "dip8", SimBoardSpec(2), port=link),
    ]
    with pytest.raises(ValueError, match=r"share .* but not a protocol"):
        start_sim_boards(configs)


def test_console_commands_drive_the_board(cu_sim: LockBoardSimulator) -> None:
    out = io.StringIO()
    for line in ("force 3", "jam 4", "silent on", "delay 0.5", "garbage 02ff", "prefix 00"):
        assert run_command(cu_sim, line, out)
    assert run_command(cu_sim, "show", out)
    assert run_command(cu_sim, "close x", out)
    assert run_command(cu_sim, "fly", out)
    assert not run_command(cu_sim, "quit", out)
    text = out.getvalue()
    assert "3:open" in text and "4:shut(jammed)" in text and "[silent]" in text
    assert "cannot do 'close x'" in text
    assert "unknown command 'fly'" in text


def test_python_m_drivers_sim_prints_its_port_and_serves_it(tmp_path: Path) -> None:
    link = tmp_path / "manual-locks"
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "drivers.sim", "--protocol", "dip8", "--boards", "1,2"),
            *("--channels", "8", "--link", str(link)),
        ],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        assert proc.stdout.readline().strip() == str(link)
        proc.stdin.write("force 5 2\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "ok"
        with serial.Serial(str(link), 9600, timeout=1) as port:
            answer = dip8.decode_answer(ask(port, dip8.encode_status(2), 5), groups=1)
        # feedback "closed" (the default): every bit set but door 5's, which was forced open
        assert answer == dip8.ReadAllAnswer(2, (True,) * 4 + (False,) + (True,) * 3)
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait()
    assert not link.exists()
