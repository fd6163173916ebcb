"""One usage-log event as it travels: its field list, its one encoder and its one decoder.

The station encodes rows of its `events` table with msgspec, the payload column passed through
as the JSON text it already is (checked to be an object, never parsed into objects). Central
decodes with `IngestEvent`, a typed msgspec struct (unknown fields refused), keeping the payload
as raw JSON again: nothing at central looks inside it before storing it, so it is checked (an
object, UTF-8, no NUL) and stored as text, never built into Python objects and encoded back.
Decoding a 5 000-event batch this way takes a tenth of what a pydantic model did
(bench/sync.py).
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Iterable, Sequence
from operator import itemgetter
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Raw
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, FiniteFloat, StrictBool

log = logging.getLogger("station.sync")
"""Encoding happens at the station's border, so its complaints go to the sync log."""

FIELDS = (
    "seq",
    "id",
    "type",
    "ts",
    "ts_corrected",
    "mono",
    "boot_id",
    "clock_synced",
    "actor",
    "locker",
    "payload",
)
"""The event's fields in wire order: the station selects its rows in this order."""

Row = Sequence[Any]
"""One event row, its values in FIELDS order."""

TimeSource = Literal["measured", "corrected", "unsynced"]
SEQ_MAX = 2**63 - 1
"""The largest sequence number storage can hold (SQLite INTEGER, PostgreSQL BIGINT): a bigger
one is refused as a 422 instead of overflowing the database driver."""
NUL_REFUSED = "holds a NUL character (\\u0000), which PostgreSQL cannot store"

_PHONE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
"""A mainland China mobile number standing alone (11 digits, 13x..19x)."""
_PHONE_CANDIDATE = re.compile(r"1[3-9][0-9]{9}")
"""The same without the lookarounds: its literal prefix lets the regex engine skip ahead, so
it clears a batch's payloads about twenty times faster than `_PHONE` (which then only looks
at a text that has a candidate)."""

_text = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
"""Compact JSON of any value (telemetry, station id): json.dumps with options builds an encoder
per call."""
_encode = msgspec.json.Encoder().encode
_object_keys = msgspec.json.Decoder(dict[str, Raw]).decode
_json_value = msgspec.json.Decoder(Raw).decode
"""Checks that a text is one JSON value without building it: a third of `_object_keys`' time."""
_TS, _TS_CORRECTED, _MONO, _PAYLOAD = (
    itemgetter(FIELDS.index(f)) for f in ("ts", "ts_corrected", "mono", "payload")
)
"""Parses only a payload's top level: proves it is one JSON object without building its values."""


# --- encoding (the station) -------------------------------------------------------------------


def _finite(value: float | None) -> float:
    """A float the wire can carry (JSON has no inf or NaN; a broken clock must not stop sync)."""
    number = float(value) if value is not None else 0.0
    return number if math.isfinite(number) else 0.0


def may_hold_phone(payloads: Iterable[str]) -> bool:
    """Whether any of these payloads holds what looks like a phone number: one search over a
    whole batch, so `encode_event` need not search each payload (it almost never finds one)."""
    joined = "\n".join(payloads)
    return _PHONE_CANDIDATE.search(joined) is not None and _PHONE.search(joined) is not None


def _payload(seq: int, etype: str, text: str, phone_check: bool = True) -> str:
    """The stored payload if it is a JSON object (it always should be), else a marker.

    One unreadable payload must not block the whole log behind it at central for ever. And a
    full mobile number must never leave the station: one that a component wrongly put in a
    payload is masked to its last four digits here, at the border, and the bug is logged.
    """
    try:
        _object_keys(text)
        ok = True
    except (TypeError, msgspec.DecodeError):
        ok = False
    if not ok:
        log.error("event %d has an unreadable payload; it is sent marked as such", seq)
        return '{"unreadable_payload":true}'
    if phone_check and _PHONE.search(text):
        log.error(
            "event %d (%s) carries what looks like a full phone number; it was masked before "
            "upload. Fix the component that logs it: payloads may hold the last 4 digits only.",
            seq,
            etype,
        )
        return _text(_masked(json.loads(text)))
    return text


def _mask_text(value: str) -> str:
    return _PHONE.sub(lambda m: "*******" + m.group(0)[-4:], value)


def _masked(value: Any) -> Any:
    """The value with every phone number masked, in keys, strings and numbers alike (a number
    becomes the masked string: masking the text in place would leave `*******8000`, not JSON)."""
    if isinstance(value, dict):
        return {_mask_text(k): _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    if isinstance(value, str):
        return _mask_text(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        written = _text(value)
        return _mask_text(written) if _PHONE.search(written) else value
    return value


class _OutEvent(msgspec.Struct, gc=False):
    """The encoder's view of one event: the same fields as WireEvent, payload as raw JSON.
    Untracked by the garbage collector (`gc=False`: scalars and text cannot form a cycle), so
    a batch's 5 000 of them do not set off collections over the whole heap."""

    seq: int
    id: str
    type: str
    ts: float
    ts_corrected: float | None
    mono: float
    boot_id: str
    clock_synced: bool
    actor: str
    locker: str | None
    payload: Raw


def encode_event(row: Row, phone_check: bool = True) -> bytes:
    """One row (FIELDS order, payload as JSON text) as the JSON object central decodes;
    `phone_check=False` when `may_hold_phone` already cleared the batch's payloads."""
    seq, eid, etype, ts, ts_corr, mono, boot, synced, actor, locker, payload = row
    seq = int(seq)
    return _encode(
        _OutEvent(
            seq,
            eid,
            etype,
            _finite(ts),
            None if ts_corr is None else _finite(ts_corr),
            _finite(mono),
            boot,
            bool(synced),
            actor,
            locker,
            Raw(_payload(seq, etype, payload, phone_check).encode()),
        )
    )


def encode_events(rows: Sequence[Row]) -> bytes:
    """The JSON array of these rows' events, the same bytes as `encode_event` of each joined
    with commas, in one encoder call. What `encode_event` checks per row is done once for the
    whole list where that is cheaper: one phone search over every payload, and one sum per time
    column (a sum is finite only if every term is) instead of three `_finite` calls per event.
    A list that fails either check goes row by row, as `encode_event` does."""
    check = may_hold_phone(map(_PAYLOAD, rows))
    try:
        corrected = [v for v in map(_TS_CORRECTED, rows) if v is not None]
        finite = math.isfinite(sum(map(_TS, rows)) + sum(map(_MONO, rows)) + sum(corrected))
    except (TypeError, OverflowError):
        finite = False
    if check or not finite:
        return b"[" + b",".join(encode_event(row, check) for row in rows) + b"]"
    events = []
    for seq, eid, etype, ts, ts_corr, mono, boot, synced, actor, locker, payload in rows:
        # One JSON value that starts with a brace is an object; anything else (a leading
        # space included) goes through `_payload`, which says what it is.
        try:
            valid = payload[:1] == "{" and _json_value(payload) is not None
        except (TypeError, msgspec.DecodeError):
            valid = False
        raw = Raw(payload) if valid else Raw(_payload(int(seq), etype, payload, False).encode())
        events.append(
            _OutEvent(
                int(seq), eid, etype, ts, ts_corr, mono, boot, bool(synced), actor, locker, raw
            )
        )
    return _encode(events)


def text(value: Any) -> str:
    """Compact JSON text of any value, as the encoder writes it."""
    return _text(value)


# --- decoding (central) -----------------------------------------------------------------------


def has_nul(value: Any) -> bool:
    """Whether a string, or any key or string inside a JSON value, holds a NUL character."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    return False


class IncomingEvent(msgspec.Struct, frozen=True, gc=False):
    """One usage-log event as the station sent it; `payload` is JSON object text. A msgspec
    struct rather than a dataclass: central builds one per event received, and a frozen
    dataclass's __init__ costs several times a struct's. Untracked by the garbage collector
    (scalars and text cannot form a cycle): in a catch-up, collections set off by a batch's
    structs over central's whole heap cost as much again as decoding it (bench/sync.py)."""

    seq: int
    id: str
    type: str
    ts: float
    ts_corrected: float | None
    mono: float
    boot_id: str
    clock_synced: bool
    actor: str
    locker: str | None
    payload: str

    @property
    def time_source(self) -> TimeSource:
        """Measured: the clock was synchronised. Corrected: the station fixed it afterwards from
        a synchronised time of the same boot. Unsynced: nobody could; `ts` may be far off."""
        if self.clock_synced:
            return "measured"
        return "corrected" if self.ts_corrected is not None else "unsynced"

    @property
    def time(self) -> float:
        """The best time known for the event, the one queries filter and sort on."""
        if not self.clock_synced and self.ts_corrected is not None:
            return self.ts_corrected
        return self.ts


Id = Annotated[str, Meta(min_length=1, max_length=64)]
_TEXTS = ("id", "type", "boot_id", "actor", "locker")


def _finite_or_none(event: Any, name: str) -> bool:
    value = getattr(event, name)
    return value is None or math.isfinite(value)


class IngestEvent(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True, gc=False):
    """The decoder: one event of an ingest batch, typed field by field (msgspec checks types,
    ranges and lengths in C; `incoming` checks what a type cannot say). The same fields and
    rules as `WireEvent`, which documents them (tests/wire/test_contract.py holds them equal)."""

    seq: Annotated[int, Meta(ge=1, le=SEQ_MAX)]
    id: Id
    type: Id
    ts: float
    ts_corrected: float | None = None
    mono: float
    boot_id: Id
    clock_synced: bool
    actor: Annotated[str, Meta(min_length=1, max_length=128)]
    locker: Annotated[str, Meta(max_length=32)] | None = None
    payload: Annotated[Raw, Meta(extra_json_schema={"type": "object"})]
    """The payload's JSON exactly as sent; `incoming` proves it an object."""

    def incoming(self, where: str) -> IncomingEvent:
        """The storage record; ValueError naming `where` (e.g. `events[3]`) and the field when
        a float is not finite, a text holds NUL (PostgreSQL cannot store it) or the payload is
        not a JSON object in UTF-8."""
        if not (math.isfinite(self.ts) and math.isfinite(self.mono)) or (
            self.ts_corrected is not None and not math.isfinite(self.ts_corrected)
        ):
            bad = next(n for n in ("ts", "mono", "ts_corrected") if not _finite_or_none(self, n))
            raise ValueError(f"{where}.{bad}: must be a finite number")
        if "\x00" in f"{self.id}{self.type}{self.boot_id}{self.actor}{self.locker or ''}":
            bad = next(n for n in _TEXTS if "\x00" in (getattr(self, n) or ""))
            raise ValueError(f"{where}.{bad}: {NUL_REFUSED}")
        raw = bytes(self.payload)
        if raw[:1] != b"{":
            raise ValueError(f"{where}.payload: must be a JSON object")
        try:
            payload = raw.decode()
        except UnicodeDecodeError:
            raise ValueError(f"{where}.payload: is not UTF-8 text") from None
        # JSON text cannot hold a raw NUL; an escaped one is looked for in the decoded value
        # (the six characters may also be an escaped backslash followed by "u0000").
        if "\\u0000" in payload and has_nul(json.loads(payload)):
            raise ValueError(f"{where}.payload: {NUL_REFUSED}")
        return IncomingEvent(
            self.seq,
            self.id,
            self.type,
            self.ts,
            self.ts_corrected,
            self.mono,
            self.boot_id,
            self.clock_synced,
            self.actor,
            self.locker,
            payload,
        )


def _no_nul(value: Any) -> Any:
    if has_nul(value):
        raise ValueError(NUL_REFUSED)
    return value


NoNul = AfterValidator(_no_nul)
"""PostgreSQL text and jsonb cannot hold NUL: refused on either backend."""


class WireEvent(BaseModel):
    """One event as it travels, as a pydantic model: what the station's API shows its log as,
    and what the OpenAPI documents describe. Central decodes with `IngestEvent`, the same
    rules in msgspec (a tenth of the cost on a 5 000-event batch)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seq: Annotated[int, Field(ge=1, le=SEQ_MAX)]
    id: Annotated[str, Field(min_length=1, max_length=64), NoNul]
    type: Annotated[str, Field(min_length=1, max_length=64), NoNul]
    ts: FiniteFloat
    ts_corrected: FiniteFloat | None = None
    mono: FiniteFloat
    boot_id: Annotated[str, Field(min_length=1, max_length=64), NoNul]
    clock_synced: StrictBool
    actor: Annotated[str, Field(min_length=1, max_length=128), NoNul]
    locker: Annotated[str, Field(max_length=32), NoNul] | None = None
    payload: Annotated[dict[str, Any], NoNul]
