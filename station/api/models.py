"""Request and response bodies of the core API (pydantic), so OpenAPI documents every route."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from station.api.text import FreeText, Strict
from wire.event import WireEvent


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
    item_present: bool | None = Field(
        default=None,
        description="The compartment's item sensor (cu boards with item_sensor = true): "
        "null where there is none or it cannot be read now",
    )


class OpenRequest(Strict):
    reason: FreeText = Field(min_length=2, max_length=200, description="Why the door is opened")
    allow_faulty: bool = Field(
        default=False, description="Open a locker marked faulty (staff inspecting it)"
    )


class OpenResponse(BaseModel):
    locker: str
    unlock_seq: int
    confirmed: bool = Field(description="False when the board's answer was lost: watch the door")
    door: Literal["open", "unknown"] = Field(
        description="open if already seen open, else unknown until the boards show it"
    )


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


class EventPage(BaseModel):
    events: list[WireEvent]
    """Each event exactly as it travels to central (wire/event.py)."""
    next_after: int = Field(description="Pass as ?after= to get the next page")
    more: bool


class Problem(BaseModel):
    detail: str
