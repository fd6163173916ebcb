"""The ingest request as central accepts it: the contract with station/sync_wire.py.

Unknown fields are refused rather than dropped: a station newer than central keeps its events
(it only advances on an acknowledgement) until central is upgraded, and nothing is half-stored.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    FiniteFloat,
    StrictBool,
    model_validator,
)

from central.storage.base import IncomingEvent

_payload_text = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
"""One encoder for every payload: json.dumps with options builds a new encoder per call."""

StationId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
NUL_REFUSED = "holds a NUL character (\\u0000), which PostgreSQL cannot store"


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
SEQ_MAX = 2**63 - 1
"""The largest sequence number storage can hold (SQLite INTEGER, PostgreSQL BIGINT): a bigger
one is refused as a 422 instead of overflowing the database driver."""


class WireEvent(BaseModel):
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
            payload=_payload_text(self.payload),
        )


class IngestBatch(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    station: StationId
    after: Annotated[int, Field(ge=0, le=SEQ_MAX)]
    """The station's event right before the first one here (its cursor): nothing lies between."""
    events: list[WireEvent] = []
    telemetry: dict[str, Any] | None = None
    """A compact snapshot of the station's state; also the heartbeat when `events` is empty."""

    @model_validator(mode="after")
    def _ordered(self) -> IngestBatch:
        previous = self.after
        for i, e in enumerate(self.events):
            if e.seq <= previous:
                raise ValueError(
                    f"events[{i}].seq {e.seq} must be greater than {previous} (the batch's "
                    "'after' or the event before it): send events in log order"
                )
            previous = e.seq
        return self
