"""Reads an HLK-LD2410 on a serial port in a background thread, surviving a noisy, flaky link.

pyserial reads block, so they run on their own thread and never on the daemon's event loop;
the loop only looks at `latest` and `last_report_at`. The reader never gives up: when the
adapter vanishes (the port errors or goes silent) it closes the port and reopens it with a
growing back-off, so a replugged adapter under the same udev name is picked up again. Whether
the radar is alive is the caller's judgement: it compares `last_report_at` with its own clock.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import serial

from drivers.radar.ld2410 import (
    Decoded,
    FrameError,
    Ld2410Framer,
    RadarAck,
    RadarReport,
    enable_config,
    enable_engineering,
    end_config,
)

log = logging.getLogger(__name__)

BAUDRATE = 256000


@dataclass
class ReaderStats:
    """Counters for the self-test screen and /metrics."""

    reports: int = 0
    acks: int = 0
    frame_errors: int = 0
    skipped_bytes: int = 0
    opens: int = 0
    open_failures: int = 0
    disconnects: int = 0


class RadarReader:
    """One radar on one serial port. start() once, stop() once; everything else is lock-free."""

    def __init__(
        self,
        port: str,
        *,
        baudrate: int = BAUDRATE,
        monotonic: Callable[[], float] = time.monotonic,
        engineering: bool = False,
        reconnect_min_s: float = 0.25,
        reconnect_max_s: float = 5.0,
        silence_reopen_s: float | None = 5.0,
        read_timeout_s: float = 0.05,
        command_timeout_s: float = 0.5,
    ) -> None:
        self.port = port
        self.baudrate = baudrate
        self.engineering = engineering
        self.stats = ReaderStats()
        self.acks: deque[RadarAck] = deque(maxlen=16)
        self._stamp = monotonic
        self._reconnect_min = reconnect_min_s
        self._reconnect_max = reconnect_max_s
        self._silence_reopen = silence_reopen_s
        self._read_timeout = read_timeout_s
        self._command_timeout = command_timeout_s
        self._framer = Ld2410Framer()
        self._outbox: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._new_report = threading.Condition()
        self._thread: threading.Thread | None = None
        self._latest: RadarReport | None = None
        self._latest_at: float | None = None
        self._last_error = ""
        self.connected = False

    # --- what callers read ---------------------------------------------------------------------

    @property
    def latest(self) -> RadarReport | None:
        return self._latest

    @property
    def last_report_at(self) -> float | None:
        """When the newest report arrived, on the monotonic clock given to the constructor."""
        return self._latest_at

    def reading(self) -> tuple[RadarReport, float] | None:
        """The newest report and its arrival time, read together."""
        with self._new_report:
            if self._latest is None or self._latest_at is None:
                return None
            return self._latest, self._latest_at

    @property
    def last_error(self) -> str:
        """Why the port last failed to open or dropped, for the maintenance screen."""
        return self._last_error

    def wait_for_report(self, newer_than: float | None, timeout: float) -> bool:
        """Block until a report stamped after `newer_than` arrives (tests, self-test)."""
        deadline = time.monotonic() + timeout
        with self._new_report:
            while self._latest_at is None or (
                newer_than is not None and self._latest_at <= newer_than
            ):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._new_report.wait(left)
            return True

    def send(self, frame: bytes) -> None:
        """Queue a command frame; the reader thread writes it between reads."""
        self._outbox.put(frame)

    # --- life ----------------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("RadarReader.start() called twice")
        self._thread = threading.Thread(target=self._run, name=f"radar:{self.port}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    # --- the thread ----------------------------------------------------------------------------

    def _run(self) -> None:
        backoff = self._reconnect_min
        while not self._stop.is_set():
            try:
                ser = serial.Serial(self.port, self.baudrate, timeout=self._read_timeout)
            except (serial.SerialException, OSError, ValueError) as exc:
                self.stats.open_failures += 1
                self._note_error(f"cannot open {self.port}: {exc}")
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self._reconnect_max)
                continue
            self.stats.opens += 1
            self.connected = True
            self._framer.reset()
            reports_before = self.stats.reports
            try:
                self._serve(ser)
            except (serial.SerialException, OSError) as exc:
                self.stats.disconnects += 1
                self._note_error(f"{self.port} dropped: {exc}")
            finally:
                self.connected = False
                with contextlib.suppress(serial.SerialException, OSError):
                    ser.close()
            if self.stats.reports > reports_before:
                backoff = self._reconnect_min  # the link worked: a new outage starts afresh
            self._stop.wait(backoff)
            backoff = min(backoff * 2, self._reconnect_max)

    def _serve(self, ser: serial.Serial) -> None:
        """Read until stopped, or until the radar has been silent too long; raises on I/O loss."""
        last_heard = time.monotonic()
        if self.engineering:
            self._configure(ser, [enable_config(), enable_engineering(), end_config()])
        while not self._stop.is_set():
            while not self._outbox.empty():
                ser.write(self._outbox.get_nowait())
            chunk = ser.read(ser.in_waiting or 1)
            if chunk and self._handle(self._framer.feed(chunk)):
                last_heard = time.monotonic()
            if self._silence_reopen and time.monotonic() - last_heard > self._silence_reopen:
                self._note_error(
                    f"{self.port} silent for {self._silence_reopen:.0f} s; reopening the port"
                )
                self.stats.disconnects += 1
                return

    def _configure(self, ser: serial.Serial, frames: list[bytes]) -> None:
        """Send config commands one at a time, each after the previous one's ACK (or timeout)."""
        for frame in frames:
            command = int.from_bytes(frame[6:8], "little")
            before = len([a for a in self.acks if a.command == command])
            ser.write(frame)
            deadline = time.monotonic() + self._command_timeout
            while time.monotonic() < deadline and not self._stop.is_set():
                chunk = ser.read(ser.in_waiting or 1)
                if chunk:
                    self._handle(self._framer.feed(chunk))
                if len([a for a in self.acks if a.command == command]) > before:
                    break
            else:
                self._note_error(f"no ACK for radar command {command:#06x}")

    def _handle(self, items: list[Decoded]) -> bool:
        got_report = False
        for item in items:
            if isinstance(item, RadarReport):
                self.stats.reports += 1
                with self._new_report:
                    self._latest = item
                    self._latest_at = self._stamp()
                    self._new_report.notify_all()
                got_report = True
            elif isinstance(item, RadarAck):
                self.stats.acks += 1
                self.acks.append(item)
            elif isinstance(item, FrameError):
                self.stats.frame_errors += 1
                self.stats.skipped_bytes += len(item.skipped)
        return got_report

    def _note_error(self, text: str) -> None:
        if text != self._last_error:
            log.warning("radar: %s", text)
        self._last_error = text
