"""The readers' pure decoders: key events and serial bytes to card texts, and de-bouncing.

The recordings in recordings/ are in `evtest`'s output format with the MSC_SCAN usages a USB
keyboard interface sends; they were written to that format for these tests, not captured from
a device (replace them with captures from the station's actual reader when one is at hand).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.reader.codec import (
    EV_KEY,
    KEY_CAPSLOCK,
    KEY_DOWN,
    KEY_REPEAT,
    MAX_TEXT,
    Debouncer,
    Garbage,
    KeyDecoder,
    LineDecoder,
)
from drivers.sim.reader import parse_evtest, scanner_events

RECORDINGS = Path(__file__).parent / "recordings"
PRINTABLE = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=60)


def decode_keys(events: list[tuple[int, int, int]]) -> list[object]:
    decoder = KeyDecoder()
    return [d for e in events if (d := decoder.feed(*e)) is not None]


@pytest.mark.parametrize(
    ("recording", "text"),
    [("id_reader_0012345678.evtest", "0012345678"), ("qr_scanner_Mq7-xT42.evtest", "Mq7-xT42")],
)
def test_recorded_event_sequences_decode_to_their_card(recording: str, text: str) -> None:
    events = parse_evtest((RECORDINGS / recording).read_text())
    assert len(events) > 4 * len(text)  # MSC_SCAN and key events, not just a few
    assert decode_keys(events) == [text]


@given(PRINTABLE)
def test_what_a_scanner_types_decodes_to_itself(text: str) -> None:
    assert decode_keys(scanner_events(text)) == [text]


def test_keypad_digits_caps_lock_and_repeats() -> None:
    keypad = [(EV_KEY, code, v) for code in (79, 80, 81) for v in (1, 0)] + [(EV_KEY, 96, 1)]
    assert decode_keys(keypad) == ["123"]
    caps = [(EV_KEY, KEY_CAPSLOCK, KEY_DOWN), *scanner_events("ab")]
    assert decode_keys(caps) == ["AB"]
    repeat = [
        (EV_KEY, 2, KEY_DOWN),
        (EV_KEY, 2, KEY_REPEAT),
        (EV_KEY, 2, KEY_REPEAT),
        (EV_KEY, 28, 1),
    ]
    assert decode_keys(repeat) == ["1"]


def test_a_key_no_reader_types_spoils_the_whole_read() -> None:
    events = [*scanner_events("1234", enter=False), (EV_KEY, 105, 1), *scanner_events("56")]
    out = decode_keys(events + scanner_events("0012345678"))
    assert out[0] == Garbage("key 105 is not typed by card readers", 6)
    assert out[1] == "0012345678"  # the next read is whole again


def test_an_overlong_read_is_garbage_and_keeps_no_text() -> None:
    [item] = decode_keys(scanner_events("7" * (MAX_TEXT + 5)))
    assert isinstance(item, Garbage) and "7" not in item.reason


def test_serial_lines_end_at_cr_lf_or_crlf_in_any_chunks() -> None:
    decoder = LineDecoder()
    data = b"0012345678\r\nQR-abc\rX9y8\n\r\n"
    out = [d for i in range(len(data)) for d in decoder.feed(data[i : i + 1])]
    assert out == ["0012345678", "QR-abc", "X9y8"]
    assert decoder.feed(b"\x00\xff12\r\n") == [Garbage("byte 0x00 is not text a reader sends", 2)]


@given(st.binary(max_size=400))
def test_serial_noise_never_raises_and_reads_stay_short_text(data: bytes) -> None:
    for item in LineDecoder().feed(data):
        if isinstance(item, str):
            assert item and len(item) <= MAX_TEXT and item.isascii()


@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 300), st.integers(-1, 3)), max_size=300)
)
def test_random_events_never_raise(events: list[tuple[int, int, int]]) -> None:
    for item in decode_keys(events):
        assert isinstance(item, Garbage) or len(item) <= MAX_TEXT


def test_a_card_held_on_the_reader_is_one_read() -> None:
    bounce = Debouncer(hold_s=1.0)
    # repeats every 0.3 s for 6 s: one read, since each repeat extends the hold
    assert [bounce.accept("card-A", t * 0.3) for t in range(20)] == [True] + [False] * 19
    assert bounce.accept("card-B", 6.1)  # another card at once
    assert bounce.accept("card-A", 6.2)
    assert bounce.accept("card-A", 7.5)  # lifted and presented again
