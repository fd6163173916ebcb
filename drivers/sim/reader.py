"""Simulated card readers: a serial one on a pseudo-terminal, and HID event sequences.

Serial: `SerialReaderSim` serves a pty behind a stable symlink (as a udev symlink points at
/dev/ttyACMn), so the station's real pyserial backend reads it; `present()` sends a card's
text the way a reader in serial mode does (text + CRLF, repeated while "held"), `unplug()`
closes the pty and removes the link (the backend sees an I/O error), `replug()` brings a new
pty behind the same link.

HID: `scanner_events()` types a text as a keyboard-type reader does (Shift for capitals, a
SYN after each key, Enter at the end), and `parse_evtest()` reads sequences recorded with
`evtest` from a real device; both feed the same KeyDecoder the live backend uses.
`UinputScanner` creates a virtual keyboard through /dev/uinput where the kernel offers it,
for a live test of the real evdev backend (grab included).
"""

from __future__ import annotations

import contextlib
import os
import re
import time
import tty
from pathlib import Path
from typing import Any

from drivers.reader.codec import CHAR_KEYS, EV_KEY, KEY_DOWN, KEY_ENTER, KEY_LEFTSHIFT, KEY_UP

EV_SYN = 0x00
EV_MSC = 0x04
MSC_SCAN = 0x04
Event = tuple[int, int, int]
"""(type, code, value), as evdev's InputEvent carries them."""


def scanner_events(text: str, *, enter: bool = True) -> list[Event]:
    """The key events a keyboard-type reader sends for `text` (ASCII printable only)."""
    out: list[Event] = []

    def key(code: int) -> None:
        out.extend(
            [(EV_KEY, code, KEY_DOWN), (EV_SYN, 0, 0), (EV_KEY, code, KEY_UP), (EV_SYN, 0, 0)]
        )

    for char in text:
        code, shifted = CHAR_KEYS[char]
        if shifted:
            out.extend([(EV_KEY, KEY_LEFTSHIFT, KEY_DOWN), (EV_SYN, 0, 0)])
        key(code)
        if shifted:
            out.extend([(EV_KEY, KEY_LEFTSHIFT, KEY_UP), (EV_SYN, 0, 0)])
    if enter:
        key(KEY_ENTER)
    return out


_EVTEST = re.compile(r"type (\d+) \([A-Z_]+\), code (\d+) \([A-Z_0-9]+\), value (-?\w+)")


def parse_evtest(text: str) -> list[Event]:
    """Events from `evtest` output ("Event: time ..., type 1 (EV_KEY), code 2 (KEY_1), value 1");
    SYN_REPORT lines and headers are skipped (the decoder needs no SYN)."""
    events: list[Event] = []
    for line in text.splitlines():
        m = _EVTEST.search(line)
        if m:
            ev_type = int(m[1])
            # evtest prints MSC_SCAN usages in hex without a prefix, key values in decimal
            value = int(m[3], 16) if ev_type == EV_MSC else int(m[3])
            events.append((ev_type, int(m[2]), value))
    return events


class SerialReaderSim:
    """A reader in serial mode on a pty; thread-safe enough for tests (one writer)."""

    def __init__(self, link: str | Path) -> None:
        self._link = Path(link)
        self._master: int | None = None
        self._slave: int | None = None

    @property
    def path(self) -> str:
        return str(self._link)

    def start(self) -> str:
        if self._link.exists() and not self._link.is_symlink():
            raise ValueError(f"{self._link} exists and is not a symlink; choose another path")
        self.replug()
        return self.path

    def stop(self) -> None:
        self.unplug()

    def __enter__(self) -> SerialReaderSim:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def plugged(self) -> bool:
        return self._master is not None

    def replug(self) -> None:
        if self._master is not None:
            return
        master, slave = os.openpty()
        tty.setraw(slave)
        tmp = self._link.with_name(f".{self._link.name}.{os.getpid()}.tmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        os.symlink(os.ttyname(slave), tmp)
        os.replace(tmp, self._link)
        self._master, self._slave = master, slave

    def unplug(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._link.unlink()
        for fd in (self._master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = None

    def send(self, data: bytes) -> None:
        """Raw bytes, as a reader (or line noise) puts them on the wire."""
        if self._master is None:
            raise RuntimeError("the simulated reader is unplugged")
        os.write(self._master, data)

    def present(
        self, text: str, *, held: int = 1, every_s: float = 0.0, end: bytes = b"\r\n"
    ) -> None:
        """A card presented: its text sent once, or `held` times `every_s` apart (left lying)."""
        for i in range(held):
            if i and every_s:
                time.sleep(every_s)
            self.send(text.encode("ascii") + end)


class UinputScanner:
    """A virtual keyboard-type scanner through /dev/uinput (Linux, with write access)."""

    def __init__(self, name: str = "station-sim-scanner") -> None:
        import evdev

        keys = sorted({code for code, _ in CHAR_KEYS.values()} | {KEY_ENTER, KEY_LEFTSHIFT})
        self._ui: Any = evdev.UInput({EV_KEY: keys}, name=name)

    @property
    def device(self) -> str:
        return str(self._ui.device.path)

    def type_text(self, text: str) -> None:
        for ev_type, code, value in scanner_events(text):
            if ev_type == EV_SYN:
                self._ui.syn()
            else:
                self._ui.write(ev_type, code, value)

    def close(self) -> None:
        self._ui.close()
