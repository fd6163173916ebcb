"""Protocol "cu": hardware.md vectors, hand-checked answers, framing in noise, fuzzing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.lockboard import cu
from drivers.lockboard.codec import FrameError, Framer, Noise

H = bytes.fromhex


def test_unlock_vector_from_hardware_md() -> None:
    assert cu.encode_unlock(0, 1) == H("02 00 31 03 36")


def test_unlock_puts_board_in_high_nibble_and_lock_minus_one_in_low() -> None:
    assert cu.encode_unlock(3, 16) == H("02 3F 31 03 75")


def test_status_request_has_lock_nibble_zero() -> None:
    assert cu.encode_status(2) == H("02 20 30 03 55")


def test_status_answer_hand_assembled() -> None:
    # Board 1: locks 1, 3 and 10 set (D1 = 0b101, D2 = 0b10), item in compartment 2 (D3 = 0b10).
    frame = H("02 10 35 05 02 02 00 03 53")
    answer = cu.decode_answer(frame)
    assert isinstance(answer, cu.StatusAnswer)
    assert answer.board == 1
    assert [i + 1 for i, bit in enumerate(answer.locks) if bit] == [1, 3, 10]
    assert [i + 1 for i, bit in enumerate(answer.items) if bit] == [2]
    locks = [True, False, True] + [False] * 6 + [True]
    assert cu.encode_status_answer(1, locks, [False, True]) == frame


def test_unlock_answer_echoes_address_and_carries_the_feedback_bit() -> None:
    assert cu.decode_answer(H("02 00 31 01 03 37")) == cu.UnlockAnswer(0, 1, True)
    assert cu.decode_answer(H("02 25 31 00 03 5B")) == cu.UnlockAnswer(2, 6, False)
    assert cu.encode_unlock_answer(0, 1, True) == H("02 00 31 01 03 37")


def test_unlock_answer_reads_any_nonzero_status_as_set() -> None:
    assert cu.decode_answer(H("02 00 31 11 03 47")) == cu.UnlockAnswer(0, 1, True)


def test_commands_decode_for_the_board_side() -> None:
    assert cu.decode_command(H("02 00 31 03 36")) == cu.UnlockCommand(0, 1)
    assert cu.decode_command(H("02 20 30 03 55")) == cu.StatusCommand(2)


@pytest.mark.parametrize(
    ("frame", "words"),
    [
        (H("02 00 31 03 37"), "checksum 0x37, expected 0x36"),
        (H("02 00 31 04 37"), "byte 3 is 0x04, expected 0x03"),
        (H("03 00 31 03 37"), "byte 0 is 0x03, expected 0x02"),
        (H("02 00 32 03 37"), "unknown command byte 0x32"),
        (H("02 00 31"), "3 bytes, expected 5"),
    ],
)
def test_bad_commands_say_what_is_wrong(frame: bytes, words: str) -> None:
    with pytest.raises(FrameError, match=words):
        cu.decode_command(frame)


@pytest.mark.parametrize(
    ("frame", "words"),
    [
        (H("02 00 31 01 03 38"), "checksum 0x38, expected 0x37"),
        (H("02 10 35 05 02 02 00 04 53"), "byte 7 is 0x04, expected 0x03"),
        (H("02 00 36 00 03 3B"), "unknown command byte 0x36"),
        (H("02 00"), "too short"),
        (H("02 10 35 05 02 02 00 03"), "8 bytes, expected 9"),
    ],
)
def test_bad_answers_say_what_is_wrong(frame: bytes, words: str) -> None:
    with pytest.raises(FrameError, match=words):
        cu.decode_answer(frame)


@pytest.mark.parametrize(("board", "lock"), [(16, 1), (-1, 1), (0, 0), (0, 17)])
def test_encoders_refuse_numbers_outside_the_protocol(board: int, lock: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        cu.encode_unlock(board, lock)


def test_framer_finds_frames_behind_noise_and_false_starts() -> None:
    status = cu.encode_status_answer(1, [True] * 4)
    unlock = cu.encode_unlock_answer(1, 5, False)
    # A stray 0x02, a fake status frame cut short, a valid frame, garbage, a valid frame.
    stream = H("FF 02") + H("02 10 35 00") + status + H("00 13 37") + unlock
    items, rest = cu.scan_answers(stream)
    frames = [i for i in items if not isinstance(i, Noise)]
    assert frames == [cu.decode_answer(status), cu.decode_answer(unlock)]
    assert rest == b""
    noise = b"".join(i.data for i in items if isinstance(i, Noise))
    assert noise == H("FF 02 02 10 35 00 00 13 37")


def test_framer_holds_a_partial_frame_until_the_rest_arrives() -> None:
    frame = cu.encode_status_answer(4, [False, True])
    framer = Framer(cu.scan_answers)
    assert framer.feed(H("00") + frame[:4]) == [Noise(H("00"), "0x00 where a frame should start")]
    assert framer.pending == frame[:4]
    assert framer.feed(frame[4:]) == [cu.decode_answer(frame)]
    assert framer.pending == b""


# --- hypothesis ------------------------------------------------------------------------------

bits16 = st.lists(st.booleans(), min_size=16, max_size=16).map(tuple)
boards = st.integers(0, cu.MAX_BOARD)
locks = st.integers(1, cu.MAX_LOCKS)
answers = st.one_of(
    st.builds(cu.UnlockAnswer, boards, locks, st.booleans()),
    st.builds(cu.StatusAnswer, boards, bits16, bits16),
)
commands = st.one_of(
    st.builds(cu.UnlockCommand, boards, locks), st.builds(cu.StatusCommand, boards)
)
noise_without_stx = st.binary(max_size=12).map(lambda b: b.replace(b"\x02", b""))


def _encode_command(cmd: cu.Command) -> bytes:
    if isinstance(cmd, cu.UnlockCommand):
        return cu.encode_unlock(cmd.board, cmd.lock)
    return cu.encode_status(cmd.board)


def _outcome(decode: Callable[[bytes], object], data: bytes) -> object:
    try:
        return decode(data)
    except FrameError as exc:
        assert str(exc), "a decode error must say what was wrong"
        return exc


@given(st.binary(max_size=40))
def test_decoders_return_a_frame_or_raise_frame_error_only(data: bytes) -> None:
    answer = _outcome(cu.decode_answer, data)
    assert isinstance(answer, cu.UnlockAnswer | cu.StatusAnswer | FrameError)
    command = _outcome(cu.decode_command, data)
    assert isinstance(command, cu.UnlockCommand | cu.StatusCommand | FrameError)


@given(answers)
def test_answers_round_trip(answer: cu.Answer) -> None:
    assert cu.decode_answer(cu.encode_answer(answer)) == answer


@given(commands)
def test_commands_round_trip(cmd: cu.Command) -> None:
    assert cu.decode_command(_encode_command(cmd)) == cmd


@given(st.binary(max_size=80))
def test_scan_accounts_for_every_byte_of_any_input(data: bytes) -> None:
    items, rest = cu.scan_answers(data)
    used = sum(len(i.data) if isinstance(i, Noise) else len(cu.encode_answer(i)) for i in items)
    assert used + len(rest) == len(data)
    assert len(rest) < cu.STATUS_ANSWER_LENGTH
    assert data.endswith(rest)


@given(st.lists(st.tuples(noise_without_stx, answers), max_size=6), noise_without_stx)
def test_scan_recovers_every_frame_between_noise(
    parts: list[tuple[bytes, cu.Answer]], tail: bytes
) -> None:
    stream = b"".join(noise + cu.encode_answer(a) for noise, a in parts) + tail
    items, rest = cu.scan_answers(stream)
    assert [i for i in items if not isinstance(i, Noise)] == [a for _, a in parts]
    assert rest == b""


@given(st.lists(answers, max_size=4), st.data())
def test_feeding_in_any_chunks_gives_the_same_frames(
    answers_: list[cu.Answer], data: st.DataObject
) -> None:
    stream = b"".join(cu.encode_answer(a) for a in answers_)
    framer = Framer(cu.scan_answers)
    got: list[object] = []
    i = 0
    while i < len(stream):
        n = data.draw(st.integers(1, 10))
        got.extend(framer.feed(stream[i : i + n]))
        i += n
    assert got == answers_


@given(st.lists(st.tuples(noise_without_stx, commands), max_size=6))
def test_the_board_side_finds_commands_in_noise(parts: list[tuple[bytes, cu.Command]]) -> None:
    stream = b"".join(noise + _encode_command(c) for noise, c in parts)
    items, rest = cu.scan_commands(stream)
    assert [i for i in items if not isinstance(i, Noise)] == [c for _, c in parts]
    assert rest == b""
