"""Events central cannot store are quarantined, so one bad event never wedges a station's sync.

The usage log is append-only and uploaded in order: if central refused a whole batch for one
event it cannot hold (a NUL, which PostgreSQL refuses; a lone surrogate, which no UTF-8 store
holds; a payload over the size limit), the station would send that batch again for ever and
nothing after it would ever arrive. Instead
that one event is stored *in its place* as a `quarantined` event: same station, seq and id (so
the sequence stays contiguous, a resend is recognised, and the acknowledgement moves on), its
original kept as escaped ASCII text for the office to look at, and the reason. The office sees
them in the event query (type `quarantined`) and each ingest answer counts them. An event of
the wrong shape (unknown fields, wrong types) is not quarantined: that is a station speaking
another protocol, and the whole batch is refused (422) so someone fixes it.

Pure functions: the ingest route calls `parse_batch` off the event loop.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import msgspec

from wire.batch import BatchError, IngestBatch, decode_batch
from wire.event import NUL_REFUSED, SEQ_MAX, IncomingEvent, IngestEvent

QUARANTINED = "quarantined"
ORIGINAL_MAX_CHARS = 4096
"""How much of a quarantined event's original is kept (escaped) for the office."""
_decode_event = msgspec.json.Decoder(IngestEvent).decode


class BatchRefused(ValueError):
    """The batch as a whole is wrong (not one event of it): 400 or 422 with this message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class ParsedBatch:
    batch: IngestBatch
    events: list[IncomingEvent]
    quarantined: list[tuple[int, str]]
    """(seq, reason) of each event stored as quarantined."""


def parse_batch(raw: bytes, max_event_bytes: int) -> ParsedBatch:
    """Decode a batch; events that fail their own checks become quarantined placeholders."""
    reasons: dict[int, str] = {}
    try:
        batch, events = decode_batch(raw)
    except BatchError as exc:
        batch, events = _with_placeholders(raw, reasons, exc)
    for i, e in enumerate(events):
        if len(e.payload) > max_event_bytes:
            size = len(e.payload.encode())
            reasons[i] = f"payload of {size} bytes is over the limit of {max_event_bytes} bytes"
            events[i] = _placeholder_event(_as_dict(e), reasons[i])
    quarantined = [(events[i].seq, reason) for i, reason in sorted(reasons.items())]
    return ParsedBatch(batch, events, quarantined)


def _with_placeholders(
    raw: bytes, reasons: dict[int, str], exc: BatchError
) -> tuple[IngestBatch, list[IncomingEvent]]:
    """The slow path, for a batch the fast decoder refused: find the events that are wrong on
    their own for what they hold and put placeholders in their place; refuse the batch if
    anything else is wrong."""
    whole = BatchRefused(
        400 if exc.invalid_json else 422,
        str(exc) if exc.invalid_json else f"batch refused: {exc}",
    )
    try:
        data = json.loads(raw)  # lenient where the fast decoder is not: lone surrogates
    except ValueError:
        raise whole from None
    events = data.get("events") if isinstance(data, dict) else None
    if not isinstance(events, list):
        raise whole
    for i, original in enumerate(events):
        problem = _surrogate(original) or _unstorable(original, i, whole)
        if problem is not None:
            try:
                events[i] = _placeholder(original, problem)
            except _Unplaceable:
                raise whole from None
            reasons[i] = problem
    if not reasons:
        raise whole
    try:
        return decode_batch(json.dumps(data).encode())
    except BatchError as still:
        raise BatchRefused(422, f"batch refused: {still}") from None


def _unstorable(original: Any, i: int, whole: BatchRefused) -> str | None:
    """Why this event holds text no store can keep (a NUL), or None if it is fine. Only that
    is quarantined; an event of the wrong shape (unknown fields, wrong types) is a station of
    another protocol, which must hear a 422, not lose its log here."""
    try:
        _decode_event(json.dumps(original).encode()).incoming(f"events[{i}]")
    except msgspec.ValidationError:
        raise whole from None
    except ValueError as bad:
        if NUL_REFUSED in str(bad):
            return str(bad)
        raise whole from None
    return None


def _as_dict(e: IncomingEvent) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "id": e.id,
        "type": e.type,
        "ts": e.ts,
        "payload_bytes": len(e.payload.encode()),
        "payload_start": e.payload[:200],
    }


def _surrogate(value: Any, where: str = "event") -> str | None:
    """Where a lone UTF-16 surrogate is (no UTF-8 store can hold one), or None."""
    if isinstance(value, str):
        if any("\ud800" <= ch <= "\udfff" for ch in value):
            return f"{where}: text holds a lone UTF-16 surrogate"
        return None
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _surrogate(key, where) or _surrogate(item, f"{where}.{key}")
        if found:
            return found
    return None


class _Unplaceable(Exception):
    """An event without a usable seq cannot stand in its place: the batch is refused."""


def _placeholder(original: Any, reason: str) -> dict[str, Any]:
    if not isinstance(original, dict):
        raise _Unplaceable
    seq = original.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or not 1 <= seq <= SEQ_MAX:
        raise _Unplaceable
    eid = original.get("id")
    clean_id = isinstance(eid, str) and 0 < len(eid) <= 64 and eid.isprintable()
    ts = original.get("ts")
    finite = isinstance(ts, int | float) and not isinstance(ts, bool) and math.isfinite(ts)
    return {
        "seq": seq,
        "id": eid if clean_id else f"quarantined-{seq}",
        "type": QUARANTINED,
        "ts": float(ts) if finite else 0.0,
        "ts_corrected": None,
        "mono": 0.0,
        "boot_id": QUARANTINED,
        "clock_synced": False,
        "actor": "central",
        "locker": None,
        "payload": {
            "reason": reason,
            "original": json.dumps(original, ensure_ascii=True)[:ORIGINAL_MAX_CHARS],
        },
    }


def _placeholder_event(original: dict[str, Any], reason: str) -> IncomingEvent:
    return _decode_event(json.dumps(_placeholder(original, reason)).encode()).incoming("event")
