"""One RS485 bus on one serial adapter: exchanges in lock-step, resync, and surviving a replug.

The rules come from how the boards fail (shared/design/hardware.md):
- One command in flight per bus. The serial I/O runs on the bus's own single thread
  (`_Worker`), which also keeps the queue of callers: an urgent one (an unlock) goes ahead of
  every status read still waiting for the bus, the rest in order of arrival; a read already on
  the wire is never called back. The turn passes on that thread, so the event loop never
  blocks, an unlock waiting behind a read starts the moment the read ends, and two exchanges
  can never interleave on the wire even if a caller is cancelled mid-exchange. An unlock and
  the status read that follows it run as one job on that thread (`job`): no bus-mate's poll
  between them, and no trip through the event loop. An unlock can be announced while its
  request is still being handled (`expect_urgent`): a status read that has not started then
  waits for it (at most URGENT_NOTICE_S) instead of taking the bus for a whole exchange just
  before the unlock arrives.
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
import heapq
import logging
import termios
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

import serial

from drivers.lockboard.codec import Noise
from drivers.lockboard.spec import BusTiming

log = logging.getLogger(__name__)

F = TypeVar("F")
ScanFn = Callable[[bytes], tuple[list[Any], bytes]]

URGENT_NOTICE_S = 0.05
"""The longest a status read that has not started waits for an announced unlock (`expect_urgent`):
half the default poll period. Normally the unlock comes within milliseconds (its request's
handling) or the request ends and releases the read; this bounds a request that hangs."""

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


@dataclass(frozen=True, slots=True)
class Exchange:
    """One command and how to recognise its answer (see SerialBus.transact)."""

    request: bytes
    scan: ScanFn
    match: Callable[[Any], bool]
    answer_s: float | None = None
    observe: Callable[[Any], bool] | None = None


class _Worker:
    """The bus's one thread and its queue: jobs run one at a time, urgent ones before every
    other still waiting, each kind in order of arrival. When a job ends the thread takes the
    next at once: the turn passes on the bus's thread, with no trip through the event loop
    between two callers (a status read that ends while an unlock waits is followed by the
    unlock within microseconds, not after the loop has woken twice). A job whose caller gave
    up before it started (its future cancelled) gives up its place; one that started runs to
    its end, so two exchanges never interleave on the wire."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._ready = threading.Condition()
        self._waiting: list[tuple[int, int, Future[Any], Callable[..., Any], tuple[Any, ...]]] = []
        self._arrivals = 0
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._notices: dict[object, float] = {}
        """Urgent jobs announced but not yet submitted: their callers' deadlines."""
        self._held_since: float | None = None
        """When the job now at the head was first held back for a notice."""

    def expect_urgent(self, within_s: float) -> Callable[[], None]:
        """An urgent job is on its way (an unlock request being handled): for up to
        `within_s`, a job that is not urgent and has not started waits for it instead of
        taking the bus. Returns the release, for a caller that ends without submitting it;
        the urgent job's submission uses up the oldest notice itself."""
        token = object()
        with self._ready:
            self._notices[token] = time.monotonic() + within_s

        def release() -> None:
            with self._ready:
                if self._notices.pop(token, None) is not None:
                    self._ready.notify()

        return release

    def _hold_s(self, now: float) -> float:
        """Lock held. How long the non-urgent job at the head must still wait for notices:
        until the last announced deadline, and never longer in all than the longest notice
        (a stream of announcements cannot starve the polls)."""
        for token, deadline in list(self._notices.items()):
            if deadline <= now:
                del self._notices[token]
        if not self._notices:
            self._held_since = None
            return 0.0
        if self._held_since is None:
            self._held_since = now
        longest = max(self._notices.values()) - now
        return min(longest, self._held_since + URGENT_NOTICE_S - now)

    def submit(self, fn: Callable[..., F], args: tuple[Any, ...], urgent: bool) -> Future[F]:
        future: Future[F] = Future()
        with self._ready:
            if self._stopping:
                raise RuntimeError(f"{self._name}: stopped")
            self._arrivals += 1
            if urgent and self._notices:  # the awaited job: its notice is used up
                del self._notices[next(iter(self._notices))]
            heapq.heappush(self._waiting, (0 if urgent else 1, self._arrivals, future, fn, args))
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name=self._name, daemon=True)
                self._thread.start()
            self._ready.notify()
        return future

    def stop(self) -> None:
        """No new jobs; the thread ends once those already queued have run."""
        with self._ready:
            self._stopping = True
            self._ready.notify()

    def _serve(self) -> None:
        while True:
            with self._ready:
                while True:
                    if not self._waiting:
                        if self._stopping:
                            return
                        self._ready.wait()
                        continue
                    urgent = self._waiting[0][0] == 0
                    hold = 0.0 if urgent or self._stopping else self._hold_s(time.monotonic())
                    if hold <= 0:
                        break
                    self._ready.wait(hold)  # an urgent job or a release wakes it early
                self._held_since = None
                _, _, future, fn, args = heapq.heappop(self._waiting)
            if not future.set_running_or_notify_cancel():
                continue  # its caller gave up its place
            try:
                result = fn(*args)
            except BaseException as exc:  # handed to the caller, as an executor does
                future.set_exception(exc)
            else:
                future.set_result(result)


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
        self._worker = _Worker(f"bus {port}")
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
        # Urgent: ahead of every job still waiting, which then finds the bus closed.
        await asyncio.wrap_future(self._worker.submit(self._drop_port, (), urgent=True))
        self._worker.stop()

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
        urgent: bool = False,
    ) -> Any:
        """Send one command and return the first frame `match` accepts.

        `answer_s` is how long this command's board may take (default: the bus's); `observe`
        is shown every other valid frame heard and returns True for one it recognises (a late
        answer to an earlier command), which is then counted as late rather than stray.
        With `hold_off` (a board's id), a timeout holds that board's next such exchange back
        by one answer window, outside the bus lock: its late answer would look exactly like the
        next one's, and its bus-mates need not wait for it. `urgent` (a lock being driven) goes
        ahead of every exchange still waiting for the bus that is not.
        Raises BusDown (nothing sent) or NoAnswer (sent, no matching answer within answer_s).
        """
        window = self._t.answer_s if answer_s is None else answer_s
        if hold_off is not None:
            wait = self._held_until.get(hold_off, 0.0) - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        try:
            return await self._run(
                self._exchange, request, scan, match, window, observe, urgent=urgent
            )
        except NoAnswer:
            if hold_off is not None:
                self._held_until[hold_off] = time.monotonic() + window
            raise

    def expect_urgent(self) -> Callable[[], None]:
        """An urgent exchange (an unlock) is coming: status reads not yet started wait for it,
        for at most URGENT_NOTICE_S. Call from any thread; returns the release for when the
        caller ends without one (calling it after the exchange was submitted does nothing)."""
        return self._worker.expect_urgent(URGENT_NOTICE_S)

    async def send(self, request: bytes, *, urgent: bool = False) -> None:
        """Send one command that gets no answer; return once its bytes are on the wire.

        Raises BusDown (nothing sent) or NoAnswer (the write failed: it may have gone out).
        """
        await self._run(self._send_only, request, urgent=urgent)

    async def job(self, fn: Callable[[SerialBus], F], *, urgent: bool = False) -> F:
        """Run fn on the bus's worker thread in one turn: its exchanges (exchange_now,
        send_now, read_now) follow each other with no other caller's between them and no trip
        through the event loop. `urgent` goes ahead of every status read still waiting.

        Raises BusDown when the bus is closed; fn's own exceptions pass through.
        """
        return await self._run(fn, self, urgent=urgent)

    def exchange_now(self, exchange: Exchange) -> Any:
        """Worker thread only (inside `job`): transact without hold-off; BusDown or NoAnswer.
        `observe` is shown only the frames heard after the command went out."""
        ser = self._ready()
        self._write(ser, exchange.request)
        return self._await_answer(
            ser, exchange.scan, exchange.match, self._window(exchange), exchange.observe
        )

    def send_now(self, request: bytes) -> None:
        """Worker thread only (inside `job`): as `send`."""
        self._send_only(request)

    def read_now(self, exchange: Exchange, hold_off: str) -> Any:
        """Worker thread only (inside `job`): a status read as `transact` with `hold_off` does
        it, except that a held-back board, a busy line or a missing answer give None (the next
        poll reads the board) instead of waiting or raising."""
        if self._held_until.get(hold_off, 0.0) > time.monotonic():
            return None
        window = self._window(exchange)
        try:
            return self._exchange(
                exchange.request, exchange.scan, exchange.match, window, exchange.observe
            )
        except BusDown:
            return None
        except NoAnswer:
            self._held_until[hold_off] = time.monotonic() + window
            return None

    def _window(self, exchange: Exchange) -> float:
        return self._t.answer_s if exchange.answer_s is None else exchange.answer_s

    async def _run(self, fn: Callable[..., Any], *args: Any, urgent: bool = False) -> Any:
        if self._closed:
            raise BusDown(f"{self.port}: bus closed")
        return await asyncio.wrap_future(self._worker.submit(self._open_only, (fn, args), urgent))

    def _open_only(self, fn: Callable[..., F], args: tuple[Any, ...]) -> F:
        """Worker thread: fn, unless the bus was closed while it waited for its turn."""
        if self._closed:
            raise BusDown(f"{self.port}: bus closed")
        return fn(*args)

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
