"""Modbus RTU frames a lock board uses, on pymodbus: vectors, round trips, noisy streams."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from drivers.lockboard import modbus
from drivers.lockboard.codec import Noise


def test_vectors_from_the_modbus_specification() -> None:
    # Write single coil 0x00AC on at slave 0x11 (Modbus application protocol, 6.5) + CRC.
    assert modbus.encode_write_coil(0x11, 0x00AC, True).hex(" ") == "11 05 00 ac ff 00 4e 8b"
    # Read discrete inputs 0x00C4, 22 inputs, slave 0x11 (6.2).
    assert modbus.encode_read(0x11, "discrete", 0x00C4, 22).hex(" ") == "11 02 00 c4 00 16 ba a9"
    # Read input register 0x0008, 1 register, slave 0x11 (6.4).
    assert modbus.encode_read(0x11, "input_register", 8, 1).hex(" ") == "11 04 00 08 00 01 b2 98"


def test_requests_round_trip_as_the_board_reads_them() -> None:
    cases = [
        (modbus.encode_write_coil(1, 3, True), modbus.WriteSingle(1, 5, 3, 0xFF00)),
        (modbus.encode_write_single(2, 5, 0x0203, 5), modbus.WriteSingle(2, 5, 0x0203, 5)),
        (modbus.encode_write_single(2, 6, 0x0010, 7), modbus.WriteSingle(2, 6, 0x0010, 7)),
        (modbus.encode_write_coils(9, 0, [False] * 4), modbus.WriteCoils(9, 0, (False,) * 4)),
        (
            modbus.encode_read(247, "input_register", 4, 8),
            modbus.ReadInputs(247, "input_register", 4, 8),
        ),
    ]
    for frame, expected in cases:
        assert modbus.decode_command(frame) == expected


def test_answers_round_trip_and_a_refusal_is_an_answer() -> None:
    answers = [
        modbus.WriteSingle(1, 5, 3, 0xFF00),
        modbus.WriteCoilsAnswer(3, 0, 8),
        modbus.InputsAnswer(4, "input_register", (1, 0, 513)),
        modbus.Refused(5, 5, 2),
    ]
    for answer in answers:
        assert modbus.decode_answer(modbus.encode_answer(answer)) == answer
    bits = modbus.decode_answer(modbus.encode_answer(modbus.InputsAnswer(1, "discrete", (1, 0, 1))))
    assert isinstance(bits, modbus.InputsAnswer)
    assert bits.values[:3] == (1, 0, 1)  # padded to whole bytes: the reader trims


def test_a_bad_crc_costs_one_byte_and_the_frame_behind_it_is_found() -> None:
    good = modbus.encode_answer(modbus.WriteCoilsAnswer(3, 0, 8))
    broken = bytearray(good)
    broken[-1] ^= 0xFF
    items, tail = modbus.scan_answers(b"\x00\xff" + bytes(broken) + good)
    assert items[-1] == modbus.WriteCoilsAnswer(3, 0, 8)
    assert all(isinstance(i, Noise) for i in items[:-1])
    assert tail == b""


@given(st.binary(max_size=40), st.integers(1, 247), st.lists(st.integers(0, 1), max_size=16))
def test_any_noise_before_an_answer_never_hides_it(
    noise: bytes, board: int, bits: list[int]
) -> None:
    answer = modbus.InputsAnswer(board, "discrete", tuple(bits) or (0,))
    frame = modbus.encode_answer(answer)
    items, _ = modbus.scan_answers(noise + frame + frame, frozenset({board}))
    found = [i for i in items if isinstance(i, modbus.InputsAnswer)]
    assert found and found[-1].values[: len(answer.values)] == answer.values
