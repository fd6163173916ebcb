"""Feedback polarity and bit packing, shared by both protocols and the simulator."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.lockboard.codec import pack_bits, unpack_bits
from drivers.lockboard.feedback import bit_for_reading, reading_for_bit, readings_for_bits
from drivers.lockboard.port import DoorReading

OPEN, CLOSED = DoorReading.OPEN, DoorReading.CLOSED


def test_set_bit_means_what_the_board_setting_says() -> None:
    assert reading_for_bit(True, "closed") is CLOSED
    assert reading_for_bit(False, "closed") is OPEN
    assert reading_for_bit(True, "open") is OPEN
    assert reading_for_bit(False, "open") is CLOSED


def test_readings_cover_exactly_the_configured_channels() -> None:
    bits = (True, False, True, False, False, False, False, False)
    assert readings_for_bits(bits, 3, "closed") == {1: CLOSED, 2: OPEN, 3: CLOSED}


def test_too_few_bits_for_the_channels_is_an_error() -> None:
    with pytest.raises(ValueError, match="8 feedback bits cannot describe 9 channels"):
        readings_for_bits((False,) * 8, 9, "closed")


@pytest.mark.parametrize("feedback", ["closed", "open"])
@pytest.mark.parametrize("reading", [OPEN, CLOSED])
def test_the_simulator_bit_reads_back_as_the_same_door(feedback: str, reading: DoorReading) -> None:
    assert reading_for_bit(bit_for_reading(reading, feedback), feedback) is reading  # type: ignore[arg-type]


def test_pack_refuses_more_channels_than_bytes() -> None:
    with pytest.raises(ValueError, match="9 channels do not fit in 1 status byte"):
        pack_bits([False] * 9, 1)


@given(st.integers(1, 6).flatmap(lambda n: st.binary(min_size=n, max_size=n)))
def test_pack_and_unpack_are_inverse(groups: bytes) -> None:
    assert pack_bits(unpack_bits(groups), len(groups)) == groups
