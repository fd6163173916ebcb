"""Time as the station sees it: wall clock, monotonic clock, boot id, and whether to trust them.

A Raspberry Pi has no real-time clock: until NTP synchronises, the wall clock may be years off.
Every event records the monotonic time and boot id beside the wall time so that sync can correct
it later (see station/sync/service.py).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import time
import uuid
from pathlib import Path
from typing import Protocol

_TIME_ERROR = 5  # adjtimex() result when the kernel says the clock is not synchronised


class Clock(Protocol):
    boot_id: str

    def wall(self) -> float: ...

    def monotonic(self) -> float: ...

    def synced(self) -> bool: ...


class _Timex(ctypes.Structure):
    # struct timex from <sys/timex.h> on Linux (64-bit and 32-bit layouts use c_long fields).
    _fields_ = [
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long),
        ("status", ctypes.c_int),
        ("constant", ctypes.c_long),
        ("precision", ctypes.c_long),
        ("tolerance", ctypes.c_long),
        ("time_sec", ctypes.c_long),
        ("time_usec", ctypes.c_long),
        ("tick", ctypes.c_long),
        ("ppsfreq", ctypes.c_long),
        ("jitter", ctypes.c_long),
        ("shift", ctypes.c_int),
        ("stabil", ctypes.c_long),
        ("jitcnt", ctypes.c_long),
        ("calcnt", ctypes.c_long),
        ("errcnt", ctypes.c_long),
        ("stbcnt", ctypes.c_long),
        ("tai", ctypes.c_int),
        ("_pad", ctypes.c_int * 11),
    ]


@functools.cache
def _libc() -> ctypes.CDLL | None:
    """The C library, loaded once: the symbols of the running interpreter, which links libc.

    `ctypes.util.find_library` runs `ldconfig -p` (a subprocess) on every call, so it must never
    sit on a path that runs per event; it is only the fallback for an interpreter that does not
    expose adjtimex itself, and even then runs once per process.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.adjtimex  # noqa: B018 (raises AttributeError when the symbol is absent)
        return libc
    except (OSError, AttributeError):
        pass
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return ctypes.CDLL(name, use_errno=True)
    except OSError:
        return None


def kernel_clock_synced() -> bool | None:
    """Ask the kernel (adjtimex) whether NTP has synchronised the clock; None if unknown.

    One system call, no subprocess: every usage-log append asks this.
    """
    libc = _libc()
    if libc is None:
        return None
    try:
        tx = _Timex()
        state = libc.adjtimex(ctypes.byref(tx))
    except (OSError, AttributeError):
        return None
    if state < 0:
        return None
    return state != _TIME_ERROR


def read_boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return uuid.uuid4().hex


class SystemClock:
    """The real clock; `assume_synced` overrides the kernel's answer (for containers)."""

    def __init__(self, assume_synced: bool | None = None) -> None:
        self.boot_id = read_boot_id()
        self._assume = assume_synced

    def wall(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def synced(self) -> bool:
        if self._assume is not None:
            return self._assume
        return bool(kernel_clock_synced())


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, wall: float = 1_767_225_600.0, synced: bool = True) -> None:
        self.boot_id = "fake-boot"
        self._wall = wall
        self._mono = 1000.0
        self.is_synced = synced

    def wall(self) -> float:
        return self._wall

    def monotonic(self) -> float:
        return self._mono

    def synced(self) -> bool:
        return self.is_synced

    def advance(self, seconds: float) -> None:
        self._wall += seconds
        self._mono += seconds
