"""A virtual RS485 lock board (one or several addresses) on a pseudo-terminal.

It speaks "cu" or "dip8" byte for byte, so the station's real pyserial driver talks to it as to
a USB adapter: the tests exercise timeouts, resync and replug on a real tty, not on a mock.

The port a driver opens is a stable symlink to the pty's slave device (as a udev symlink points
at /dev/ttyUSBn). Unplugging closes the pty, so a driver holding it open gets I/O errors, and
removes the symlink; replugging creates a new pty and re-points the same symlink at it.

Every control method is thread-safe: the board runs in its own thread, tests and the CLI call
in from theirs. Operations on file descriptors are handed to the board's thread, so no
descriptor is ever closed under a select() in another thread.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import select
import shutil
import tempfile
import threading
import time
import tty
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from drivers.lockboard import cu, dip8, modbus
from drivers.lockboard.codec import Framer, Noise
from drivers.lockboard.feedback import Feedback, bit_for_reading
from drivers.lockboard.port import DoorReading

log = logging.getLogger(__name__)

SimProtocol = Literal["cu", "dip8", "modbus"]
SimUnlockAnswer = Literal["status", "ack", "none"]
_IDLE_WAKE_S = 0.5


@dataclass(frozen=True, slots=True)
class SimBoardSpec:
    address: int
    channels: int = 16
    feedback: Feedback = "closed"
    auto_close_s: float = 0.0
    """Doors close by themselves this long after opening; 0 = only when told."""
    unlock_answer: SimUnlockAnswer = "ack"
    """cu: what the board sends back to an unlock (dip8 boards always acknowledge)."""
    unlock_delay_s: float = 0.0
    """cu: an unlock's answer comes this much later than the board's other answers."""
    coil_base: int = 0
    """modbus: coil address of channel 1 (a coil switched on fires its lock)."""
    flash_base: int = 0x0200
    """modbus: address of channel 1's pulse function (a write of a time there fires it)."""
    input_base: int = 0
    """modbus: discrete input / input register address of channel 1's feedback."""


@dataclass(frozen=True, slots=True)
class Received:
    """A command the simulator heard, with when (time.monotonic())."""

    at: float
    command: cu.Command | dip8.Command | modbus.Command
    fired: int | None = None
    """The channel this command fired (an unlock, a coil switched on, a pulse function)."""


@dataclass
class _Door:
    open: bool = False
    opened_at: float = 0.0
    jammed: bool = False
    item: bool = False


@dataclass
class _Board:
    spec: SimBoardSpec
    doors: dict[int, _Door]
    silent: bool = False
    unlock_answer: SimUnlockAnswer = "ack"
    unlock_delay: float = 0.0
    answer_delay: float | None = None
    """This board's own answer delay; None = the simulator-wide one."""
    coils: set[int] = field(default_factory=set)
    """modbus: channels whose coil is on."""
    hold_status: bool = False
    """The next status answer is held back (see LockBoardSimulator.hold_status_answer)."""
    held: bytes | None = None
    """A held status answer, sent just before the board's answer to its next unlock."""

    def settle(self, now: float) -> None:
        """Apply auto-close lazily, whenever the board's state is looked at."""
        if self.spec.auto_close_s <= 0:
            return
        for door in self.doors.values():
            if door.open and now - door.opened_at >= self.spec.auto_close_s:
                door.open = False

    def bit(self, channel: int) -> bool:
        reading = DoorReading.OPEN if self.doors[channel].open else DoorReading.CLOSED
        return bit_for_reading(reading, self.spec.feedback)


@dataclass(order=True)
class _Outgoing:
    due: float
    seq: int
    data: bytes = field(compare=False)


class LockBoardSimulator:
    """Virtual board(s) on one pty. Start with start(); the path it returns is the serial port."""

    def __init__(
        self,
        protocol: SimProtocol,
        boards: Sequence[SimBoardSpec],
        *,
        link_path: str | os.PathLike[str] | None = None,
        wire_baud: int | None = None,
    ) -> None:
        """`wire_baud` makes answers take the time their bytes would need on a real line."""
        if protocol not in ("cu", "dip8", "modbus"):
            raise ValueError(
                f"simulated protocol must be 'cu', 'dip8' or 'modbus', not {protocol!r}"
            )
        if not boards:
            raise ValueError("a simulator needs at least one board")
        self._protocol: SimProtocol = protocol
        self._boards: dict[int, _Board] = {}
        for spec in boards:
            self._check_spec(spec)
            if spec.address in self._boards:
                raise ValueError(f"two simulated boards at address {spec.address}")
            doors = {ch: _Door() for ch in range(1, spec.channels + 1)}
            self._boards[spec.address] = _Board(
                spec, doors, unlock_answer=spec.unlock_answer, unlock_delay=spec.unlock_delay_s
            )
        self._own_dir: Path | None = None
        if link_path is None:
            self._own_dir = Path(tempfile.mkdtemp(prefix="station-sim-"))
            link_path = self._own_dir / f"lockboard-{protocol}"
        self._link = Path(link_path)
        self._wire_baud = wire_baud
        self._lock = threading.Lock()
        self._outbox: list[_Outgoing] = []
        self._seq = 0
        self._answer_delay = 0.0
        self._answer_prefix = b""
        self._received: list[Received] = []
        self._noise_received = 0
        scan = {"cu": cu.scan_commands, "dip8": dip8.scan_commands}.get(
            protocol, modbus.scan_commands
        )
        self._framer: Framer[cu.Command | dip8.Command | modbus.Command] = Framer(scan)  # type: ignore[arg-type]
        self._requests: queue.Queue[tuple[Callable[[], None], threading.Event]] = queue.Queue()
        self._master: int | None = None
        self._slave: int | None = None
        self._wake_r, self._wake_w = -1, -1
        self._thread: threading.Thread | None = None
        self._stopping = False

    def _check_spec(self, spec: SimBoardSpec) -> None:
        if spec.channels < 1:
            raise ValueError(f"board {spec.address}: at least one channel")
        if self._protocol == "cu":
            if not 0 <= spec.address <= cu.MAX_BOARD or spec.channels > cu.MAX_LOCKS:
                raise ValueError(
                    f"cu boards have addresses 0..{cu.MAX_BOARD} and at most {cu.MAX_LOCKS} "
                    f"channels (got address {spec.address}, {spec.channels} channels)"
                )
        elif self._protocol == "modbus":
            if not modbus.MIN_ADDRESS <= spec.address <= modbus.MAX_ADDRESS:
                raise ValueError(f"modbus slave {spec.address}: addresses are 1..247")
        elif not 0 <= spec.address <= dip8.MAX_BOARD or spec.channels > dip8.MAX_CHANNEL:
            raise ValueError(f"dip8 board {spec.address}: address 0..255, channels 1..255")

    # --- life ---------------------------------------------------------------------------------

    @property
    def path(self) -> str:
        """The stable serial port path (a symlink to the current pty)."""
        return str(self._link)

    @property
    def protocol(self) -> SimProtocol:
        return self._protocol

    def start(self) -> str:
        if self._thread is not None:
            raise RuntimeError("simulator already started")
        if self._link.is_symlink():
            if self._link.exists():
                raise ValueError(
                    f"{self._link} already points at a live pty (another simulator?); stop it, "
                    "or remove the link if nothing serves it"
                )
        elif self._link.exists():
            raise ValueError(f"{self._link} exists and is not a symlink; choose another path")
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        self._plug()
        self._thread = threading.Thread(
            target=self._run, name=f"sim-lockboard {self._link}", daemon=True
        )
        self._thread.start()
        return self.path

    def stop(self) -> None:
        """Stop serving, close the pty and remove the symlink. Safe to call twice."""
        if self._thread is None:
            return
        self._stopping = True
        self._wake()
        self._thread.join(timeout=5)
        self._thread = None
        self._unplug()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        if self._own_dir is not None:
            shutil.rmtree(self._own_dir, ignore_errors=True)

    def __enter__(self) -> LockBoardSimulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- doors --------------------------------------------------------------------------------

    def is_open(self, channel: int, address: int | None = None) -> bool:
        with self._lock:
            board = self._board(address)
            board.settle(time.monotonic())
            return self._door(board, channel).open

    def describe(self, address: int | None = None) -> str:
        """One line per board for the console: each door open/shut, jammed doors marked."""
        with self._lock:
            now = time.monotonic()
            boards = list(self._boards.values()) if address is None else [self._board(address)]
            lines = []
            for board in boards:
                board.settle(now)
                doors = " ".join(
                    f"{ch}:{'open' if d.open else 'shut'}{'(jammed)' if d.jammed else ''}"
                    for ch, d in board.doors.items()
                )
                silent = " [silent]" if board.silent else ""
                lines.append(f"board {board.spec.address}{silent}: {doors}")
            return "\n".join(lines)

    def close_door(self, channel: int, address: int | None = None) -> None:
        with self._lock:
            self._door(self._board(address), channel).open = False

    def force_open(self, channel: int, address: int | None = None) -> None:
        """Someone pulls the door open without an unlock."""
        with self._lock:
            door = self._door(self._board(address), channel)
            door.open, door.opened_at = True, time.monotonic()

    def set_jammed(self, channel: int, jammed: bool = True, address: int | None = None) -> None:
        """A jammed lock: the unlock is answered but the door stays shut."""
        with self._lock:
            self._door(self._board(address), channel).jammed = jammed

    def set_item(self, channel: int, present: bool, address: int | None = None) -> None:
        """The compartment's item-present sensor (reported by cu boards only)."""
        with self._lock:
            self._door(self._board(address), channel).item = present

    # --- faults -------------------------------------------------------------------------------

    def set_silent(self, silent: bool = True, address: int | None = None) -> None:
        """The board hears commands (and fires unlocks) but never answers."""
        with self._lock:
            if address is None:
                for board in self._boards.values():
                    board.silent = silent
            else:
                self._board(address).silent = silent

    def set_answer_delay(self, seconds: float, address: int | None = None) -> None:
        """Answers go out this long after their command (a late answer if past the timeout).

        With `address`, only that board is slow, while its bus-mates answer on time; setting
        the delay without one resets every board to the shared delay.
        """
        with self._lock:
            if address is None:
                self._answer_delay = max(0.0, seconds)
                for board in self._boards.values():
                    board.answer_delay = None
            else:
                self._board(address).answer_delay = max(0.0, seconds)

    def set_unlock_answer(
        self, shape: SimUnlockAnswer, delay_s: float = 0.0, address: int | None = None
    ) -> None:
        """cu: answer unlocks with a status frame, an acknowledgement or nothing, `delay_s` late."""
        if shape not in ("status", "ack", "none"):
            raise ValueError(f"unlock answer must be status, ack or none, not {shape!r}")
        with self._lock:
            boards = self._boards.values() if address is None else [self._board(address)]
            for board in boards:
                board.unlock_answer, board.unlock_delay = shape, max(0.0, delay_s)

    def hold_status_answer(self, address: int | None = None) -> None:
        """The board's next status answer is late: it is held back (the read that asked for
        it times out) and sent just before the board's answer to its next unlock, as a late
        poll answer turns up during the unlock's wait. It holds the doors as they were when
        the read was heard: a stale reading by the time it arrives."""
        with self._lock:
            board = self._board(address)
            board.hold_status, board.held = True, None

    def set_answer_prefix(self, noise: bytes) -> None:
        """Send these bytes just before every answer, until set back to b''."""
        with self._lock:
            self._answer_prefix = bytes(noise)

    def inject_garbage(self, noise: bytes) -> None:
        """Put bytes on the line now, as a noisy cable or a misbehaving device would."""
        with self._lock:
            self._queue(time.monotonic(), bytes(noise))
        self._wake()

    def unplug(self) -> None:
        """The adapter is pulled: the pty closes under the driver and the port path vanishes."""
        self._in_thread(self._unplug)

    def replug(self) -> None:
        """The adapter comes back: a new pty behind the same port path."""
        self._in_thread(self._plug)

    @property
    def plugged(self) -> bool:
        return self._master is not None

    # --- what the board heard -----------------------------------------------------------------

    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def unlocks(self, channel: int | None = None, address: int | None = None) -> int:
        """How many unlock frames arrived (for this channel / board if given)."""
        with self._lock:
            count = 0
            for rx in self._received:
                if rx.fired is None:
                    continue
                board = rx.command.board
                if (channel is None or rx.fired == channel) and (
                    address is None or board == address
                ):
                    count += 1
            return count

    def coil_on(self, channel: int, address: int | None = None) -> bool:
        """modbus: whether the channel's relay coil is switched on now."""
        with self._lock:
            return channel in self._board(address).coils

    def clear_received(self) -> None:
        with self._lock:
            self._received.clear()
            self._noise_received = 0

    @property
    def noise_received(self) -> int:
        """Bytes heard that were not a valid command."""
        with self._lock:
            return self._noise_received

    # --- internals (call with self._lock held where noted) ------------------------------------

    def _board(self, address: int | None) -> _Board:
        if address is None:
            if len(self._boards) != 1:
                raise ValueError(f"give an address: boards {sorted(self._boards)} are simulated")
            return next(iter(self._boards.values()))
        try:
            return self._boards[address]
        except KeyError:
            raise ValueError(f"no simulated board at address {address}") from None

    @staticmethod
    def _door(board: _Board, channel: int) -> _Door:
        try:
            return board.doors[channel]
        except KeyError:
            raise ValueError(
                f"board {board.spec.address} has channels 1..{board.spec.channels}, not {channel}"
            ) from None

    def _queue(self, due: float, data: bytes) -> None:
        """Locked."""
        self._seq += 1
        self._outbox.append(_Outgoing(due, self._seq, data))
        self._outbox.sort()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"!")

    def _in_thread(self, fn: Callable[[], None]) -> None:
        if self._thread is None:
            raise RuntimeError("simulator not started")
        done = threading.Event()
        self._requests.put((fn, done))
        self._wake()
        if not done.wait(timeout=5):
            raise RuntimeError("simulator thread did not respond within 5 s")

    def _plug(self) -> None:
        if self._master is not None:
            return
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo or newline translation before a driver configures the port
        os.set_blocking(master, False)
        tmp = self._link.with_name(f".{self._link.name}.{os.getpid()}.tmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        os.symlink(os.ttyname(slave), tmp)
        os.replace(tmp, self._link)
        self._master, self._slave = master, slave
        with self._lock:
            self._framer.clear()

    def _unplug(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._link.unlink()
        for fd in (self._master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = None
        with self._lock:
            self._outbox.clear()
            self._framer.clear()

    def _run(self) -> None:
        while not self._stopping:
            with self._lock:
                next_due = self._outbox[0].due if self._outbox else None
            timeout = _IDLE_WAKE_S
            if next_due is not None:
                timeout = min(timeout, max(0.0, next_due - time.monotonic()))
            fds = [self._wake_r] if self._master is None else [self._wake_r, self._master]
            readable, _, _ = select.select(fds, [], [], timeout)
            if self._wake_r in readable:
                with contextlib.suppress(BlockingIOError):
                    os.read(self._wake_r, 4096)
            while not self._requests.empty():
                fn, done = self._requests.get()
                try:
                    fn()
                finally:
                    done.set()
            if self._master is not None and self._master in readable:
                self._hear()
            self._send_due()

    def _hear(self) -> None:
        assert self._master is not None
        try:
            data = os.read(self._master, 4096)
        except (BlockingIOError, OSError):
            return
        now = time.monotonic()
        with self._lock:
            for item in self._framer.feed(data):
                if isinstance(item, Noise):
                    self._noise_received += len(item.data)
                    continue
                fired = self._fires(item)
                self._received.append(Received(now, item, fired))
                answer = self._answer(item, now, fired)
                board = self._boards.get(item.board)
                if board is not None and board.held is not None and fired is not None:
                    # The late status answer turns up first, during the unlock's wait.
                    self._queue(now, board.held)
                    board.held = None
                if answer is not None:
                    assert board is not None
                    if board.hold_status and isinstance(
                        item, cu.StatusCommand | dip8.ReadAllCommand
                    ):
                        board.hold_status, board.held = False, self._answer_prefix + answer
                        continue
                    own = board.answer_delay
                    delay = self._answer_delay if own is None else own
                    if isinstance(item, cu.UnlockCommand):
                        delay += board.unlock_delay
                    if self._wire_baud:
                        delay += (5 + len(answer)) * 10 / self._wire_baud
                    self._queue(now + delay, self._answer_prefix + answer)

    def _fires(self, cmd: cu.Command | dip8.Command | modbus.Command) -> int | None:
        """Locked. The channel a command fires, if it is an unlock of a channel this board has."""
        board = self._boards.get(cmd.board)
        if board is None:
            return None
        channel: int | None = None
        if isinstance(cmd, cu.UnlockCommand):
            channel = cmd.lock
        elif isinstance(cmd, dip8.UnlockCommand):
            channel = cmd.channel
        elif isinstance(cmd, modbus.WriteSingle):
            spec = board.spec
            coil = cmd.address - spec.coil_base + 1
            flash = cmd.address - spec.flash_base + 1
            if cmd.function == modbus.FC_WRITE_COIL and cmd.value == modbus.COIL_ON:
                channel = coil if coil not in board.coils else None  # already on: no new pulse
            elif cmd.value not in (modbus.COIL_ON, modbus.COIL_OFF) or (
                cmd.function == modbus.FC_WRITE_REGISTER and cmd.value
            ):
                channel = flash
        return channel if channel is not None and channel in board.doors else None

    def _modbus_answer(
        self, board: _Board, cmd: modbus.Command, fired: int | None
    ) -> modbus.Answer | None:
        """Locked. A Modbus slave's answer: the echo of a write, the inputs, or a refusal."""
        spec = board.spec
        if isinstance(cmd, modbus.WriteSingle):
            coil = cmd.address - spec.coil_base + 1
            if fired is None and not (
                cmd.function == modbus.FC_WRITE_COIL
                and cmd.value in (modbus.COIL_ON, modbus.COIL_OFF)
                and coil in board.doors
            ):
                return modbus.Refused(cmd.board, cmd.function, 2)
            if cmd.function == modbus.FC_WRITE_COIL and cmd.value == modbus.COIL_ON:
                board.coils.add(coil)
            elif cmd.function == modbus.FC_WRITE_COIL and cmd.value == modbus.COIL_OFF:
                board.coils.discard(coil)
            return cmd
        if isinstance(cmd, modbus.WriteCoils):
            first = cmd.address - spec.coil_base + 1
            for index, on in enumerate(cmd.bits):
                (board.coils.add if on else board.coils.discard)(first + index)
            return modbus.WriteCoilsAnswer(cmd.board, cmd.address, len(cmd.bits))
        first = cmd.address - spec.input_base + 1
        if first < 1 or first + cmd.count - 1 > spec.channels:
            return modbus.Refused(cmd.board, 2 if cmd.kind == "discrete" else 4, 2)
        values = tuple(int(board.bit(ch)) for ch in range(first, first + cmd.count))
        return modbus.InputsAnswer(cmd.board, cmd.kind, values)

    def _answer(
        self, cmd: cu.Command | dip8.Command | modbus.Command, now: float, fired: int | None
    ) -> bytes | None:
        """Locked. The board's reaction to one command: its answer, or None for silence."""
        board = self._boards.get(cmd.board)
        if board is None:
            return None  # another address on the bus: not ours
        board.settle(now)
        if fired is not None:
            door = board.doors[fired]
            if not door.jammed and not door.open:
                door.open, door.opened_at = True, now
        if isinstance(cmd, modbus.WriteSingle | modbus.WriteCoils | modbus.ReadInputs):
            answer = self._modbus_answer(board, cmd, fired)  # a silent board still switches
            return None if answer is None or board.silent else modbus.encode_answer(answer)
        if isinstance(cmd, cu.UnlockCommand | dip8.UnlockCommand):
            channel = cmd.lock if isinstance(cmd, cu.UnlockCommand) else cmd.channel
            if board.doors.get(channel) is None:
                return None
            if board.silent:
                return None
            if isinstance(cmd, cu.UnlockCommand):
                if board.unlock_answer == "none":
                    return None
                if board.unlock_answer == "status":
                    bits = [board.bit(ch) for ch in sorted(board.doors)]
                    items = [board.doors[ch].item for ch in sorted(board.doors)]
                    return cu.encode_status_answer(cmd.board, bits, items, lock=channel)
                return cu.encode_unlock_answer(cmd.board, channel, board.bit(channel))
            return dip8.encode_unlock_answer(cmd.board, channel, board.bit(channel))
        if board.silent:
            return None
        bits = [board.bit(ch) for ch in sorted(board.doors)]
        if isinstance(cmd, cu.StatusCommand):
            items = [board.doors[ch].item for ch in sorted(board.doors)]
            return cu.encode_status_answer(cmd.board, bits, items)
        return dip8.encode_status_answer(cmd.board, bits, dip8.groups_for(board.spec.channels))

    def _send_due(self) -> None:
        now = time.monotonic()
        with self._lock:
            due = [out for out in self._outbox if out.due <= now]
            self._outbox = [out for out in self._outbox if out.due > now]
        if self._master is None:
            return
        for out in due:
            try:
                os.write(self._master, out.data)
            except OSError as exc:  # buffer full with nobody reading: the bytes are lost
                log.debug("simulator dropped %d bytes: %s", len(out.data), exc)


@dataclass(frozen=True, slots=True)
class SimBoardRequest:
    """One simulated board a caller wants served: its id, protocol, spec and optional port."""

    id: str
    protocol: SimProtocol
    board: SimBoardSpec
    port: str | None = None
    """Where the simulator's symlink goes; None = a fresh temporary directory."""


def start_sim_board(
    request: SimBoardRequest, wire_baud: int | None = None
) -> tuple[LockBoardSimulator, str]:
    """Start a simulator for one board; return it and its serial port path.

    With `port` set, the simulator's symlink is created there (so tools can find it); otherwise
    in a fresh temporary directory. Stop it with `simulator.stop()`.
    """
    sims, paths = start_sim_boards([request], wire_baud)
    return sims[0], paths[request.id]


def start_sim_boards(
    requests: Sequence[SimBoardRequest], wire_baud: int | None = None
) -> tuple[list[LockBoardSimulator], dict[str, str]]:
    """Start simulators: one per `port`, serving every board requested on it.

    Boards without a `port` get a simulator and pty each. Returns the simulators (stop each
    with `stop()`) and every board's serial port path by board id.
    """
    groups: dict[str, list[SimBoardRequest]] = {}
    for request in requests:
        groups.setdefault(request.port or f"own port of {request.id}", []).append(request)
    for port, group in groups.items():
        protocols = {r.protocol for r in group}
        if len(protocols) > 1:
            ids = ", ".join(r.id for r in group)
            raise ValueError(
                f"sim boards {ids} share {port} but not a protocol: one bus speaks one protocol"
            )
    sims: list[LockBoardSimulator] = []
    paths: dict[str, str] = {}
    try:
        for group in groups.values():
            sim = LockBoardSimulator(
                group[0].protocol,
                [r.board for r in group],
                link_path=group[0].port,
                wire_baud=wire_baud,
            )
            path = sim.start()
            sims.append(sim)
            paths.update({r.id: path for r in group})
    except BaseException:
        for sim in sims:
            sim.stop()
        raise
    return sims, paths
