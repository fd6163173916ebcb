"""The reader port: a background thread that turns a device into one callback per card read.

Both backends (hid.py, serial_reader.py) block on their device, so each runs on its own thread
and hands every accepted read to `on_read` (the daemon passes it on to its event loop). The
thread never gives up: when the device vanishes (unplugged, the port errors) it closes it and
reopens it with a growing back-off, so a replugged reader under the same udev name is picked
up again. `connected` and `last_error` say how it is, for the daemon's alarm and `station
doctor`. A card held on the reader is read once (`Debouncer`); garbage is counted, never kept.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from drivers.reader.codec import Debouncer, Decoded, Garbage

log = logging.getLogger(__name__)

OnRead = Callable[[str], None]


@dataclass
class ReaderStats:
    """Counters for the self-test, /metrics and tests (no read's content, ever)."""

    reads: int = 0
    repeats: int = 0
    """Reads dropped as the same card still on the reader."""
    garbage: int = 0
    opens: int = 0
    open_failures: int = 0
    disconnects: int = 0


class DeviceGone(Exception):
    """The device stopped answering (unplugged); the thread reopens it."""


class ThreadedReader(ABC):
    """What both backends share: the thread, reconnects, de-bouncing and the counters."""

    kind = "reader"

    def __init__(
        self,
        device: str,
        *,
        hold_s: float = 1.5,
        monotonic: Callable[[], float] = time.monotonic,
        reconnect_min_s: float = 0.25,
        reconnect_max_s: float = 5.0,
        poll_s: float = 0.1,
    ) -> None:
        self.device = device
        self.stats = ReaderStats()
        self.connected = False
        self.last_error = ""
        self._debounce = Debouncer(hold_s)
        self._monotonic = monotonic
        self._reconnect_min = reconnect_min_s
        self._reconnect_max = reconnect_max_s
        self._poll_s = poll_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._on_read: OnRead | None = None
        self._changed = threading.Condition()

    # --- life ----------------------------------------------------------------------------------

    def start(self, on_read: OnRead) -> None:
        if self._thread is not None:
            raise RuntimeError(f"{type(self).__name__}.start() called twice")
        self._on_read = on_read
        self._thread = threading.Thread(
            target=self._run, name=f"{self.kind}:{self.device}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wait_connected(self, connected: bool, timeout: float) -> bool:
        """Block until `connected` has this value (tests, the self-test)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.connected != connected:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True

    # --- for the backends ----------------------------------------------------------------------

    @abstractmethod
    def open(self) -> Any:
        """Open the device (raise OSError if it is not there)."""

    @abstractmethod
    def serve(self, handle: Any) -> None:
        """Read until stopped; call `decoded` for each read; raise DeviceGone or OSError."""

    @abstractmethod
    def close(self, handle: Any) -> None:
        """Let go of the device."""

    def reset(self) -> None:  # noqa: B027 (an optional hook: most backends hold nothing)
        """Forget a read under way (called after a disconnect)."""

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def decoded(self, item: Decoded | None) -> None:
        if item is None:
            return
        if isinstance(item, Garbage):
            self.stats.garbage += 1
            log.warning("%s %s: dropped a read: %s", self.kind, self.device, item.reason)
            return
        if not self._debounce.accept(item, self._monotonic()):
            self.stats.repeats += 1
            return
        self.stats.reads += 1
        if self._on_read is not None:
            try:
                self._on_read(item)
            except Exception:  # the reader must outlive a bad consumer
                log.exception("%s %s: the read handler failed", self.kind, self.device)

    # --- the thread ----------------------------------------------------------------------------

    def _set_connected(self, value: bool) -> None:
        with self._changed:
            self.connected = value
            self._changed.notify_all()

    def _run(self) -> None:
        backoff = self._reconnect_min
        while not self._stop.is_set():
            try:
                handle = self.open()
            except (OSError, ValueError) as exc:
                # The reason first, then the count: a watcher that sees the count sees why.
                self._note(f"cannot open {self.device}: {exc}")
                self.stats.open_failures += 1
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self._reconnect_max)
                continue
            self.stats.opens += 1
            self.last_error = ""
            self._set_connected(True)
            backoff = self._reconnect_min
            try:
                self.serve(handle)
            except (DeviceGone, OSError) as exc:
                self.stats.disconnects += 1
                self._note(f"{self.device} gone: {exc}")
            finally:
                self._set_connected(False)
                self.reset()
                self._debounce.forget()
                with contextlib.suppress(OSError):
                    self.close(handle)
            self._stop.wait(backoff)

    def _note(self, text: str) -> None:
        if text != self.last_error:
            log.warning("%s: %s", self.kind, text)
        self.last_error = text
