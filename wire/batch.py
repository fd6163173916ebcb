"""The ingest batch and central's answer: what one upload carries, both ways.

The station builds a batch with `encode_batch` (rows in log order, as many as fit, gzipped at
level 1: a third of level 6's time for a few percent more bytes); central decodes it with
`decode_batch` (msgspec, typed, into `IngestBatch`) and answers with the highest sequence it holds
contiguously, which the station reads back with `decode_ack`. Unknown fields are refused rather
than dropped: a station newer than central keeps its events (it only advances on an
acknowledgement) until central is upgraded, and nothing is half-stored.
"""

from __future__ import annotations

import gzip
import json
import math
import operator
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from msgspec import Meta
from pydantic import Field

from wire.event import (
    SEQ_MAX,
    IncomingEvent,
    IngestEvent,
    Row,
    encode_event,
    encode_events,
    may_hold_phone,
    text,
)

STATION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
StationId = Annotated[str, Field(pattern=STATION_PATTERN)]
"""A station id as an API parameter (FastAPI validates it with pydantic)."""


class AnswerError(ValueError):
    """Central's answer is not one this station can act on; the message says what it was."""


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


def encode_batch(
    station: str,
    after: int,
    rows: Iterable[Row],
    max_bytes: int,
    telemetry: dict[str, Any] | None,
    gzip_level: int = 1,
) -> Batch:
    """Take rows in order until max_bytes of JSON (at least one row), then gzip the batch."""
    head = f'{{"station":{text(station)},"after":{int(after)},"telemetry":'
    head += (text(telemetry) if telemetry is not None else "null") + ',"events":['
    rows = list(rows)
    events = encode_events(rows)
    if len(head) + len(events) < max_bytes or len(rows) <= 1:
        count, joined = len(rows), events[1:-1]
    else:
        count, joined = _fitting(rows, max_bytes - len(head) - 2)
    first = int(rows[0][0]) if count else 0
    last = int(rows[count - 1][0]) if count else 0
    raw = head.encode() + joined + b"]}"
    return Batch(
        after=after,
        first_seq=first,
        last_seq=last,
        count=count,
        raw_bytes=len(raw),
        body=gzip.compress(raw, compresslevel=gzip_level, mtime=0),
    )


def _fitting(rows: list[Row], room: int) -> tuple[int, bytes]:
    """How many of the rows fit in `room` bytes of events (at least one), and their JSON."""
    parts: list[bytes] = []
    size = 0
    check = may_hold_phone(row[10] for row in rows)
    for row in rows:
        encoded = encode_event(row, check)
        if parts and size + len(encoded) + 1 > room:
            break
        parts.append(encoded)
        size += len(encoded) + 1
    return len(parts), b",".join(parts)


class IngestBatch(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """What one upload carries, as central decodes it (`decode_batch`)."""

    station: Annotated[str, Meta(pattern=STATION_PATTERN)]
    after: Annotated[int, Meta(ge=0, le=SEQ_MAX)]
    """The station's event right before the first one here (its cursor): nothing lies between."""
    events: list[IngestEvent] = []
    telemetry: dict[str, Any] | None = None
    """A compact snapshot of the station's state; also the heartbeat when `events` is empty."""


class BatchError(ValueError):
    """A body central cannot take; `invalid_json` tells a broken body (400) from a batch that
    breaks a rule (422). The message names the field and what it must be."""

    def __init__(self, message: str, invalid_json: bool = False) -> None:
        super().__init__(message)
        self.invalid_json = invalid_json


_decode = msgspec.json.Decoder(IngestBatch).decode
_SEQ, _TS, _TS_CORRECTED, _MONO = (
    operator.attrgetter(f) for f in ("seq", "ts", "ts_corrected", "mono")
)


def decode_batch(raw: bytes) -> tuple[IngestBatch, list[IncomingEvent]]:
    """The batch and its events as storage records, in log order; BatchError if refused."""
    try:
        batch = _decode(raw)
    except msgspec.ValidationError as exc:
        raise BatchError(str(exc).replace("`$.", "`")) from None
    except msgspec.DecodeError as exc:
        raise BatchError(f"body is not valid JSON ({exc})", invalid_json=True) from None
    events = _checked(batch, raw)
    if events is not None:
        return batch, events
    previous = batch.after
    events = []
    for i, e in enumerate(batch.events):
        if e.seq <= previous:
            raise BatchError(
                f"events[{i}].seq {e.seq} must be greater than {previous} (the batch's "
                "'after' or the event before it): send events in log order"
            )
        previous = e.seq
        try:
            events.append(e.incoming(f"events[{i}]"))
        except ValueError as exc:
            raise BatchError(str(exc)) from None
    return batch, events


def _checked(batch: IngestBatch, raw: bytes) -> list[IncomingEvent] | None:
    """The storage records of a batch that passes what `IngestEvent.incoming` checks, checked
    for the whole batch at once; None if any event may fail, and the caller goes event by
    event to say which and why. A sum is finite only if every term is; JSON cannot carry a raw
    NUL, so a body without an escaped one holds none; a payload is an object if its text starts
    with a brace (the decoder has proved it one JSON value)."""
    found = batch.events
    if not found or b"\\u0000" in raw:
        return None
    seqs = list(map(_SEQ, found))
    if not all(map(operator.lt, [batch.after, *seqs], seqs)):
        return None
    corrected = [v for v in map(_TS_CORRECTED, found) if v is not None]
    times = sum(map(_TS, found)) + sum(map(_MONO, found)) + sum(corrected)
    if not math.isfinite(times):
        return None
    try:
        events = [
            IncomingEvent(
                e.seq,
                e.id,
                e.type,
                e.ts,
                e.ts_corrected,
                e.mono,
                e.boot_id,
                e.clock_synced,
                e.actor,
                e.locker,
                str(e.payload, "utf-8"),
            )
            for e in found
        ]
    except UnicodeDecodeError:
        return None
    if not all(e.payload[:1] == "{" for e in events):
        return None
    return events


def batch_schema(ref_template: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The JSON Schema of an ingest body and the definitions it refers to (for OpenAPI)."""
    _, components = msgspec.json.schema_components([IngestBatch], ref_template=ref_template)
    return components.pop("IngestBatch"), components


def decode_ack(status: int, body: bytes, station: str) -> Ack:
    """Central's 200 answer to a batch; AnswerError if it is anything else."""
    if status != 200:
        raise AnswerError(f"unexpected HTTP status {status}")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        # (RecursionError: JSON nested thousands deep, which only a broken proxy sends.)
        preview = body[:60].decode("utf-8", "replace")
        raise AnswerError(f"answer is not JSON: {preview!r}") from None
    if not isinstance(data, dict):
        raise AnswerError("answer is not a JSON object")
    acked = data.get("acked_seq")
    if not isinstance(acked, int) or isinstance(acked, bool) or acked < 0:
        raise AnswerError(f"answer has no valid acked_seq (got {acked!r})")
    if data.get("station") != station:
        raise AnswerError(f"answer is for station {data.get('station')!r}, not {station!r}")
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
