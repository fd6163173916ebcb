"""Protocol "dip8" (generic 8/16/24-channel board, DIP-switch address): pure frame functions.

BCC is the XOR of all earlier bytes. Channels are 1-based.

Commands (station -> board), 5 bytes:
- unlock:   `8A BOARD CH 11 BCC`
- read all: `80 BOARD 00 33 BCC`

Answers (board -> station):
- unlock:   `8A BOARD CH STATUS BCC`, STATUS 00 (feedback clear) or 11 (set); any non-zero
  value is read as set.
- read all: `80 BOARD S.. 33 BCC`, one status byte per 8 channels, the highest channel group
  first, bit 0 = lowest channel of its group. The number of status bytes is not on the wire, so
  the reader must know the board's channel count (`groups = ceil(channels / 8)`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from drivers.lockboard.codec import FrameError, Noise, check_byte, pack_bits, scan, unpack_bits

HEAD_UNLOCK = 0x8A
HEAD_READ = 0x80
MARK_UNLOCK = 0x11
MARK_READ = 0x33
STATUS_SET = 0x11
MAX_BOARD = 255
MAX_CHANNEL = 255
MAX_GROUPS = 32
COMMAND_LENGTH = 5
UNLOCK_ANSWER_LENGTH = 5


@dataclass(frozen=True, slots=True)
class UnlockCommand:
    board: int
    channel: int


@dataclass(frozen=True, slots=True)
class ReadAllCommand:
    board: int


@dataclass(frozen=True, slots=True)
class UnlockAnswer:
    board: int
    channel: int
    feedback_set: bool


@dataclass(frozen=True, slots=True)
class ReadAllAnswer:
    board: int
    channels: tuple[bool, ...]
    """Raw feedback bit of channels 1..8*groups (index 0 = channel 1)."""


Command = UnlockCommand | ReadAllCommand
Answer = UnlockAnswer | ReadAllAnswer


def bcc(data: bytes) -> int:
    out = 0
    for byte in data:
        out ^= byte
    return out


def _frame(*body: int) -> bytes:
    head = bytes(body)
    return head + bytes([bcc(head)])


def _board(board: int) -> int:
    if not 0 <= board <= MAX_BOARD:
        raise ValueError(f"dip8 board number {board} is outside 0..{MAX_BOARD}")
    return board


def _channel(channel: int) -> int:
    if not 1 <= channel <= MAX_CHANNEL:
        raise ValueError(f"dip8 channel {channel} is outside 1..{MAX_CHANNEL}")
    return channel


def groups_for(channels: int) -> int:
    """Status bytes in a read-all answer of a board with this many channels."""
    if channels < 1:
        raise ValueError(f"a board has at least one channel, not {channels}")
    return (channels + 7) // 8


def encode_unlock(board: int, channel: int) -> bytes:
    return _frame(HEAD_UNLOCK, _board(board), _channel(channel), MARK_UNLOCK)


def encode_status(board: int) -> bytes:
    """The read-all command."""
    return _frame(HEAD_READ, _board(board), 0x00, MARK_READ)


def encode_unlock_answer(board: int, channel: int, feedback_set: bool) -> bytes:
    status = STATUS_SET if feedback_set else 0x00
    return _frame(HEAD_UNLOCK, _board(board), _channel(channel), status)


def encode_status_answer(board: int, bits: Sequence[bool], groups: int) -> bytes:
    """Read-all answer; `bits[0]` is channel 1. Channels beyond `bits` read clear."""
    if not 1 <= groups <= MAX_GROUPS:
        raise ValueError(f"dip8 read-all answer needs 1..{MAX_GROUPS} status bytes, not {groups}")
    lowest_first = pack_bits(bits, groups)
    return _frame(HEAD_READ, _board(board), *reversed(lowest_first), MARK_READ)


def encode_answer(answer: Answer) -> bytes:
    if isinstance(answer, UnlockAnswer):
        return encode_unlock_answer(answer.board, answer.channel, answer.feedback_set)
    return encode_status_answer(answer.board, answer.channels, len(answer.channels) // 8)


def _check_envelope(frame: bytes, length: int, what: str) -> None:
    if len(frame) != length:
        raise FrameError(f"{what}: {len(frame)} bytes, expected {length}")
    expected = bcc(frame[:-1])
    if frame[-1] != expected:
        raise FrameError(
            f"{what}: BCC 0x{frame[-1]:02X}, expected 0x{expected:02X} (XOR of earlier bytes)"
        )


def decode_command(frame: bytes) -> Command:
    """A station->board frame, as the board (the simulator) reads it."""
    _check_envelope(frame, COMMAND_LENGTH, "dip8 command")
    if frame[0] == HEAD_UNLOCK:
        check_byte(frame, 3, MARK_UNLOCK, "dip8 unlock command")
        return UnlockCommand(frame[1], frame[2])
    if frame[0] == HEAD_READ:
        check_byte(frame, 2, 0x00, "dip8 read-all command")
        check_byte(frame, 3, MARK_READ, "dip8 read-all command")
        return ReadAllCommand(frame[1])
    raise FrameError(f"dip8 command: first byte 0x{frame[0]:02X}, expected 0x8A or 0x80")


def decode_answer(frame: bytes, groups: int) -> Answer:
    """A board->station frame; `groups` is the board's status byte count (see groups_for)."""
    if not frame:
        raise FrameError("dip8 answer: no bytes")
    if frame[0] == HEAD_UNLOCK:
        _check_envelope(frame, UNLOCK_ANSWER_LENGTH, "dip8 unlock answer")
        return UnlockAnswer(frame[1], frame[2], frame[3] != 0)
    if frame[0] == HEAD_READ:
        _check_envelope(frame, 4 + groups, "dip8 read-all answer")
        check_byte(frame, len(frame) - 2, MARK_READ, "dip8 read-all answer")
        bits = unpack_bits(bytes(reversed(frame[2:-2])))
        return ReadAllAnswer(frame[1], bits)
    raise FrameError(f"dip8 answer: first byte 0x{frame[0]:02X}, expected 0x8A or 0x80")


def _measure_command(buf: bytes) -> int | None:
    return COMMAND_LENGTH


def _measure_answer(buf: bytes, groups: int) -> int | None:
    return UNLOCK_ANSWER_LENGTH if buf[0] == HEAD_UNLOCK else 4 + groups


_START = frozenset({HEAD_UNLOCK, HEAD_READ})


def scan_commands(buf: bytes) -> tuple[list[Command | Noise], bytes]:
    return scan(buf, _START, _measure_command, decode_command)


def scan_answers(buf: bytes, groups: int) -> tuple[list[Answer | Noise], bytes]:
    if not 1 <= groups <= MAX_GROUPS:
        raise ValueError(f"dip8 boards have 1..{MAX_GROUPS} status bytes, not {groups}")
    return scan(
        buf, _START, partial(_measure_answer, groups=groups), partial(decode_answer, groups=groups)
    )
