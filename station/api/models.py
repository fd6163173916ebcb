"""Request and response bodies of the core API (pydantic), so OpenAPI documents every route."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from station.api.text import FreeText, Strict
from wire.event import WireEvent


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    station: str
    boards_online: int
    boards_total: int
    version: str
    """The software running: `station update` waits for it after switching versions."""
    quiet: bool
    """No door open or opening and no door flow under way: `station update` switches
    versions only then, so nobody standing at a locker sees the daemon restart."""


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


def documented(model: type[BaseModel]) -> dict[str, Any]:
    """An entry of a route's `responses=` that describes `model` as the JSON body, for the
    OpenAPI description only.

    FastAPI turns each `{"model": M}` entry into a pydantic field of its own (a TypeAdapter
    with its validator and serializer) on every route, although only the description reads
    them: the station's ~230 refusal entries cost the daemon 1.5 MB of RSS (docs/benchmarks.md).
    The schema is written out once per model instead, and every entry shares it."""
    schema = _SCHEMAS.get(model)
    if schema is None:
        schema = model.model_json_schema()
        if "$defs" in schema:  # a nested model would need its definitions in components
            raise ValueError(f"{model.__name__}: only flat models can be documented inline")
        _SCHEMAS[model] = schema
    return {"content": {"application/json": {"schema": schema}}}


_SCHEMAS: dict[type[BaseModel], dict[str, Any]] = {}
