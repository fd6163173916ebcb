"""The ingest batch codec (wire/batch.py, wire/event.py): vectors for what the typed msgspec
decoder refuses beyond types, and a property test that what the station encodes, central
decodes to the same event with its payload text untouched."""

from __future__ import annotations

import gzip
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wire.batch import BatchError, decode_batch, encode_batch


def body(*events: dict[str, object], after: int = 0) -> bytes:
    return json.dumps({"station": "S001", "after": after, "events": list(events)}).encode()


def event(seq: int = 1, **over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "seq": seq,
        "id": f"e{seq}",
        "type": "door_opened",
        "ts": 1_767_225_600.5,
        "mono": 12.5,
        "boot_id": "b",
        "clock_synced": True,
        "actor": "system",
        "payload": {"reason": "借用"},
    }
    base.update(over)
    return base


def refused(raw: bytes) -> BatchError:
    with pytest.raises(BatchError) as caught:
        decode_batch(raw)
    return caught.value


def test_payload_is_kept_as_the_text_sent() -> None:
    raw = b'{"station":"S001","after":0,"events":[' + json.dumps(event())[:-1].encode()
    raw = raw.replace(b'"payload": {"reason": "\\u501f\\u7528"}', b'"payload": {"b":1, "a":[2]}')
    _, events = decode_batch(raw + b"}]}")
    assert events[0].payload == '{"b":1, "a":[2]}'


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (body(event(mono=123.0)).replace(b"123.0", b"1e999"), "events[0].mono"),
        (body(event(payload=[1, 2])), "events[0].payload: must be a JSON object"),
        (body(event(payload="text")), "events[0].payload: must be a JSON object"),
        (body(event(payload={"x": "a\x00b"})), "NUL"),
        (body(event(actor="a\x00")), "events[0].actor"),
        (body(event(extra=1)), "unknown field `extra`"),
        (body(event(seq=0)), "events[0].seq"),
        (body(event(clock_synced=1)), "clock_synced"),
        (body(event(2), event(2)), "events[1].seq 2 must be greater than 2"),
    ],
)
def test_refused_with_the_field_named(raw: bytes, words: str) -> None:
    error = refused(raw)
    assert words in str(error) and not error.invalid_json


def test_payload_not_utf8_is_refused() -> None:
    raw = body(event(payload={"x": "PLACEHOLDER"})).replace(b"PLACEHOLDER", b"\xff\xfe")
    assert "not UTF-8" in str(refused(raw))


def test_an_escaped_backslash_before_u0000_is_not_a_nul() -> None:
    _, events = decode_batch(body(event(payload={"path": "C:\\u0000"})))
    assert json.loads(events[0].payload) == {"path": "C:\\u0000"}


def test_broken_json_is_told_apart() -> None:
    assert refused(b'{"station": "S001", "after": 0, "events": [').invalid_json


texts = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20
)
rows = st.tuples(
    st.integers(1, 2**40),
    texts.filter(bool),
    texts.filter(bool),
    st.floats(allow_nan=False, allow_infinity=False),
    st.none() | st.floats(allow_nan=False, allow_infinity=False),
    st.floats(allow_nan=False, allow_infinity=False),
    texts.filter(bool),
    st.booleans(),
    texts.filter(bool),
    st.none() | texts,
    st.dictionaries(texts, st.integers() | texts | st.booleans(), max_size=4),
)


@given(st.lists(rows, min_size=1, max_size=8, unique_by=lambda r: r[0]))
def test_station_encoding_decodes_to_the_same_events(raw_rows: list[tuple]) -> None:
    ordered = sorted(raw_rows, key=lambda r: r[0])
    table = [(*r[:10], json.dumps(r[10], ensure_ascii=False, sort_keys=True)) for r in ordered]
    batch = encode_batch("S001", 0, table, 1 << 24, None)
    parsed, events = decode_batch(gzip.decompress(batch.body))
    assert parsed.after == 0 and len(events) == len(table)
    for row, got in zip(table, events, strict=True):
        seq, eid, etype, ts, ts_corr, mono, boot, synced, actor, locker, payload = row
        assert (got.seq, got.id, got.type, got.boot_id, got.actor) == (seq, eid, etype, boot, actor)
        assert (got.ts, got.ts_corrected, got.mono) == (ts, ts_corr, mono)
        assert (got.clock_synced, got.locker) == (synced, locker)
        if "1" not in payload:  # a phone-number-looking digit run is masked, tested elsewhere
            assert got.payload == payload
        assert isinstance(json.loads(got.payload), dict)


def test_a_phone_number_as_a_json_number_is_masked_and_the_batch_stays_json() -> None:
    """Found by the property test: masking the payload's text turned a bare number into
    `*******8000`, which is not JSON, and central would refuse the station's log forever."""
    row = (1, "e1", "t", 1.0, None, 1.0, "b", True, "system", None, '{"n": 13800138000}')
    raw = gzip.decompress(encode_batch("S001", 0, [row], 1 << 20, None).body)
    assert b"13800138000" not in raw
    _, events = decode_batch(raw)
    assert json.loads(events[0].payload) == {"n": "*******8000"}
