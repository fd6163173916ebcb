"""Protocol "cu" (Kerong KR-CU16 style): frames as pure functions, bytes in and messages out.

Every frame is `02 ADDR CMD [DATA..] 03 SUM`, SUM = sum of all earlier bytes & 0xFF. ADDR holds
the board number in its high nibble and (lock - 1) in its low nibble.

Commands (station -> board), 5 bytes:
- unlock one lock: `02 ADDR 31 03 SUM`
- read status:     `02 B0 30 03 SUM` (low nibble 0)

Answers (board -> station):
- status, 9 bytes: `02 ADDR 35 D1 D2 D3 D4 03 SUM`; D1 = locks 1..8, D2 = locks 9..16 (bit 0 =
  lowest lock) for the lock feedback, D3/D4 the same for the "item present" sensors.
- unlock, any of three shapes depending on the board and firmware (docs/lockboards.md): the
  9-byte status frame above (ADDR echoing the unlock's), a 6-byte acknowledgement
  `02 ADDR 31 STATUS 03 SUM` (STATUS the lock's feedback bit after the pulse; any non-zero
  value reads as set), or nothing at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from drivers.lockboard.codec import FrameError, Noise, check_byte, pack_bits, scan, unpack_bits

STX = 0x02
ETX = 0x03
CMD_STATUS = 0x30
CMD_UNLOCK = 0x31
CMD_STATUS_ANSWER = 0x35
MAX_BOARD = 15
MAX_LOCKS = 16
COMMAND_LENGTH = 5
UNLOCK_ANSWER_LENGTH = 6
STATUS_ANSWER_LENGTH = 9


@dataclass(frozen=True, slots=True)
class UnlockCommand:
    board: int
    lock: int


@dataclass(frozen=True, slots=True)
class StatusCommand:
    board: int


@dataclass(frozen=True, slots=True)
class UnlockAnswer:
    board: int
    lock: int
    feedback_set: bool
    """The lock's raw feedback bit after the pulse (its meaning depends on the wiring)."""


@dataclass(frozen=True, slots=True)
class StatusAnswer:
    board: int
    locks: tuple[bool, ...]
    """Raw feedback bit of locks 1..16 (index 0 = lock 1)."""
    items: tuple[bool, ...]
    """Item-present bit of compartments 1..16; boards without the sensors send all clear."""


Command = UnlockCommand | StatusCommand
Answer = UnlockAnswer | StatusAnswer


def checksum(data: bytes) -> int:
    return sum(data) & 0xFF


def _frame(*body: int) -> bytes:
    head = bytes([STX, *body, ETX])
    return head + bytes([checksum(head)])


def _address(board: int, lock: int) -> int:
    if not 0 <= board <= MAX_BOARD:
        raise ValueError(f"cu board number {board} is outside 0..{MAX_BOARD}")
    if not 1 <= lock <= MAX_LOCKS:
        raise ValueError(f"cu lock number {lock} is outside 1..{MAX_LOCKS}")
    return board << 4 | (lock - 1)


def encode_unlock(board: int, lock: int) -> bytes:
    return _frame(_address(board, lock), CMD_UNLOCK)


def encode_status(board: int) -> bytes:
    return _frame(_address(board, 1), CMD_STATUS)


def encode_unlock_answer(board: int, lock: int, feedback_set: bool) -> bytes:
    return _frame(_address(board, lock), CMD_UNLOCK, 1 if feedback_set else 0)


def encode_status_answer(
    board: int, locks: Sequence[bool], items: Sequence[bool] = (), lock: int = 1
) -> bytes:
    """Status answer for up to 16 locks; locks and items beyond the given ones read clear.

    `lock` fills the address's low nibble: 1 for a status read, the unlocked lock where a
    board answers an unlock with its status (KR-CU16 field firmware echoes the address).
    """
    lock_bytes = pack_bits(locks, 2)
    item_bytes = pack_bits(items, 2)
    return _frame(_address(board, lock), CMD_STATUS_ANSWER, *lock_bytes, *item_bytes)


def encode_answer(answer: Answer) -> bytes:
    if isinstance(answer, UnlockAnswer):
        return encode_unlock_answer(answer.board, answer.lock, answer.feedback_set)
    return encode_status_answer(answer.board, answer.locks, answer.items)


def _check_envelope(frame: bytes, length: int, what: str) -> None:
    if len(frame) != length:
        raise FrameError(f"{what}: {len(frame)} bytes, expected {length}")
    check_byte(frame, 0, STX, what)
    check_byte(frame, length - 2, ETX, what)
    expected = checksum(frame[:-1])
    if frame[-1] != expected:
        raise FrameError(
            f"{what}: checksum 0x{frame[-1]:02X}, expected 0x{expected:02X} (sum of earlier bytes)"
        )


def decode_command(frame: bytes) -> Command:
    """A station->board frame, as the board (the simulator) reads it."""
    _check_envelope(frame, COMMAND_LENGTH, "cu command")
    address, cmd = frame[1], frame[2]
    board, lock = address >> 4, (address & 0x0F) + 1
    if cmd == CMD_UNLOCK:
        return UnlockCommand(board, lock)
    if cmd == CMD_STATUS:
        return StatusCommand(board)
    raise FrameError(f"cu command: unknown command byte 0x{cmd:02X} (expected 0x30 or 0x31)")


def decode_answer(frame: bytes) -> Answer:
    """A board->station frame."""
    if len(frame) < 3:
        raise FrameError(f"cu answer: {len(frame)} bytes is too short for any answer")
    cmd = frame[2]
    if cmd == CMD_UNLOCK:
        _check_envelope(frame, UNLOCK_ANSWER_LENGTH, "cu unlock answer")
        address = frame[1]
        return UnlockAnswer(address >> 4, (address & 0x0F) + 1, frame[3] != 0)
    if cmd == CMD_STATUS_ANSWER:
        _check_envelope(frame, STATUS_ANSWER_LENGTH, "cu status answer")
        bits = unpack_bits(frame[3:7])
        return StatusAnswer(frame[1] >> 4, bits[:MAX_LOCKS], bits[MAX_LOCKS:])
    raise FrameError(f"cu answer: unknown command byte 0x{cmd:02X} (expected 0x31 or 0x35)")


def _measure_command(buf: bytes) -> int | None:
    return COMMAND_LENGTH


def _measure_answer(buf: bytes) -> int | None:
    if len(buf) < 3:
        return None
    if buf[2] == CMD_UNLOCK:
        return UNLOCK_ANSWER_LENGTH
    if buf[2] == CMD_STATUS_ANSWER:
        return STATUS_ANSWER_LENGTH
    raise FrameError(f"cu answer: unknown command byte 0x{buf[2]:02X} (expected 0x31 or 0x35)")


_START = frozenset({STX})


def scan_commands(buf: bytes) -> tuple[list[Command | Noise], bytes]:
    return scan(buf, _START, _measure_command, decode_command)


def scan_answers(buf: bytes) -> tuple[list[Answer | Noise], bytes]:
    return scan(buf, _START, _measure_answer, decode_answer)
