"""The uplink's pure parts: batch encoding (checked against central's own model), acks, back-off,
and the wording of failures."""

from __future__ import annotations

import gzip
import json
import random
import ssl

import httpx
import pytest

from station.store import StoreFull
from station.sync.backoff import Backoff
from station.sync.errors import (
    SyncProtocolError,
    classify_exception,
    classify_status,
)
from station.sync.uplink import decode_ack
from wire.batch import decode_batch, encode_batch, error_detail


def row(seq: int, payload: str = '{"k":"借用"}', **over: object) -> tuple:
    base = {
        "seq": seq,
        "id": f"id{seq}",
        "type": "door_opened",
        "ts": 1_767_225_600.123456 + seq,
        "ts_corrected": None,
        "mono": 12.000001 * seq,
        "boot_id": "b",
        "clock_synced": 1,
        "actor": 'staff:"7"',
        "locker": None,
        "payload": payload,
    }
    base.update(over)
    return tuple(base.values())


def test_batch_matches_centrals_model_exactly() -> None:
    rows = [row(1), row(2, ts_corrected=1_767_000_000.5, clock_synced=0, locker="B07")]
    batch = encode_batch("S001", 0, rows, 1 << 20, {"sync": {"pending": 2}})
    parsed, events = decode_batch(gzip.decompress(batch.body))
    assert (batch.first_seq, batch.last_seq, batch.count) == (1, 2, 2)
    assert parsed.station == "S001" and parsed.after == 0
    assert parsed.telemetry == {"sync": {"pending": 2}}
    first, second = events
    assert first.ts == 1_767_225_600.123456 + 1  # floats round-trip exactly
    assert json.loads(first.payload) == {"k": "借用"} and first.actor == 'staff:"7"'
    assert first.clock_synced is True and first.locker is None
    assert second.ts_corrected == 1_767_000_000.5 and second.clock_synced is False
    assert second.locker == "B07"


def test_batch_respects_byte_limit_but_always_carries_one() -> None:
    rows = [row(i) for i in range(1, 101)]
    batch = encode_batch("S001", 0, rows, 4096, None)
    assert 0 < batch.count < 100 and batch.raw_bytes <= 4096
    assert batch.last_seq == batch.count
    big = row(1, payload=json.dumps({"x": "y" * 10_000}))
    single = encode_batch("S001", 0, [big, row(2)], 4096, None)
    assert single.count == 1 and single.raw_bytes > 4096
    empty = encode_batch("S001", 7, [], 4096, None)
    assert empty.count == 0
    assert decode_batch(gzip.decompress(empty.body))[0].after == 7


def test_unreadable_payload_does_not_block_the_log(caplog: pytest.LogCaptureFixture) -> None:
    batch = encode_batch("S001", 0, [row(1, payload="{broken"), row(2)], 1 << 20, None)
    _, events = decode_batch(gzip.decompress(batch.body))
    assert json.loads(events[0].payload) == {"unreadable_payload": True}
    assert json.loads(events[1].payload) == {"k": "借用"}
    assert "event 1 has an unreadable payload" in caplog.text


def test_decode_ack() -> None:
    good = json.dumps({"station": "S001", "acked_seq": 9, "stored": 3, "server_time": 5.5})
    ack = decode_ack(200, good.encode(), "S001")
    assert (ack.acked_seq, ack.stored, ack.duplicates, ack.server_time) == (9, 3, 0, 5.5)
    for status, body, words in [
        (302, b"", "status 302"),
        (200, b"<html>portal</html>", "not JSON"),
        (200, b"[1]", "not a JSON object"),
        (200, b'{"station": "S001"}', "acked_seq"),
        (200, b'{"station": "S001", "acked_seq": true}', "acked_seq"),
        (200, b'{"station": "S001", "acked_seq": -1}', "acked_seq"),
        (200, b'{"station": "S002", "acked_seq": 1}', "S002"),
    ]:
        with pytest.raises(SyncProtocolError, match=words):
            decode_ack(status, body, "S001")
    assert error_detail(b'{"detail": "token revoked"}') == "token revoked"
    assert error_detail(b"<h1>Bad Gateway</h1>") == "<h1>Bad Gateway</h1>"


def test_backoff_is_capped_full_jitter() -> None:
    backoff = Backoff(1.0, 30.0, random.Random(3))
    ceilings = []
    for _ in range(10):
        ceiling = backoff.ceiling()
        delay = backoff.next_delay()
        assert 0 <= delay <= ceiling
        ceilings.append(ceiling)
    assert ceilings == [1, 2, 4, 8, 16, 30, 30, 30, 30, 30]
    draws = [Backoff(1.0, 30.0, random.Random(i)).next_delay() for i in range(50)]
    assert min(draws) < 0.2 and max(draws) > 0.8  # spread over the whole range
    assert 15 <= backoff.slow_delay() <= 30
    backoff.reset()
    assert backoff.ceiling() == 1


def test_failure_wording() -> None:
    tls = httpx.ConnectError("handshake failed")
    tls.__cause__ = ssl.SSLCertVerificationError("certificate has expired")
    assert classify_exception(tls).kind == "tls"
    assert classify_exception(httpx.ConnectError("refused")).kind == "network"
    assert classify_exception(httpx.ReadTimeout("slow")).kind == "timeout"
    assert classify_exception(StoreFull("disk full")).kind == "disk"
    assert classify_exception(SyncProtocolError("html")).kind == "garbage"
    assert classify_exception(KeyError("x")).kind == "internal"
    assert classify_status(401, "revoked").slow
    assert classify_status(413, "").shrink
    assert classify_status(503, "").kind == "server" and not classify_status(503, "").slow
    assert classify_status(409, "").kind == "conflict"
    assert classify_status(422, "bad").kind == "refused"
    for problem in (classify_status(401, ""), classify_exception(StoreFull("x"))):
        assert problem.message and problem.advice and problem.line().endswith(".")


def test_full_phone_number_never_leaves_the_station(caplog: pytest.LogCaptureFixture) -> None:
    leaky = json.dumps({"note": "call 13800138000", "ref": "2138001380001", "last4": "8000"})
    batch = encode_batch("S001", 0, [row(1, payload=leaky, type="claim_made")], 1 << 20, None)
    raw = gzip.decompress(batch.body).decode()
    assert "call 13800138000" not in raw
    _, events = decode_batch(raw.encode())
    assert json.loads(events[0].payload) == {
        "note": "call *******8000",
        "ref": "2138001380001",  # part of a longer number: not a phone number
        "last4": "8000",
    }
    assert "event 1 (claim_made) carries what looks like a full phone number" in caplog.text
    assert "call 13800138000" not in caplog.text
