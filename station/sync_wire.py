"""The uplink's bytes: usage-log rows to a gzipped JSON batch, central's answer to an ack.

Pure functions, so the format is tested without a network and matches central/wire.py exactly.
Rows are written straight to JSON text (the payload column already is JSON) instead of going
through Event objects: a 100 000-event backlog is encoded in well under a second on a Pi.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from station.sync_errors import SyncProtocolError

log = logging.getLogger("station.sync")

EVENT_SELECT = (
    "SELECT seq, id, type, ts, ts_corrected, mono, boot_id, clock_synced, actor, locker, payload"
    " FROM events WHERE seq > ? ORDER BY seq LIMIT ?"
)
Row = Sequence[Any]
"""One row of EVENT_SELECT."""

_PHONE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
"""A mainland China mobile number standing alone (11 digits, 13x..19x)."""

_text = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@dataclass(frozen=True, slots=True)
class Batch:
    after: int
    first_seq: int
    last_seq: int
    count: int
    raw_bytes: int
    body: bytes
    """gzip-compressed JSON."""


@dataclass(frozen=True, slots=True)
class Ack:
    acked_seq: int
    stored: int
    duplicates: int
    server_time: float | None


def _number(value: float) -> str:
    number = float(value)
    return repr(number) if math.isfinite(number) else "0.0"


def _payload(seq: int, etype: str, text: str) -> str:
    """The stored payload if it is a JSON object (it always should be), else a marker.

    One unreadable payload must not block the whole log behind it at central for ever. And a
    full mobile number must never leave the station: one that a component wrongly put in a
    payload is masked to its last four digits here, at the border, and the bug is logged.
    """
    try:
        ok = isinstance(json.loads(text), dict)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        log.error("event %d has an unreadable payload; it is sent marked as such", seq)
        return '{"unreadable_payload":true}'
    if _PHONE.search(text):
        log.error(
            "event %d (%s) carries what looks like a full phone number; it was masked before "
            "upload. Fix the component that logs it: payloads may hold the last 4 digits only.",
            seq,
            etype,
        )
        return _PHONE.sub(lambda m: "*******" + m.group(0)[-4:], text)
    return text


def event_json(row: Row) -> str:
    seq, eid, etype, ts, ts_corr, mono, boot, synced, actor, locker, payload = row
    return (
        f'{{"seq":{int(seq)},"id":{_text(eid)},"type":{_text(etype)},"ts":{_number(ts)},'
        f'"ts_corrected":{"null" if ts_corr is None else _number(ts_corr)},'
        f'"mono":{_number(mono)},"boot_id":{_text(boot)},'
        f'"clock_synced":{"true" if synced else "false"},"actor":{_text(actor)},'
        f'"locker":{"null" if locker is None else _text(locker)},'
        f'"payload":{_payload(int(seq), etype, payload)}}}'
    )


def encode_batch(
    station: str,
    after: int,
    rows: Iterable[Row],
    max_bytes: int,
    telemetry: dict[str, Any] | None,
    gzip_level: int = 6,
) -> Batch:
    """Take rows in order until max_bytes of JSON (at least one row), then gzip the batch."""
    head = f'{{"station":{_text(station)},"after":{int(after)},"telemetry":'
    head += (_text(telemetry) if telemetry is not None else "null") + ',"events":['
    parts: list[bytes] = []
    size = len(head) + 2
    first = last = 0
    for row in rows:
        encoded = event_json(row).encode()
        if parts and size + len(encoded) + 1 > max_bytes:
            break
        parts.append(encoded)
        size += len(encoded) + 1
        last = int(row[0])
        if not first:
            first = last
    raw = head.encode() + b",".join(parts) + b"]}"
    return Batch(
        after=after,
        first_seq=first,
        last_seq=last,
        count=len(parts),
        raw_bytes=len(raw),
        body=gzip.compress(raw, compresslevel=gzip_level, mtime=0),
    )


def decode_ack(status: int, body: bytes, station: str) -> Ack:
    """Central's 200 answer to a batch; SyncProtocolError if it is anything else."""
    if status != 200:
        raise SyncProtocolError(f"unexpected HTTP status {status}")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        # (RecursionError: JSON nested thousands deep, which only a broken proxy sends.)
        preview = body[:60].decode("utf-8", "replace")
        raise SyncProtocolError(f"answer is not JSON: {preview!r}") from None
    if not isinstance(data, dict):
        raise SyncProtocolError("answer is not a JSON object")
    acked = data.get("acked_seq")
    if not isinstance(acked, int) or isinstance(acked, bool) or acked < 0:
        raise SyncProtocolError(f"answer has no valid acked_seq (got {acked!r})")
    if data.get("station") != station:
        raise SyncProtocolError(f"answer is for station {data.get('station')!r}, not {station!r}")
    server_time = data.get("server_time")
    usable = isinstance(server_time, int | float) and not isinstance(server_time, bool)
    if not usable or not math.isfinite(server_time):
        server_time = None
    return Ack(
        acked_seq=acked,
        stored=_count(data.get("stored")),
        duplicates=_count(data.get("duplicates")),
        server_time=float(server_time) if server_time is not None else None,
    )


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def error_detail(body: bytes) -> str:
    """The `detail` of an error answer, or the start of whatever came back instead."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return body[:200].decode("utf-8", "replace").strip()
    if isinstance(data, dict) and isinstance(data.get("detail"), str):
        return data["detail"]
    return str(data)[:200]
