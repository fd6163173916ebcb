"""Protocol "dip8": hardware.md vectors, group order, framing in noise, fuzzing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.lockboard import dip8
from drivers.lockboard.codec import FrameError, Framer, Noise

H = bytes.fromhex


def test_unlock_vector_from_hardware_md() -> None:
    assert dip8.encode_unlock(1, 1) == H("8A 01 01 11 9B")


def test_read_all_request() -> None:
    assert dip8.encode_status(1) == H("80 01 00 33 B2")


def test_read_all_answer_sends_the_highest_group_first() -> None:
    # 24 channels: only channel 17 (bit 0 of the highest group) and channel 2 set.
    frame = H("80 03 01 00 02 33 B3")
    answer = dip8.decode_answer(frame, groups=3)
    assert isinstance(answer, dip8.ReadAllAnswer)
    assert answer.board == 3
    assert [i + 1 for i, bit in enumerate(answer.channels) if bit] == [2, 17]
    bits = [False] * 24
    bits[1] = bits[16] = True
    assert dip8.encode_status_answer(3, bits, groups=3) == frame


def test_unlock_answer_status_00_or_11() -> None:
    assert dip8.decode_answer(H("8A 01 01 11 9B"), groups=1) == dip8.UnlockAnswer(1, 1, True)
    assert dip8.decode_answer(H("8A 01 01 00 8A"), groups=1) == dip8.UnlockAnswer(1, 1, False)
    assert dip8.encode_unlock_answer(1, 1, False) == H("8A 01 01 00 8A")


def test_commands_decode_for_the_board_side() -> None:
    assert dip8.decode_command(H("8A 01 01 11 9B")) == dip8.UnlockCommand(1, 1)
    assert dip8.decode_command(H("80 01 00 33 B2")) == dip8.ReadAllCommand(1)


def test_groups_follow_the_channel_count() -> None:
    assert [dip8.groups_for(n) for n in (1, 8, 9, 16, 24, 48)] == [1, 1, 2, 2, 3, 6]


@pytest.mark.parametrize(
    ("frame", "words"),
    [
        (H("8A 01 01 11 9C"), "BCC 0x9C, expected 0x9B"),
        (H("8A 01 01 12 98"), "byte 3 is 0x12, expected 0x11"),
        (H("80 01 01 33 B3"), "byte 2 is 0x01, expected 0x00"),
        (H("81 01 00 33 B3"), "first byte 0x81"),
        (H("8A 01"), "2 bytes, expected 5"),
    ],
)
def test_bad_commands_say_what_is_wrong(frame: bytes, words: str) -> None:
    with pytest.raises(FrameError, match=words):
        dip8.decode_command(frame)


@pytest.mark.parametrize(
    ("frame", "words"),
    [
        (H("80 01 00 00 33 B3"), "6 bytes, expected 7"),
        (H("80 01 00 00 00 34 B5"), "byte 5 is 0x34, expected 0x33"),
        (H("80 01 00 00 00 33 B3"), "BCC 0xB3, expected 0xB2"),
        (b"", "no bytes"),
    ],
)
def test_bad_answers_say_what_is_wrong(frame: bytes, words: str) -> None:
    with pytest.raises(FrameError, match=words):
        dip8.decode_answer(frame, groups=3)


@pytest.mark.parametrize(("board", "channel"), [(256, 1), (-1, 1), (0, 0), (0, 256)])
def test_encoders_refuse_numbers_outside_the_protocol(board: int, channel: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        dip8.encode_unlock(board, channel)


def test_framer_finds_frames_behind_false_starts() -> None:
    status = dip8.encode_status_answer(2, [True, False, True], groups=2)
    unlock = dip8.encode_unlock_answer(2, 7, True)
    stream = H("80 8A 00") + status + H("8A 02") + unlock
    items, rest = dip8.scan_answers(stream, groups=2)
    assert [i for i in items if not isinstance(i, Noise)] == [
        dip8.decode_answer(status, groups=2),
        dip8.decode_answer(unlock, groups=2),
    ]
    assert rest == b""


def test_framer_holds_a_partial_frame_until_the_rest_arrives() -> None:
    frame = dip8.encode_status_answer(9, [True] * 12, groups=2)
    framer = Framer(lambda b: dip8.scan_answers(b, groups=2))
    assert framer.feed(frame[:3]) == []
    assert framer.feed(frame[3:]) == [dip8.decode_answer(frame, groups=2)]


# --- hypothesis ------------------------------------------------------------------------------

group_counts = st.integers(1, 6)
boards = st.integers(0, dip8.MAX_BOARD)
channels = st.integers(1, 48)
noise_without_heads = st.binary(max_size=12).map(
    lambda b: bytes(x for x in b if x not in (dip8.HEAD_READ, dip8.HEAD_UNLOCK))
)


def answers(groups: int) -> st.SearchStrategy[dip8.Answer]:
    bits = st.lists(st.booleans(), min_size=8 * groups, max_size=8 * groups).map(tuple)
    return st.one_of(
        st.builds(dip8.UnlockAnswer, boards, channels, st.booleans()),
        st.builds(dip8.ReadAllAnswer, boards, bits),
    )


commands = st.one_of(
    st.builds(dip8.UnlockCommand, boards, channels), st.builds(dip8.ReadAllCommand, boards)
)


def _encode_command(cmd: dip8.Command) -> bytes:
    if isinstance(cmd, dip8.UnlockCommand):
        return dip8.encode_unlock(cmd.board, cmd.channel)
    return dip8.encode_status(cmd.board)


def _outcome(decode: Callable[[bytes], object], data: bytes) -> object:
    try:
        return decode(data)
    except FrameError as exc:
        assert str(exc), "a decode error must say what was wrong"
        return exc


@given(st.binary(max_size=40), group_counts)
def test_decoders_return_a_frame_or_raise_frame_error_only(data: bytes, groups: int) -> None:
    answer = _outcome(lambda b: dip8.decode_answer(b, groups), data)
    assert isinstance(answer, dip8.UnlockAnswer | dip8.ReadAllAnswer | FrameError)
    command = _outcome(dip8.decode_command, data)
    assert isinstance(command, dip8.UnlockCommand | dip8.ReadAllCommand | FrameError)


@given(st.data(), group_counts)
def test_answers_round_trip(data: st.DataObject, groups: int) -> None:
    answer = data.draw(answers(groups))
    assert dip8.decode_answer(dip8.encode_answer(answer), groups) == answer


@given(commands)
def test_commands_round_trip(cmd: dip8.Command) -> None:
    assert dip8.decode_command(_encode_command(cmd)) == cmd


@given(st.binary(max_size=80), group_counts)
def test_scan_accounts_for_every_byte_of_any_input(data: bytes, groups: int) -> None:
    items, rest = dip8.scan_answers(data, groups)
    used = sum(len(i.data) if isinstance(i, Noise) else len(dip8.encode_answer(i)) for i in items)
    assert used + len(rest) == len(data)
    assert len(rest) < 4 + groups
    assert data.endswith(rest)


@given(st.data(), group_counts, noise_without_heads)
def test_scan_recovers_every_frame_between_noise(
    data: st.DataObject, groups: int, tail: bytes
) -> None:
    parts = data.draw(st.lists(st.tuples(noise_without_heads, answers(groups)), max_size=6))
    stream = b"".join(noise + dip8.encode_answer(a) for noise, a in parts) + tail
    items, rest = dip8.scan_answers(stream, groups)
    assert [i for i in items if not isinstance(i, Noise)] == [a for _, a in parts]
    assert rest == b""


@given(st.lists(st.tuples(noise_without_heads, commands), max_size=6))
def test_the_board_side_finds_commands_in_noise(parts: list[tuple[bytes, dip8.Command]]) -> None:
    stream = b"".join(noise + _encode_command(c) for noise, c in parts)
    items, rest = dip8.scan_commands(stream)
    assert [i for i in items if not isinstance(i, Noise)] == [c for _, c in parts]
    assert rest == b""
