"""One RS485 bus on one serial adapter: exchanges in lock-step, resync, and surviving a replug.

The rules come from how the boards fail (shared/design/hardware.md):
- One command in flight per bus. An asyncio.Lock orders callers; the serial I/O itself runs on
  the bus's own single worker thread, so the event loop never blocks and two exchanges can never
  interleave on the wire even if a caller is cancelled mid-exchange.
- After a timeout, noise or an unexpected frame, the line is drained before the next command:
  every byte is discarded until the line has been silent for a few character times at the bus's
  baud (with a floor for USB adapters' burst latency). Not for a second answer window: that
  made the bus blind to every board for a second after each silent unlock. A late answer that
  still comes is a valid frame of the wrong kind or address for the next exchange, which the
  match refuses and counts as stray (and hands to `observe`, so an unlock's late answer is
  still recognised as one).
- When the adapter vanishes (USB unplugged, port closed under us) the port is closed and
  reopened with capped exponential back-off; until then calls fail at once with BusDown, which
  says nothing was sent.
- Nothing is ever re-sent here. A command that went out without a matching answer is NoAnswer;
  the board layer turns that into UnlockUncertain for an unlock.
"""

from __future__ import annotations

import asyncio
import logging
import termios
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import serial

from drivers.lockboard.codec import Noise
from drivers.lockboard.spec import BusTiming

log = logging.getLogger(__name__)

F = TypeVar("F")
ScanFn = Callable[[bytes], tuple[list[Any], bytes]]

_IO_ERRORS = (OSError, termios.error)  # serial.SerialException is an OSError
"""What a vanished or closed adapter raises: pyserial wraps most errors, tcflush does not."""


def _describe(exc: BaseException) -> str:
    """termios.error carries a bare (errno, text) tuple; say it the way OSError does."""
    if isinstance(exc, termios.error) and len(exc.args) == 2:
        return f"[Errno {exc.args[0]}] {exc.args[1]}"
    return str(exc)


class BusDown(Exception):
    """The command was not sent: the adapter is missing, being reopened, or the line is busy."""


class NoAnswer(Exception):
    """The command went out (or may have) but no matching answer came back in time."""


@dataclass
class BusStats:
    """Counters for metrics and the self-test; written by the bus thread only."""

    exchanges: int = 0
    answered: int = 0
    timeouts: int = 0
    noise_bytes: int = 0
    stray_frames: int = 0
    """Valid frames that were not the answer expected (late answers, other boards)."""
    late_answers: int = 0
    """Stray frames a caller recognised as a late answer to its earlier command."""
    discarded_bytes: int = 0
    disconnects: int = 0
    reconnects: int = 0


class SerialBus:
    """A serial port shared by every board wired to it; see the module docstring for the rules."""

    def __init__(self, port: str, baud: int, timing: BusTiming) -> None:
        self.port = port
        self.baud = baud
        self._t = timing
        self.quiet_s = timing.quiet_s(baud)
        """Silence that counts as a resynchronised line on this bus."""
        self._slice = max(0.002, min(0.02, self.quiet_s / 2))
        self._serial: serial.Serial | None = None
        self._lock = asyncio.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"bus {port}")
        self._retry_at = 0.0
        self._backoff = 0.0
        self._ever_open = False
        self._drain_until: float | None = None
        self._last_error = "not opened yet"
        self._users: set[str] = set()
        self._held_until: dict[str, float] = {}
        self._closed = False
        self.stats = BusStats()

    @property
    def answer_s(self) -> float:
        """The answer window of a board whose spec gives none."""
        return self._t.answer_s

    @property
    def connected(self) -> bool:
        return self._serial is not None

    @property
    def closed(self) -> bool:
        return self._closed

    # --- users --------------------------------------------------------------------------------

    def attach(self, user: str) -> None:
        if self._closed:
            raise RuntimeError(f"bus {self.port} is closed")
        self._users.add(user)

    async def detach(self, user: str) -> None:
        """A board stops using the bus; the last one out closes the port."""
        self._users.discard(user)
        if not self._users:
            await self.close()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        async with self._lock:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._drop_port)
        self._executor.shutdown(wait=False)

    # --- exchanges ----------------------------------------------------------------------------

    async def transact(
        self,
        request: bytes,
        scan: ScanFn,
        match: Callable[[Any], bool],
        *,
        answer_s: float | None = None,
        observe: Callable[[Any], bool] | None = None,
        hold_off: str | None = None,
    ) -> Any:
        """Send one command and return the first frame `match` accepts.

        `answer_s` is how long this command's board may take (default: the bus's); `observe`
        is shown every other valid frame heard and returns True for one it recognises (a late
        answer to an earlier command), which is then counted as late rather than stray.
        With `hold_off` (a board's id), a timeout holds that board's next such exchange back
        by one answer window, outside the bus lock: its late answer would look exactly like the
        next one's, and its bus-mates need not wait for it.
        Raises BusDown (nothing sent) or NoAnswer (sent, no matching answer within answer_s).
        """
        window = self._t.answer_s if answer_s is None else answer_s
        if hold_off is not None:
            wait = self._held_until.get(hold_off, 0.0) - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        try:
            return await self._run(self._exchange, request, scan, match, window, observe)
        except NoAnswer:
            if hold_off is not None:
                self._held_until[hold_off] = time.monotonic() + window
            raise

    async def send(self, request: bytes) -> None:
        """Send one command that gets no answer; return once its bytes are on the wire.

        Raises BusDown (nothing sent) or NoAnswer (the write failed: it may have gone out).
        """
        await self._run(self._send_only, request)

    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        if self._closed:
            raise BusDown(f"{self.port}: bus closed")
        async with self._lock:
            if self._closed:
                raise BusDown(f"{self.port}: bus closed")
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, fn, *args)

    def _ready(
        self, scan: ScanFn | None = None, observe: Callable[[Any], bool] | None = None
    ) -> serial.Serial:
        """The open port with a quiet line and an empty input buffer, or BusDown.

        What is discarded is still shown to `observe`: a late answer that arrived between two
        exchanges is recognised as one, not only one that arrives during an exchange.
        """
        ser = self._open()
        try:
            discarded = b""
            if self._drain_until is not None:
                discarded = self._drain(ser)
            waiting = ser.in_waiting
            if waiting:
                stale = ser.read(waiting)
                self.stats.discarded_bytes += len(stale)
                discarded += stale
            ser.reset_input_buffer()
            if discarded and scan is not None and observe is not None:
                self._look_for_late(discarded, scan, observe)
        except _IO_ERRORS as exc:
            self._lost(exc)
            raise BusDown(f"{self.port}: adapter gone ({_describe(exc)}); nothing sent") from None
        return ser

    def _write(self, ser: serial.Serial, request: bytes) -> None:
        self.stats.exchanges += 1
        log.debug("%s >> %s", self.port, request.hex(" "))
        try:
            ser.write(request)
        except _IO_ERRORS as exc:
            self._lost(exc)
            raise NoAnswer(f"{self.port}: writing failed ({_describe(exc)})") from None

    def _look_for_late(self, data: bytes, scan: ScanFn, observe: Callable[[Any], bool]) -> None:
        items, _ = scan(data)
        for item in items:
            if not isinstance(item, Noise) and observe(item):
                self.stats.late_answers += 1

    def _send_only(self, request: bytes) -> None:
        ser = self._ready()
        self._write(ser, request)
        try:
            ser.flush()  # tcdrain: the frame has left the adapter
        except _IO_ERRORS as exc:
            self._lost(exc)
            raise NoAnswer(f"{self.port}: writing failed ({_describe(exc)})") from None
        # Whatever the board might still say is drained (quiet line) before the next command.
        self._drain_until = time.monotonic()

    def _exchange(
        self,
        request: bytes,
        scan: ScanFn,
        match: Callable[[Any], bool],
        answer_s: float,
        observe: Callable[[Any], bool] | None,
    ) -> Any:
        ser = self._ready(scan, observe)
        self._write(ser, request)
        return self._await_answer(ser, scan, match, answer_s, observe)

    def _await_answer(
        self,
        ser: serial.Serial,
        scan: ScanFn,
        match: Callable[[Any], bool],
        answer_s: float,
        observe: Callable[[Any], bool] | None,
    ) -> Any:
        deadline = time.monotonic() + answer_s
        pending = b""
        trouble: list[str] = []
        while True:
            try:
                data = ser.read(max(1, ser.in_waiting))
            except _IO_ERRORS as exc:
                self._lost(exc)
                raise NoAnswer(f"{self.port}: reading failed ({_describe(exc)})") from None
            found = None
            if data:
                items, pending = scan(pending + data)
                for item in items:
                    if isinstance(item, Noise):
                        self.stats.noise_bytes += len(item.data)
                        trouble.append(f"{len(item.data)} noise byte(s): {item.reason}")
                    elif found is None and match(item):
                        found = item
                    elif observe is not None and observe(item):
                        self.stats.late_answers += 1
                        trouble.append(f"late answer {item!r}")
                    else:
                        self.stats.stray_frames += 1
                        trouble.append(f"unexpected frame {item!r}")
            if found is not None:
                log.debug("%s << %r", self.port, found)
                self.stats.answered += 1
                if trouble or pending:
                    log.debug("%s: resynchronising after %s", self.port, "; ".join(trouble))
                    self._drain_until = time.monotonic()
                return found
            if time.monotonic() >= deadline:
                self.stats.timeouts += 1
                self._drain_until = time.monotonic()
                heard = f"; heard {'; '.join(trouble[:3])}" if trouble else ""
                raise NoAnswer(f"no answer within {answer_s * 1000:.0f} ms{heard}")

    def _drain(self, ser: serial.Serial) -> bytes:
        """Discard input until the line has been quiet for a few character times; return it."""
        heard = bytearray()
        started = time.monotonic()
        until = max(self._drain_until or started, started)
        give_up = until + self._t.answer_s + self.quiet_s
        last_heard = started
        while True:
            data = ser.read(4096)
            now = time.monotonic()
            if data:
                last_heard = now
                self.stats.discarded_bytes += len(data)
                if len(heard) < 4096:
                    heard += data
            elif now >= until and now - last_heard >= self.quiet_s:
                self._drain_until = None
                return bytes(heard)
            if now >= give_up:
                self._drain_until = now
                raise BusDown(
                    f"{self.port}: the line does not go quiet (a board or noise keeps sending); "
                    "nothing sent"
                )

    # --- the port's life ----------------------------------------------------------------------

    def _open(self) -> serial.Serial:
        if self._serial is not None:
            return self._serial
        now = time.monotonic()
        if now < self._retry_at:
            raise BusDown(
                f"{self.port} unavailable ({self._last_error}); next reopen attempt in "
                f"{self._retry_at - now:.1f} s; nothing sent"
            )
        try:
            ser = serial.Serial(
                self.port,
                self.baud,
                bytesize=serial.EIGHTBITS,
                parity=serial.PARITY_NONE,
                stopbits=serial.STOPBITS_ONE,
                timeout=self._slice,
                write_timeout=self._t.answer_s,
                exclusive=True,
            )
        except (*_IO_ERRORS, ValueError) as exc:
            self._backoff = min(
                max(self._backoff * 2, self._t.reconnect_min_s), self._t.reconnect_max_s
            )
            self._retry_at = time.monotonic() + self._backoff
            self._last_error = str(exc)
            raise BusDown(
                f"cannot open {self.port}: {exc}; retrying in {self._backoff:.1f} s; nothing sent"
            ) from None
        if self._ever_open:
            self.stats.reconnects += 1
            log.warning("%s reopened after: %s", self.port, self._last_error)
        self._ever_open = True
        self._serial = ser
        self._backoff = 0.0
        self._drain_until = None
        return ser

    def _lost(self, exc: BaseException) -> None:
        """The adapter failed under us: close it and let the back-off decide when to retry."""
        self._last_error = _describe(exc)
        log.warning(
            "%s failed: %s; closing it, reopening with back-off", self.port, self._last_error
        )
        self.stats.disconnects += 1
        self._drop_port()
        self._backoff = self._t.reconnect_min_s
        self._retry_at = time.monotonic() + self._backoff

    def _drop_port(self) -> None:
        ser, self._serial = self._serial, None
        if ser is not None:
            try:
                ser.close()
            except _IO_ERRORS as exc:
                log.debug("%s: error while closing (ignored, the port is gone): %s", self.port, exc)


class BusRegistry:
    """One SerialBus per port, shared by every board configured on it."""

    def __init__(self, timing: BusTiming) -> None:
        self._timing = timing
        self._buses: dict[str, SerialBus] = {}
        self._family: dict[str, str] = {}

    def bus(self, port: str, baud: int, user: str, family: str = "cu/dip8") -> SerialBus:
        """The bus on `port` for board `user`; boards sharing a port must agree on the baud
        and on the framing family ("modbus" RTU frames and the cu/dip8 ones cannot share a
        line: each side's frames are noise that can look like the other's).

        The board attaches itself (SerialBus.attach) once it is built and detaches on close.
        """
        bus = self._buses.get(port)
        if bus is not None and not bus.closed and self._family.get(port) != family:
            raise ValueError(
                f"board '{user}' speaks {family} but {port} already carries "
                f"{self._family.get(port)} boards: one protocol family per adapter"
            )
        if bus is None or bus.closed:
            bus = self._buses[port] = SerialBus(port, baud, self._timing)
            self._family[port] = family
        elif bus.baud != baud:
            raise ValueError(
                f"board '{user}' wants {port} at {baud} baud but it is already used at "
                f"{bus.baud} baud; boards on one bus must share one speed"
            )
        return bus

    @property
    def buses(self) -> dict[str, SerialBus]:
        return {port: bus for port, bus in self._buses.items() if not bus.closed}

    async def close(self) -> None:
        for bus in list(self._buses.values()):
            await bus.close()
        self._buses.clear()
