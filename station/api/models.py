"""Request and response bodies of the core API (pydantic), so OpenAPI documents every route."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from station.api.text import FreeText, Strict


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    station: str
    boards_online: int
    boards_total: int


class LockerView(BaseModel):
    id: str
    board: str
    channel: int
    size: str
    purpose: str
    door: Literal["open", "closed", "unknown"]
    faulty: bool
    fault_reason: str | None
    board_online: bool
    opening: bool


class OpenRequest(Strict):
    reason: FreeText = Field(min_length=2, max_length=200, description="Why the door is opened")
    allow_faulty: bool = Field(
        default=False, description="Open a locker marked faulty (staff inspecting it)"
    )


class OpenResponse(BaseModel):
    locker: str
    unlock_seq: int
    confirmed: bool = Field(description="False when the board's answer was lost: watch the door")
    door: Literal["open", "closed", "unknown"]


class ReleaseRequest(Strict):
    note: FreeText = Field(min_length=2, max_length=200)


class Alarm(BaseModel):
    id: int
    type: str
    subject: str
    state: Literal["raised", "acknowledged", "cleared"]
    detail: str
    raised_at: float
    acked_by: str | None
    acked_at: float | None
    cleared_at: float | None


class AckRequest(Strict):
    note: FreeText = Field(default="", max_length=200)


class EventOut(BaseModel):
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
    payload: dict[str, Any]


class EventPage(BaseModel):
    events: list[EventOut]
    next_after: int = Field(description="Pass as ?after= to get the next page")
    more: bool


class Problem(BaseModel):
    detail: str
