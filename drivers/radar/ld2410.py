"""HLK-LD2410 wire format: report frames from the radar, command and ACK frames to and from it.

Pure functions and a byte-stream framer, no I/O. The radar streams a report about every 50 ms
from the moment it has power, so a reader always joins mid-frame; the framer finds frames by
their header, checks length and footer, and resynchronises one byte past a bad header so a
real frame hiding behind noise is never lost. Nothing here raises on bad input: decoders return
a FrameError value that says what was wrong.

Report frame: F4 F3 F2 F1, data length (LE 16), data, F8 F7 F6 F5. Data is: type (02 basic,
01 engineering), AA, target block, [engineering block], 55, 00.
Command frame (to the radar) and ACK (from it): FD FC FB FA, length (LE 16), command word
(LE 16), value, 04 03 02 01. An ACK's word is the command's word with bit 8 set, followed by a
status word (0 = success) and the command's return value.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum

REPORT_HEADER = bytes.fromhex("F4F3F2F1")
REPORT_FOOTER = bytes.fromhex("F8F7F6F5")
COMMAND_HEADER = bytes.fromhex("FDFCFBFA")
COMMAND_FOOTER = bytes.fromhex("04030201")

TYPE_ENGINEERING = 0x01
TYPE_BASIC = 0x02
_HEAD = 0xAA
_TAIL = 0x55
_CHECK = 0x00

MAX_DATA_LEN = 64
"""Longest data part accepted (an 8-gate engineering report has 35 bytes; ACKs are shorter).
A longer 'length' after a header means the header was noise."""

CMD_ENABLE_CONFIG = 0x00FF
CMD_END_CONFIG = 0x00FE
CMD_ENABLE_ENGINEERING = 0x0062
CMD_DISABLE_ENGINEERING = 0x0063
CMD_READ_PARAMETERS = 0x0061
CMD_READ_FIRMWARE = 0x00A0
CMD_RESTART = 0x00A3
ACK_BIT = 0x0100

_TARGET_BLOCK = struct.Struct("<BHBHBH")  # state, moving cm, energy, still cm, energy, detect cm


class TargetState(IntEnum):
    NONE = 0
    MOVING = 1
    STILL = 2
    MOVING_AND_STILL = 3

    @property
    def moving(self) -> bool:
        return self in (TargetState.MOVING, TargetState.MOVING_AND_STILL)

    @property
    def still(self) -> bool:
        return self in (TargetState.STILL, TargetState.MOVING_AND_STILL)


@dataclass(frozen=True, slots=True)
class GateEnergies:
    """Engineering mode: the energy the radar measured in each 0.75 m distance gate."""

    moving: tuple[int, ...]
    """Moving-target energy for gates 0..N (N = the configured max moving gate)."""
    still: tuple[int, ...]
    """Still-target energy for gates 0..N (N = the configured max still gate)."""
    extra: bytes = b""
    """Bytes the firmware appends after the gates (light sensor and OUT pin on LD2410B/C)."""


@dataclass(frozen=True, slots=True)
class RadarReport:
    target: TargetState
    moving_cm: int
    moving_energy: int
    still_cm: int
    still_energy: int
    detection_cm: int
    gates: GateEnergies | None = None
    """Present in engineering-mode reports only."""

    @property
    def present(self) -> bool:
        return self.target is not TargetState.NONE


@dataclass(frozen=True, slots=True)
class RadarAck:
    """The radar's answer to a command."""

    command: int
    status: int
    value: bytes = b""

    @property
    def ok(self) -> bool:
        return self.status == 0


@dataclass(frozen=True, slots=True)
class RadarCommand:
    """A command frame as the radar receives it (the simulator decodes these)."""

    command: int
    value: bytes = b""


@dataclass(frozen=True, slots=True)
class FrameError:
    """Bytes that were not a frame, and why; `skipped` bytes were dropped from the stream."""

    reason: str
    skipped: bytes = field(default=b"", repr=False)


Frame = RadarReport | RadarAck | RadarCommand
Decoded = Frame | FrameError


# --- encoding ----------------------------------------------------------------------------------


def encode_command(command: int, value: bytes = b"") -> bytes:
    """A command frame: the radar accepts most commands only between enable and end config."""
    if not 0 <= command <= 0xFFFF:
        raise ValueError(f"command word must be 0..0xFFFF, got {command:#x}")
    data = struct.pack("<H", command) + value
    return COMMAND_HEADER + struct.pack("<H", len(data)) + data + COMMAND_FOOTER


def enable_config() -> bytes:
    """Enter configuration mode (command 0x00FF, value 0x0001)."""
    return encode_command(CMD_ENABLE_CONFIG, b"\x01\x00")


def end_config() -> bytes:
    """Leave configuration mode (0x00FE): the radar resumes reporting."""
    return encode_command(CMD_END_CONFIG)


def enable_engineering() -> bytes:
    return encode_command(CMD_ENABLE_ENGINEERING)


def disable_engineering() -> bytes:
    return encode_command(CMD_DISABLE_ENGINEERING)


def read_firmware() -> bytes:
    return encode_command(CMD_READ_FIRMWARE)


def encode_ack(command: int, status: int = 0, value: bytes = b"") -> bytes:
    """An ACK frame as the radar sends it (used by the simulator)."""
    data = struct.pack("<HH", (command | ACK_BIT) & 0xFFFF, status) + value
    return COMMAND_HEADER + struct.pack("<H", len(data)) + data + COMMAND_FOOTER


def encode_report(report: RadarReport) -> bytes:
    """A report frame as the radar sends it (used by the simulator and the tests)."""
    block = _TARGET_BLOCK.pack(
        int(report.target),
        report.moving_cm,
        report.moving_energy,
        report.still_cm,
        report.still_energy,
        report.detection_cm,
    )
    if report.gates is None:
        data = bytes([TYPE_BASIC, _HEAD]) + block
    else:
        g = report.gates
        if not g.moving or not g.still:
            raise ValueError("an engineering report needs at least gate 0 for moving and still")
        data = (
            bytes([TYPE_ENGINEERING, _HEAD])
            + block
            + bytes([len(g.moving) - 1, len(g.still) - 1])
            + bytes(g.moving)
            + bytes(g.still)
            + g.extra
        )
    data += bytes([_TAIL, _CHECK])
    return REPORT_HEADER + struct.pack("<H", len(data)) + data + REPORT_FOOTER


# --- decoding ----------------------------------------------------------------------------------


def decode_frame(frame: bytes) -> Decoded:
    """Decode one complete frame (header to footer); never raises."""
    if len(frame) < 10:
        return FrameError(f"frame too short ({len(frame)} bytes)", frame)
    header, footer = frame[:4], frame[-4:]
    (length,) = struct.unpack_from("<H", frame, 4)
    if len(frame) != length + 10:
        return FrameError(
            f"length field says {length} data bytes but the frame has {len(frame) - 10}", frame
        )
    data = frame[6:-4]
    if header == REPORT_HEADER:
        if footer != REPORT_FOOTER:
            return FrameError(f"report footer is {footer.hex(' ')}, expected f8 f7 f6 f5", frame)
        return _decode_report(data, frame)
    if header == COMMAND_HEADER:
        if footer != COMMAND_FOOTER:
            return FrameError(f"command footer is {footer.hex(' ')}, expected 04 03 02 01", frame)
        return _decode_command(data, frame)
    return FrameError(f"unknown frame header {header.hex(' ')}", frame)


def _decode_report(data: bytes, frame: bytes) -> RadarReport | FrameError:
    if len(data) < 2 + _TARGET_BLOCK.size + 2:
        return FrameError(f"report data too short ({len(data)} bytes)", frame)
    kind, head = data[0], data[1]
    if head != _HEAD:
        return FrameError(f"report head byte is {head:#04x}, expected 0xaa", frame)
    if data[-2] != _TAIL or data[-1] != _CHECK:
        return FrameError(f"report tail is {data[-2:].hex(' ')}, expected 55 00", frame)
    state, m_cm, m_en, s_cm, s_en, d_cm = _TARGET_BLOCK.unpack_from(data, 2)
    if state > TargetState.MOVING_AND_STILL:
        return FrameError(f"unknown target state {state}", frame)
    rest = data[2 + _TARGET_BLOCK.size : -2]
    gates: GateEnergies | None = None
    if kind == TYPE_BASIC:
        if rest:
            return FrameError(f"basic report has {len(rest)} unexpected bytes", frame)
    elif kind == TYPE_ENGINEERING:
        if len(rest) < 2:
            return FrameError("engineering report lacks its gate counts", frame)
        n_moving, n_still = rest[0] + 1, rest[1] + 1
        if len(rest) < 2 + n_moving + n_still:
            return FrameError(
                f"engineering report announces {n_moving}+{n_still} gates but carries "
                f"{len(rest) - 2} bytes",
                frame,
            )
        moving = tuple(rest[2 : 2 + n_moving])
        still = tuple(rest[2 + n_moving : 2 + n_moving + n_still])
        gates = GateEnergies(moving, still, bytes(rest[2 + n_moving + n_still :]))
    else:
        return FrameError(f"unknown report type {kind:#04x}", frame)
    return RadarReport(TargetState(state), m_cm, m_en, s_cm, s_en, d_cm, gates)


def _decode_command(data: bytes, frame: bytes) -> RadarAck | RadarCommand | FrameError:
    if len(data) < 2:
        return FrameError("command frame without a command word", frame)
    (word,) = struct.unpack_from("<H", data, 0)
    if word & ACK_BIT:
        if len(data) < 4:
            return FrameError(f"ACK for {word & ~ACK_BIT:#06x} lacks its status", frame)
        (status,) = struct.unpack_from("<H", data, 2)
        return RadarAck(word & ~ACK_BIT, status, bytes(data[4:]))
    return RadarCommand(word, bytes(data[2:]))


class Ld2410Framer:
    """Finds frames in a byte stream that may start mid-frame and carry noise.

    `feed()` returns what the new bytes completed, in stream order: frames and FrameErrors for
    skipped bytes. The buffer never holds more than one maximal frame.
    """

    _HEADERS = (REPORT_HEADER, COMMAND_HEADER)
    _MAX_FRAME = MAX_DATA_LEN + 10

    def __init__(self) -> None:
        self._buf = bytearray()

    @property
    def pending(self) -> int:
        """Bytes held while waiting for the rest of a frame."""
        return len(self._buf)

    def reset(self) -> None:
        """Forget a partial frame (after a reconnect, old bytes belong to nothing)."""
        self._buf.clear()

    def feed(self, data: bytes) -> list[Decoded]:
        self._buf += data
        out: list[Decoded] = []
        while True:
            start = self._find_header()
            if start < 0:
                # Keep a tail that may be the start of a header split across reads.
                keep = self._partial_header_tail()
                drop = len(self._buf) - keep
                if drop:
                    out.append(FrameError("bytes outside any frame", bytes(self._buf[:drop])))
                    del self._buf[:drop]
                return out
            if start:
                out.append(FrameError("bytes outside any frame", bytes(self._buf[:start])))
                del self._buf[:start]
            if len(self._buf) < 6:
                return out
            (length,) = struct.unpack_from("<H", self._buf, 4)
            if length > MAX_DATA_LEN:
                out.append(
                    FrameError(f"implausible length {length} after a header", bytes(self._buf[:1]))
                )
                del self._buf[:1]
                continue
            total = length + 10
            if len(self._buf) < total:
                return out
            decoded = decode_frame(bytes(self._buf[:total]))
            if isinstance(decoded, FrameError):
                # The header may have been noise: resume one byte on, so a real frame that
                # starts inside these bytes is still found.
                out.append(FrameError(decoded.reason, bytes(self._buf[:1])))
                del self._buf[:1]
                continue
            out.append(decoded)
            del self._buf[:total]

    def _find_header(self) -> int:
        found = [i for i in (self._buf.find(h) for h in self._HEADERS) if i >= 0]
        return min(found) if found else -1

    def _partial_header_tail(self) -> int:
        for keep in (3, 2, 1):
            tail = bytes(self._buf[-keep:]) if len(self._buf) >= keep else b""
            if tail and any(h.startswith(tail) for h in self._HEADERS):
                return keep
        return 0
