"""Protocol "modbus" (Modbus RTU relay and I/O boards): frames as pure functions on pymodbus.

pymodbus does the Modbus part (PDU encoding and decoding, the CRC-16 and the RTU framing);
this module only says which requests a lock board needs and turns pymodbus's PDUs into the
small typed messages the driver and the simulator share. The search for frames in a noisy
byte stream is the one every protocol uses (codec.scan): a candidate that fails its CRC costs
one byte, so a real frame behind garbage is still found (pymodbus's own hunting drops the
whole buffer, which on a shared line would lose the answer behind the noise).

What a lock board needs:
- unlock by relay pulse: write single coil (0x05) `FF 00` on, then `00 00` off; or the board's
  own pulse ("flash") function, a pulse length in 100 ms units written with 0x05 or 0x06 to
  its own address (e.g. 0x0200 + channel), so a crash can never leave a coil energised;
- all coils off at start: write multiple coils (0x0F);
- door feedback: read discrete inputs (0x02) or input registers (0x04).
Every write is answered by its echo; a refused request by an exception response.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU, ExceptionResponse, ModbusPDU
from pymodbus.pdu.bit_message import (
    ReadDiscreteInputsRequest,
    ReadDiscreteInputsResponse,
    WriteMultipleCoilsRequest,
    WriteMultipleCoilsResponse,
    WriteSingleCoilResponse,
)
from pymodbus.pdu.register_message import (
    ReadInputRegistersRequest,
    ReadInputRegistersResponse,
    WriteSingleRegisterRequest,
    WriteSingleRegisterResponse,
)

from drivers.lockboard.codec import FrameError, Noise, scan

MIN_ADDRESS, MAX_ADDRESS = 1, 247
COIL_ON, COIL_OFF = 0xFF00, 0x0000
FC_WRITE_COIL, FC_WRITE_REGISTER, FC_WRITE_COILS = 0x05, 0x06, 0x0F
FC_READ_DISCRETE, FC_READ_INPUT_REGISTERS = 0x02, 0x04
InputKind = Literal["discrete", "input_register"]


@dataclass(frozen=True, slots=True)
class WriteSingle:
    """0x05 write single coil or 0x06 write single register (a request, or its echo)."""

    board: int
    function: int
    address: int
    value: int


@dataclass(frozen=True, slots=True)
class WriteCoils:
    """0x0F write multiple coils; the answer carries only address and count."""

    board: int
    address: int
    bits: tuple[bool, ...]


@dataclass(frozen=True, slots=True)
class WriteCoilsAnswer:
    board: int
    address: int
    count: int


@dataclass(frozen=True, slots=True)
class ReadInputs:
    board: int
    kind: InputKind
    address: int
    count: int


@dataclass(frozen=True, slots=True)
class InputsAnswer:
    board: int
    kind: InputKind
    values: tuple[int, ...]
    """One value per input: 0/1 for discrete inputs, the register for input registers."""


@dataclass(frozen=True, slots=True)
class Refused:
    """An exception response: the board heard the request and would not do it."""

    board: int
    function: int
    code: int


Command = WriteSingle | WriteCoils | ReadInputs
Answer = WriteSingle | WriteCoilsAnswer | InputsAnswer | Refused

_EXCEPTIONS = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "device failure",
    6: "device busy",
}


def describe_refusal(code: int) -> str:
    return _EXCEPTIONS.get(code, f"exception code {code}")


def _board(board: int) -> int:
    if not MIN_ADDRESS <= board <= MAX_ADDRESS:
        raise ValueError(f"modbus slave address {board} is outside {MIN_ADDRESS}..{MAX_ADDRESS}")
    return board


def _raw(board: int, pdu: bytes) -> bytes:
    """An RTU frame around PDU bytes: pymodbus's framer adds the address and the CRC."""
    return FramerRTU(DecodePDU(is_server=False)).encode(pdu, _board(board), 0)


def _build(pdu: ModbusPDU) -> bytes:
    _board(pdu.dev_id)
    return FramerRTU(DecodePDU(is_server=False)).buildFrame(pdu)


# --- station -> board ---------------------------------------------------------------------


def encode_write_coil(board: int, address: int, on: bool) -> bytes:
    return encode_write_single(board, FC_WRITE_COIL, address, COIL_ON if on else COIL_OFF)


def encode_write_single(board: int, function: int, address: int, value: int) -> bytes:
    """0x05 with any 16-bit value (a board's pulse function takes a time there) or 0x06.

    pymodbus's coil request only knows FF00/0000, so 0x05 is framed from its PDU bytes.
    """
    if function == FC_WRITE_REGISTER:
        return _build(WriteSingleRegisterRequest(dev_id=board, address=address, registers=[value]))
    if function != FC_WRITE_COIL:
        raise ValueError(f"a single write is function 5 or 6, not {function}")
    return _raw(board, bytes([function]) + address.to_bytes(2, "big") + value.to_bytes(2, "big"))


def encode_write_coils(board: int, address: int, bits: Sequence[bool]) -> bytes:
    return _build(WriteMultipleCoilsRequest(dev_id=board, address=address, bits=list(bits)))


def encode_read(board: int, kind: InputKind, address: int, count: int) -> bytes:
    cls = ReadDiscreteInputsRequest if kind == "discrete" else ReadInputRegistersRequest
    return _build(cls(dev_id=board, address=address, count=count))


# --- board -> station (what the simulator sends) -----------------------------------------


def encode_answer(answer: Answer) -> bytes:
    if isinstance(answer, WriteSingle):
        return encode_write_single(answer.board, answer.function, answer.address, answer.value)
    if isinstance(answer, WriteCoilsAnswer):
        pdu: ModbusPDU = WriteMultipleCoilsResponse(
            dev_id=answer.board, address=answer.address, count=answer.count
        )
    elif isinstance(answer, InputsAnswer):
        if answer.kind == "discrete":
            pdu = ReadDiscreteInputsResponse(
                dev_id=answer.board, bits=[bool(v) for v in answer.values]
            )
        else:
            pdu = ReadInputRegistersResponse(dev_id=answer.board, registers=list(answer.values))
    else:
        pdu = ExceptionResponse(answer.function, answer.code, device_id=answer.board)
    return _build(pdu)


# --- finding and decoding frames ----------------------------------------------------------

_REQUESTS = DecodePDU(is_server=True)
_ANSWERS = DecodePDU(is_server=False)


_USED = frozenset(
    {FC_READ_DISCRETE, FC_READ_INPUT_REGISTERS, FC_WRITE_COIL, FC_WRITE_REGISTER, FC_WRITE_COILS}
)


def _measure(decoder: DecodePDU, buf: bytes) -> int | None:
    """Only the functions a lock board uses are candidates: RTU frames have no start byte, so
    every other function code a noise byte might spell would wait for bytes that never come."""
    if len(buf) < 2:
        return None
    cls = decoder.lookupPduClass(buf) if buf[1] & 0x7F in _USED else None
    if cls is None:
        raise FrameError(f"modbus: function 0x{buf[1]:02X} is not one a lock board uses")
    size = int(cls.calculateRtuFrameSize(buf))
    return size or None


def _unframe(decoder: DecodePDU, frame: bytes, what: str) -> ModbusPDU:
    if len(frame) < 4:
        raise FrameError(f"{what}: {len(frame)} bytes is too short")
    if not MIN_ADDRESS <= frame[0] <= MAX_ADDRESS:
        raise FrameError(f"{what}: slave address {frame[0]} is outside 1..247")
    crc = int.from_bytes(frame[-2:], "big")
    if not FramerRTU.check_CRC(frame[:-2], crc):
        want = FramerRTU.compute_CRC(frame[:-2])
        raise FrameError(f"{what}: CRC {crc:04X}, expected {want:04X}")
    pdu = decoder.decode(frame[1:-2])
    if pdu is None:
        raise FrameError(f"{what}: function 0x{frame[1]:02X} does not decode")
    pdu.dev_id = frame[0]
    return pdu


def decode_command(frame: bytes) -> Command:
    """A station->board frame, as the board (the simulator) reads it."""
    pdu = _unframe(_REQUESTS, frame, "modbus request")
    fc = frame[1]
    if fc == FC_WRITE_COIL:  # the raw value: a pulse function puts a time there
        return WriteSingle(frame[0], fc, pdu.address, int.from_bytes(frame[4:6], "big"))
    if fc == FC_WRITE_REGISTER:
        return WriteSingle(frame[0], fc, pdu.address, pdu.registers[0])
    if fc == FC_WRITE_COILS:
        return WriteCoils(frame[0], pdu.address, tuple(pdu.bits[: pdu.count]))
    if fc in (FC_READ_DISCRETE, FC_READ_INPUT_REGISTERS):
        kind: InputKind = "discrete" if fc == FC_READ_DISCRETE else "input_register"
        return ReadInputs(frame[0], kind, pdu.address, pdu.count)
    raise FrameError(f"modbus request: function 0x{fc:02X} is not one a lock board uses")


def decode_answer(frame: bytes) -> Answer:
    """A board->station frame. Discrete inputs come padded to whole bytes: the reader trims."""
    pdu = _unframe(_ANSWERS, frame, "modbus answer")
    fc = frame[1]
    if fc & 0x80:
        return Refused(frame[0], fc & 0x7F, pdu.exception_code)
    if fc == FC_WRITE_COIL:
        return WriteSingle(frame[0], fc, pdu.address, int.from_bytes(frame[4:6], "big"))
    if isinstance(pdu, WriteSingleRegisterResponse) and fc == FC_WRITE_REGISTER:
        return WriteSingle(frame[0], fc, pdu.address, pdu.registers[0])
    if fc == FC_WRITE_COILS:
        return WriteCoilsAnswer(frame[0], pdu.address, pdu.count)
    if fc == FC_READ_DISCRETE:
        return InputsAnswer(frame[0], "discrete", tuple(int(b) for b in pdu.bits))
    if fc == FC_READ_INPUT_REGISTERS:
        return InputsAnswer(frame[0], "input_register", tuple(pdu.registers))
    raise FrameError(f"modbus answer: function 0x{fc:02X} is not one a lock board uses")


_START = frozenset(range(MIN_ADDRESS, MAX_ADDRESS + 1))


def scan_commands(buf: bytes) -> tuple[list[Command | Noise], bytes]:
    return scan(buf, _START, lambda b: _measure(_REQUESTS, b), decode_command)


def scan_answers(
    buf: bytes, addresses: frozenset[int] = _START
) -> tuple[list[Answer | Noise], bytes]:
    """Answers in a byte stream; `addresses` narrows the candidates to the boards expected."""
    return scan(buf, addresses, lambda b: _measure(_ANSWERS, b), decode_answer)


assert WriteSingleCoilResponse  # the 0x05 echo pymodbus decodes before we read its raw value
