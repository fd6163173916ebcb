"""USB HID keyboard-type card readers and QR scanners, read through python-evdev.

The device is opened by its udev id (`/dev/input/by-id/usb-<vendor>_<model>-event-kbd`), which
stays the same across replugs, unlike /dev/input/eventN. It is grabbed exclusively, so its
keystrokes never reach the kiosk's terminal (a card number typed into a Textual input, or into
a shell, would be a leak). Unplugging makes reads fail with ENODEV: the port's thread reopens
the device when it comes back. The station's user needs read access to the device (the `input`
group, or the udev rule in deploy/).
"""

from __future__ import annotations

import contextlib
import select
from typing import Any

from drivers.reader.codec import KeyDecoder
from drivers.reader.port import DeviceGone, ThreadedReader


class HidReader(ThreadedReader):
    kind = "hid-reader"

    def __init__(self, device: str, **kw: Any) -> None:
        super().__init__(device, **kw)
        self._keys = KeyDecoder()

    def open(self) -> Any:
        import evdev  # only on Linux; the serial backend and the decoders need none of it

        dev = evdev.InputDevice(self.device)
        try:
            dev.grab()
        except OSError:
            dev.close()
            raise
        return dev

    def serve(self, handle: Any) -> None:
        while not self.stopping:
            ready, _, _ = select.select([handle.fd], [], [], self._poll_s)
            if not ready:
                continue
            try:
                events = list(handle.read())
            except BlockingIOError:
                continue
            except OSError as exc:
                raise DeviceGone(str(exc)) from None
            for ev in events:
                self.decoded(self._keys.feed(ev.type, ev.code, ev.value))

    def close(self, handle: Any) -> None:
        with contextlib.suppress(OSError):
            handle.ungrab()
        handle.close()

    def reset(self) -> None:
        self._keys.reset()
