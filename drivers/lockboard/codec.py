"""What the lock-board byte protocols share: the error type, bit packing and stream framing.

The "cu" and "dip8" modules describe only their own frames (start byte, length, check); the
search for frames in a noisy byte stream lives here once, so both protocols resynchronise by the
same rules: a candidate that fails its check costs exactly one byte, never a whole frame, so a
real frame hiding behind a false start byte is still found.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


class FrameError(Exception):
    """Bytes that are not a valid frame; the message says which byte and what was expected.

    The only exception a decoder raises: the bus treats it as noise on the line.
    """


@dataclass(frozen=True, slots=True)
class Noise:
    """Bytes skipped while looking for frames, with the reason the first of them was rejected."""

    data: bytes
    reason: str


MeasureFn = Callable[[bytes], int | None]
"""Given bytes starting at a start byte, the frame's full length, or None if more are needed.

Raises FrameError when the bytes seen so far already rule out a frame.
"""


def scan(
    buf: bytes, start: frozenset[int], measure: MeasureFn, decode: Callable[[bytes], T]
) -> tuple[list[T | Noise], bytes]:
    """Split a byte stream into decoded frames and noise; return them and the unfinished tail.

    Pure: the same bytes always give the same answer, so a caller may feed the tail back with
    the next bytes it reads. The tail is never longer than the longest frame.
    """
    out: list[T | Noise] = []
    noise = bytearray()
    reason = ""

    def skip(data: bytes, why: str) -> None:
        nonlocal reason
        if not noise:
            reason = why
        noise.extend(data)

    def flush_noise() -> None:
        if noise:
            out.append(Noise(bytes(noise), reason))
            noise.clear()

    i = 0
    while i < len(buf):
        if buf[i] not in start:
            j = i
            while j < len(buf) and buf[j] not in start:
                j += 1
            skip(buf[i:j], f"0x{buf[i]:02X} where a frame should start")
            i = j
            continue
        try:
            length = measure(buf[i:])
        except FrameError as exc:
            skip(buf[i : i + 1], str(exc))
            i += 1
            continue
        if length is None or i + length > len(buf):
            break
        try:
            frame = decode(buf[i : i + length])
        except FrameError as exc:
            skip(buf[i : i + 1], str(exc))
            i += 1
            continue
        flush_noise()
        out.append(frame)
        i += length
    flush_noise()
    return out, bytes(buf[i:])


class Framer(Generic[T]):
    """Stateful convenience over a pure scan function: feed it reads, get frames and noise."""

    def __init__(self, scan_fn: Callable[[bytes], tuple[list[T | Noise], bytes]]) -> None:
        self._scan = scan_fn
        self._buf = b""

    def feed(self, data: bytes) -> list[T | Noise]:
        items, self._buf = self._scan(self._buf + data)
        return items

    @property
    def pending(self) -> bytes:
        """Bytes of a frame begun but not finished."""
        return self._buf

    def clear(self) -> None:
        self._buf = b""


def check_byte(frame: bytes, index: int, expected: int, what: str) -> None:
    if frame[index] != expected:
        raise FrameError(f"{what}: byte {index} is 0x{frame[index]:02X}, expected 0x{expected:02X}")


def unpack_bits(groups: bytes) -> tuple[bool, ...]:
    """Bytes lowest channel first, bit 0 lowest channel -> one bool per channel from 1."""
    return tuple(bool(byte >> bit & 1) for byte in groups for bit in range(8))


def pack_bits(bits: Sequence[bool], n_groups: int) -> bytes:
    """The inverse of unpack_bits; channels beyond `bits` read as 0, extra bits are refused."""
    if len(bits) > 8 * n_groups:
        raise ValueError(f"{len(bits)} channels do not fit in {n_groups} status byte(s)")
    out = bytearray(n_groups)
    for index, bit in enumerate(bits):
        if bit:
            out[index // 8] |= 1 << (index % 8)
    return bytes(out)
