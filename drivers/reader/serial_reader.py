"""Card readers and scanners in serial (USB CDC) mode: text ended by CR or CRLF, via pyserial.

Name the port by its udev id (`/dev/serial/by-id/...`), never /dev/ttyACM0, which moves after
a replug. Such readers also go quiet between cards, so silence is not a sign of loss; a read
error or the port vanishing is.
"""

from __future__ import annotations

from typing import Any

import serial

from drivers.reader.codec import LineDecoder
from drivers.reader.port import DeviceGone, ThreadedReader


class SerialCardReader(ThreadedReader):
    kind = "serial-reader"

    def __init__(self, device: str, *, baudrate: int = 9600, **kw: Any) -> None:
        super().__init__(device, **kw)
        self.baudrate = baudrate
        self._lines = LineDecoder()

    def open(self) -> Any:
        try:
            return serial.Serial(self.device, self.baudrate, timeout=self._poll_s)
        except serial.SerialException as exc:
            raise OSError(str(exc)) from None

    def serve(self, handle: Any) -> None:
        while not self.stopping:
            try:
                chunk = handle.read(handle.in_waiting or 1)
            except (serial.SerialException, OSError) as exc:
                raise DeviceGone(str(exc)) from None
            for item in self._lines.feed(chunk):
                self.decoded(item)

    def close(self, handle: Any) -> None:
        handle.close()

    def reset(self) -> None:
        self._lines.reset()
