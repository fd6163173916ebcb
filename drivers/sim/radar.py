"""A virtual HLK-LD2410 on a pseudo-terminal, so the real reader and codec run in tests and demos.

The radar is reached through a stable symlink (like a udev `SYMLINK+=` name). Unplugging closes
the pty, so the reader's port fails as a yanked USB adapter's does; replugging makes a new pty
and re-points the symlink, so the reader must reopen by name to find it again. The scene is
set by the test or the demo: nobody, a person moving, a person sitting still; noise, cut
frames and silence are injected on demand. It answers config commands as the radar does
(ACKs, no reports while in config mode, engineering mode on and off).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import random
import threading
import tty
from collections.abc import Sequence
from pathlib import Path

from drivers.radar.ld2410 import (
    CMD_DISABLE_ENGINEERING,
    CMD_ENABLE_CONFIG,
    CMD_ENABLE_ENGINEERING,
    CMD_END_CONFIG,
    CMD_READ_FIRMWARE,
    GateEnergies,
    Ld2410Framer,
    RadarCommand,
    RadarReport,
    TargetState,
    encode_ack,
    encode_report,
)
from drivers.sim.pir import VirtualPir

log = logging.getLogger(__name__)

GATES = 9
"""Gates 0..8, 0.75 m each: the LD2410's default range."""

DEMO_SCENE: tuple[tuple[float, str], ...] = (
    (20.0, "leave"),
    (8.0, "enter"),
    (60.0, "sit_still"),
    (6.0, "enter"),
)
"""A loop for the demo station: empty, someone walks in, rests a minute, gets up and leaves."""


class VirtualRadar:
    def __init__(self, link: str | Path, *, period_s: float = 0.05, seed: int = 2410) -> None:
        self.link = Path(link)
        self.period_s = period_s
        self.commands: list[RadarCommand] = []
        """Every command frame the radar received, in order (tests check what was sent)."""
        self.engineering = False
        self.config_mode = False
        self.reports_sent = 0
        self._lock = threading.RLock()
        self._rng = random.Random(seed)
        self._report = RadarReport(TargetState.NONE, 0, 0, 0, 0, 0)
        self._muted = False
        self._master: int | None = None
        self._slave: int | None = None
        self._tty = ""
        self._framer = Ld2410Framer()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._player: threading.Thread | None = None

    # --- life ----------------------------------------------------------------------------------

    @property
    def path(self) -> str:
        """The stable name to configure as the radar's port."""
        return str(self.link)

    @property
    def tty(self) -> str:
        """The current pty behind the link ('' while unplugged)."""
        return self._tty

    @property
    def plugged(self) -> bool:
        return self._master is not None

    def start(self) -> VirtualRadar:
        self.replug()
        self._thread = threading.Thread(target=self._run, name="sim-radar", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in (self._thread, self._player):
            if thread is not None:
                thread.join(2)
        self.unplug()

    def __enter__(self) -> VirtualRadar:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def unplug(self) -> None:
        """The adapter is pulled: the pty closes under the reader and the name disappears."""
        with self._lock:
            for fd in (self._master, self._slave):
                if fd is not None:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            self._master = self._slave = None
            self._tty = ""
            self.config_mode = False
            with contextlib.suppress(FileNotFoundError):
                self.link.unlink()

    def replug(self) -> None:
        """The adapter comes back as a new device; the stable name points at it again."""
        with self._lock:
            if self.plugged:
                self.unplug()
            master, slave = os.openpty()
            # Raw at once, so nothing is echoed back before the reader sets the port up.
            tty.setraw(slave)
            os.set_blocking(master, False)
            self._master, self._slave = master, slave
            self._tty = os.ttyname(slave)
            self._framer.reset()
            self.link.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.link.with_name(self.link.name + ".new")
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            tmp.symlink_to(self._tty)
            os.replace(tmp, self.link)

    # --- the scene -----------------------------------------------------------------------------

    def set_target(
        self,
        target: TargetState,
        *,
        moving_cm: int = 0,
        moving_energy: int = 0,
        still_cm: int = 0,
        still_energy: int = 0,
    ) -> None:
        detection = max(moving_cm if target.moving else 0, still_cm if target.still else 0)
        with self._lock:
            self._report = RadarReport(
                target, moving_cm, moving_energy, still_cm, still_energy, detection
            )

    def person_enters(self, distance_cm: int = 180) -> None:
        self.set_target(TargetState.MOVING, moving_cm=distance_cm, moving_energy=72)

    def person_sits_still(self, distance_cm: int = 120) -> None:
        self.set_target(
            TargetState.STILL,
            still_cm=distance_cm,
            still_energy=55,
            moving_cm=distance_cm,
            moving_energy=8,
        )

    def person_leaves(self) -> None:
        self.set_target(TargetState.NONE)

    def mute(self, muted: bool = True) -> None:
        """Stay plugged but stop reporting (a radar that hung or lost power)."""
        with self._lock:
            self._muted = muted

    def inject_noise(self, data: bytes | None = None, length: int = 32) -> None:
        """Write garbage onto the line (given bytes, or `length` random ones)."""
        if data is None:
            data = bytes(self._rng.randrange(256) for _ in range(length))
        self._write(data)

    def inject_cut_frame(self) -> None:
        """Write the first half of a report, as when the radar resets mid-frame."""
        with self._lock:
            frame = self._encode()
        self._write(frame[: len(frame) // 2])

    def play(
        self,
        scene: Sequence[tuple[float, str]] = DEMO_SCENE,
        *,
        loop: bool = True,
        pir: VirtualPir | None = None,
    ) -> None:
        """Run a scene of (seconds, action) steps on a thread, in real time (for the demo).

        With a virtual PIR, it shows motion while the person is moving and falls quiet
        otherwise, as a real PIR beside the radar would."""

        def moving() -> None:
            self.person_enters()
            if pir is not None:
                pir.motion()

        def still() -> None:
            self.person_sits_still()
            if pir is not None:
                pir.quiet()

        def gone() -> None:
            self.person_leaves()
            if pir is not None:
                pir.quiet()

        actions = {"enter": moving, "sit_still": still, "leave": gone, "noise": self.inject_noise}
        for _, name in scene:
            if name not in actions:
                raise ValueError(f"unknown scene action {name!r}; use one of {sorted(actions)}")

        def run() -> None:
            while not self._stop.is_set():
                for seconds, name in scene:
                    actions[name]()
                    if self._stop.wait(seconds):
                        return
                if not loop:
                    return

        self._player = threading.Thread(target=run, name="sim-radar-scene", daemon=True)
        self._player.start()

    # --- the radar's side of the wire ---------------------------------------------------------

    def _encode(self) -> bytes:
        report = self._report
        if self.engineering:
            moving = [0] * GATES
            still = [0] * GATES
            if report.target.moving:
                moving[min(report.moving_cm // 75, GATES - 1)] = report.moving_energy
            if report.target.still:
                still[min(report.still_cm // 75, GATES - 1)] = report.still_energy
            report = RadarReport(
                report.target,
                report.moving_cm,
                report.moving_energy,
                report.still_cm,
                report.still_energy,
                report.detection_cm,
                GateEnergies(tuple(moving), tuple(still), b"\x00\x00"),
            )
        return encode_report(report)

    def _write(self, data: bytes) -> None:
        with self._lock:
            if self._master is None:
                return
            try:
                os.write(self._master, data)
            except BlockingIOError:
                pass  # nobody reading and the buffer is full: the bytes fall on the floor
            except OSError as exc:
                if exc.errno not in (errno.EIO, errno.EBADF):
                    raise

    def _read_commands(self) -> None:
        with self._lock:
            if self._master is None:
                return
            try:
                data = os.read(self._master, 1024)
            except (BlockingIOError, OSError):
                return
            for item in self._framer.feed(data):
                if isinstance(item, RadarCommand):
                    self.commands.append(item)
                    self._answer(item)

    def _answer(self, cmd: RadarCommand) -> None:
        if cmd.command == CMD_ENABLE_CONFIG:
            self.config_mode = True
            self._write(encode_ack(cmd.command, 0, b"\x01\x00\x40\x00"))
        elif not self.config_mode:
            return  # outside config mode the radar ignores commands
        elif cmd.command == CMD_END_CONFIG:
            self.config_mode = False
            self._write(encode_ack(cmd.command))
        elif cmd.command == CMD_ENABLE_ENGINEERING:
            self.engineering = True
            self._write(encode_ack(cmd.command))
        elif cmd.command == CMD_DISABLE_ENGINEERING:
            self.engineering = False
            self._write(encode_ack(cmd.command))
        elif cmd.command == CMD_READ_FIRMWARE:
            self._write(encode_ack(cmd.command, 0, bytes.fromhex("0001020116082422")))
        else:
            self._write(encode_ack(cmd.command, 1))

    def _run(self) -> None:
        while not self._stop.wait(self.period_s):
            self._read_commands()
            with self._lock:
                if self._master is None or self._muted or self.config_mode:
                    continue
                frame = self._encode()
            self._write(frame)
            self.reports_sent += 1
