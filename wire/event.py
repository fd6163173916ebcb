"""One usage-log event as it travels: its field list, its one encoder and its one decoder.

The station encodes rows of its `events` table straight to JSON text (the payload column
already is JSON) instead of building objects: a 100 000-event backlog is encoded in well under
a second on a Pi. Central decodes with `WireEvent` (unknown fields refused) into `IncomingEvent`,
the record its storage backends take.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

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

_text = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
"""One encoder for every string and payload: json.dumps with options builds one per call."""


# --- encoding (the station) -------------------------------------------------------------------


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


def encode_event(row: Row) -> str:
    """One row (FIELDS order, payload as JSON text) as the JSON object central decodes."""
    seq, eid, etype, ts, ts_corr, mono, boot, synced, actor, locker, payload = row
    return (
        f'{{"seq":{int(seq)},"id":{_text(eid)},"type":{_text(etype)},"ts":{_number(ts)},'
        f'"ts_corrected":{"null" if ts_corr is None else _number(ts_corr)},'
        f'"mono":{_number(mono)},"boot_id":{_text(boot)},'
        f'"clock_synced":{"true" if synced else "false"},"actor":{_text(actor)},'
        f'"locker":{"null" if locker is None else _text(locker)},'
        f'"payload":{_payload(int(seq), etype, payload)}}}'
    )


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


def _no_nul(value: Any) -> Any:
    if has_nul(value):
        raise ValueError(NUL_REFUSED)
    return value


NoNul = AfterValidator(_no_nul)
"""PostgreSQL text and jsonb cannot hold NUL: refused (422) on either backend, so a station
learns it from the answer instead of a 500 its retries can never get past."""


@dataclass(frozen=True, slots=True)
class IncomingEvent:
    """One usage-log event as the station sent it; `payload` is JSON object text."""

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


class WireEvent(BaseModel):
    """The decoder: one event of an ingest batch, checked field by field."""

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

    def incoming(self) -> IncomingEvent:
        return IncomingEvent(
            seq=self.seq,
            id=self.id,
            type=self.type,
            ts=self.ts,
            ts_corrected=self.ts_corrected,
            mono=self.mono,
            boot_id=self.boot_id,
            clock_synced=self.clock_synced,
            actor=self.actor,
            locker=self.locker,
            payload=_text(self.payload),
        )
