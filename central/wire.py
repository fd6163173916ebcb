"""The ingest request as central accepts it: the contract with station/sync_wire.py.

Unknown fields are refused rather than dropped: a station newer than central keeps its events
(it only advances on an acknowledgement) until central is upgraded, and nothing is half-stored.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, FiniteFloat, StrictBool, model_validator

from central.storage.base import IncomingEvent

_payload_text = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
"""One encoder for every payload: json.dumps with options builds a new encoder per call."""

StationId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
SEQ_MAX = 2**63 - 1
"""The largest sequence number storage can hold (SQLite INTEGER, PostgreSQL BIGINT): a bigger
one is refused as a 422 instead of overflowing the database driver."""


class WireEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    seq: Annotated[int, Field(ge=1, le=SEQ_MAX)]
    id: Annotated[str, Field(min_length=1, max_length=64)]
    type: Annotated[str, Field(min_length=1, max_length=64)]
    ts: FiniteFloat
    ts_corrected: FiniteFloat | None = None
    mono: FiniteFloat
    boot_id: Annotated[str, Field(min_length=1, max_length=64)]
    clock_synced: StrictBool
    actor: Annotated[str, Field(min_length=1, max_length=128)]
    locker: Annotated[str, Field(max_length=32)] | None = None
    payload: dict[str, Any]

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
