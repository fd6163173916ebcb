"""Limits the central server enforces on what stations and the office send it."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class CentralSettings(BaseModel):
    """Defaults fit a 4G station's batches (a few hundred KiB gzipped) with a wide margin."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_body_bytes: Annotated[int, Field(ge=1024)] = 16 * 1024 * 1024
    """Largest request body as received (gzipped or not); bigger is refused with 413."""
    max_inflated_bytes: Annotated[int, Field(ge=1024)] = 128 * 1024 * 1024
    """Largest body after gunzip: a guard against gzip bombs."""
    max_batch_events: Annotated[int, Field(ge=1)] = 50_000
    max_page: Annotated[int, Field(ge=1)] = 1000
    """Most events one query page returns."""
    max_telemetry_bytes: Annotated[int, Field(ge=256)] = 64 * 1024
    """A bigger telemetry snapshot is dropped (the batch's events are still stored)."""
