"""GPIO lock board: one relay per door, pulsed to unlock, and optionally one reed switch per door.

For small builds without an RS485 board. The relay drives a lock coil that burns if left
energised, so an unlock is a pulse of `pulse_ms` that is switched off in a `finally`: a
cancelled unlock, a closed board and an error all leave the coil off.

A reed switch wired to GND reads as a pressed gpiozero Button (pull-up on): pressed means the
magnet is at the switch, i.e. the door is closed. Debounce is done here (see debounce.py).
A board configured without `sensor_pins` cannot see its doors: `read_status()` then reports no
doors at all, and the station treats those doors as `unknown` rather than guessing.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from gpiozero import Button, GPIODeviceClosed

from drivers.gpio.debounce import Debouncer
from drivers.gpio.relay import OutputRelay
from drivers.lockboard.port import BoardStatus, BoardUnavailable, DoorReading


@dataclass(frozen=True, slots=True)
class GpioBankSpec:
    """A bank of door relays on the Pi's pins, one per channel, with optional reed switches."""

    id: str
    relay_pins: Sequence[int]
    """Channel N drives relay_pins[N-1]."""
    sensor_pins: Sequence[int] = ()
    """Empty, or one reed switch per channel."""
    relay_active_high: bool = False
    pulse_ms: int = 500
    debounce_ms: int = 50

    def __post_init__(self) -> None:
        if not self.relay_pins:
            raise ValueError(f"GPIO bank '{self.id}' needs at least one relay pin")
        if self.sensor_pins and len(self.sensor_pins) != len(self.relay_pins):
            raise ValueError(
                f"GPIO bank '{self.id}': sensor_pins must be empty or one per relay pin"
            )

    @property
    def channels(self) -> int:
        return len(self.relay_pins)


class _ReedSwitch:
    """One door's reed switch; edges are timestamped as they happen so bounces are seen."""

    def __init__(
        self, pin: int, debounce_s: float, monotonic: Callable[[], float], pin_factory: Any
    ) -> None:
        self._monotonic = monotonic
        self._lock = threading.RLock()
        self._button = Button(pin, pull_up=True, bounce_time=None, pin_factory=pin_factory)
        self._debouncer = Debouncer(debounce_s, self._button.is_pressed, monotonic())
        # gpiozero calls these from its pin thread (or synchronously from a mock pin's drive).
        self._button.when_pressed = self._edge
        self._button.when_released = self._edge

    def _edge(self) -> None:
        with self._lock:
            if not self._button.closed:
                self._debouncer.observe(self._button.is_pressed, self._monotonic())

    def reading(self) -> DoorReading | None:
        with self._lock:
            now = self._monotonic()
            # A poll also counts as an observation, in case an edge was missed.
            self._debouncer.observe(self._button.is_pressed, now)
            closed = self._debouncer.value(now)
        if closed is None:
            return None
        return DoorReading.CLOSED if closed else DoorReading.OPEN

    def close(self) -> None:
        with self._lock:
            self._button.close()


class GpioLockBoard:
    """LockBoard for a GpioBankSpec; channel N uses relay_pins[N-1]."""

    def __init__(
        self,
        config: GpioBankSpec,
        *,
        pin_factory: Any = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._config = config
        self._pulse_s = config.pulse_ms / 1000
        self._relays: list[OutputRelay] = []
        self._switches: list[_ReedSwitch] = []
        self._busy = [asyncio.Lock() for _ in range(config.channels)]
        self._closed = False
        self._closing: asyncio.Event | None = None
        try:
            for pin in config.relay_pins:
                self._relays.append(
                    OutputRelay(pin, active_high=config.relay_active_high, pin_factory=pin_factory)
                )
            for pin in config.sensor_pins:
                self._switches.append(
                    _ReedSwitch(pin, config.debounce_ms / 1000, monotonic, pin_factory)
                )
        except Exception:
            self._release()
            raise

    @property
    def board_id(self) -> str:
        return self._config.id

    @property
    def channels(self) -> int:
        return self._config.channels

    @property
    def senses_doors(self) -> bool:
        """False when no reed switches are wired: every door of this board stays unknown."""
        return bool(self._switches)

    def _check(self, channel: int) -> None:
        if self._closed:
            raise BoardUnavailable(f"board '{self.board_id}' is closed")
        if not 1 <= channel <= self.channels:
            raise ValueError(
                f"board '{self.board_id}' has channels 1..{self.channels}; got {channel}"
            )

    async def unlock(self, channel: int, before_send: Callable[[], None] | None = None) -> None:
        """Pulse the door's relay once; a second unlock of the same door waits for the first."""
        self._check(channel)
        async with self._busy[channel - 1]:
            self._check(channel)
            if before_send is not None:
                await asyncio.to_thread(before_send)
            relay = self._relays[channel - 1]
            try:
                relay.on()
                await self._pulse_wait()
            except GPIODeviceClosed as exc:
                raise BoardUnavailable(
                    f"board '{self.board_id}' was closed during the unlock of channel {channel}"
                ) from exc
            finally:
                relay.off()

    async def _pulse_wait(self) -> None:
        """Sleep for the pulse, but end it at once when the board is closed meanwhile."""
        if self._closing is None:
            self._closing = asyncio.Event()
        try:
            await asyncio.wait_for(self._closing.wait(), timeout=self._pulse_s)
        except TimeoutError:
            return
        raise BoardUnavailable(f"board '{self.board_id}' was closed during an unlock pulse")

    async def read_status(self) -> BoardStatus:
        """Debounced door readings; doors still settling (just after start) are left out."""
        if self._closed:
            raise BoardUnavailable(f"board '{self.board_id}' is closed")
        doors: dict[int, DoorReading] = {}
        try:
            for channel, switch in enumerate(self._switches, start=1):
                reading = switch.reading()
                if reading is not None:
                    doors[channel] = reading
        except GPIODeviceClosed as exc:
            raise BoardUnavailable(f"board '{self.board_id}' is closed") from exc
        return BoardStatus(doors=doors)

    async def close(self) -> None:
        if self._closing is not None:
            self._closing.set()
        self._release()

    def _release(self) -> None:
        self._closed = True
        for relay in self._relays:
            relay.close()
        for switch in self._switches:
            switch.close()
