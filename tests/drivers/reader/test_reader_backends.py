"""The real backends: pyserial against the pty reader simulator (reads, a held card, garbage,
unplug and replug), and python-evdev against a uinput keyboard where the kernel offers one."""

from __future__ import annotations

import os
import queue
import time
from pathlib import Path

import pytest

from drivers.reader.serial_reader import SerialCardReader
from drivers.sim.reader import SerialReaderSim

WAIT_S = 10.0


def _next(reads: queue.Queue[str]) -> str:
    return reads.get(timeout=WAIT_S)


def _until(check, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_serial_reader_reads_debounces_drops_garbage_and_survives_replug(tmp_path: Path) -> None:
    sim = SerialReaderSim(tmp_path / "reader")
    sim.start()
    reads: queue.Queue[str] = queue.Queue()
    reader = SerialCardReader(sim.path, hold_s=5.0, reconnect_min_s=0.05, reconnect_max_s=0.2)
    reader.start(reads.put)
    try:
        assert reader.wait_connected(True, WAIT_S)
        sim.present("0012345678")
        assert _next(reads) == "0012345678"
        # Held on the reader: the same read ten times is still one presentation.
        sim.present("0012345678", held=10)
        sim.send(b"\x1b[A\x00garbage\r\n")
        sim.present("QR-abc-778")
        assert _next(reads) == "QR-abc-778"
        _until(lambda: reader.stats.garbage == 1, "the garbage to be counted")
        assert reader.stats.repeats == 10 and reader.stats.reads == 2
        assert reads.empty()

        sim.unplug()
        assert reader.wait_connected(False, WAIT_S)
        assert "gone" in reader.last_error or "cannot open" in reader.last_error
        sim.replug()
        assert reader.wait_connected(True, WAIT_S)
        sim.present("0012345678")  # the same card after a replug is a new presentation
        assert _next(reads) == "0012345678"
    finally:
        reader.stop()
        sim.stop()


def test_a_reader_that_is_not_there_is_retried_until_it_appears(tmp_path: Path) -> None:
    sim = SerialReaderSim(tmp_path / "late")
    reads: queue.Queue[str] = queue.Queue()
    reader = SerialCardReader(sim.path, reconnect_min_s=0.05, reconnect_max_s=0.1)
    reader.start(reads.put)
    try:
        _until(lambda: reader.stats.open_failures >= 1, "a failed open")
        assert not reader.connected and "cannot open" in reader.last_error
        sim.start()
        assert reader.wait_connected(True, WAIT_S)
        sim.present("Mq7-xT42")
        assert _next(reads) == "Mq7-xT42"
    finally:
        reader.stop()
        sim.stop()


def _uinput_usable() -> str | None:
    if not os.path.exists("/dev/uinput"):
        return "no /dev/uinput on this machine (the kernel's uinput module is not loaded)"
    if not os.access("/dev/uinput", os.W_OK):
        return "/dev/uinput is not writable by this user"
    return None


@pytest.mark.skipif(_uinput_usable() is not None, reason=_uinput_usable() or "")
def test_hid_reader_grabs_a_live_keyboard_and_reads_it() -> None:
    from drivers.reader.hid import HidReader
    from drivers.sim.reader import UinputScanner

    scanner = UinputScanner()
    reads: queue.Queue[str] = queue.Queue()
    time.sleep(0.3)  # udev creates the event node
    reader = HidReader(scanner.device, reconnect_min_s=0.05)
    reader.start(reads.put)
    try:
        assert reader.wait_connected(True, WAIT_S)
        scanner.type_text("0012345678")
        assert _next(reads) == "0012345678"
        scanner.close()
        assert reader.wait_connected(False, WAIT_S)
    finally:
        reader.stop()
