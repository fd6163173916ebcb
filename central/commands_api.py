"""The office's commands to stations: queued here, fetched by each station in its sync exchange.

A station is never reachable from central (4G NAT), so a command waits until the station asks
for its commands; the station reports each one's result later in the same way. Only an office
token with the operator role may queue a command, and every command names its issuer (the
token's name) and a reason, which the station writes into its own usage log beside the door
opening; central logs the same line when the command is queued and when its result arrives.
"""

import logging
import secrets
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from central.storage.base import Storage, TokenRecord, UnknownStation
from wire.batch import StationId
from wire.bundle import describe_errors
from wire.commands import (
    RESULT_DATA_MAX_BYTES,
    Command,
    CommandRequest,
    ResultBatch,
)

log = logging.getLogger("central.commands")

Holder = Callable[..., Coroutine[Any, Any, TokenRecord]]
_BODY_MAX = 2 * RESULT_DATA_MAX_BYTES * 100


def install_commands(
    app: FastAPI,
    storage: Storage,
    clock: Callable[[], float],
    station: Holder,
    office: Holder,
) -> None:
    """Add the command routes; `station` and `office` are the app's token dependencies."""
    router = APIRouter()
    Office = Annotated[TokenRecord, Depends(office)]
    StationToken = Annotated[TokenRecord, Depends(station)]

    @router.post("/api/v1/stations/{station_id}/commands", status_code=201, tags=["commands"])
    async def queue(station_id: StationId, body: CommandRequest, who: Office) -> dict[str, Any]:
        """Queue a command for one station (operator role)."""
        if who.role != "operator":
            raise HTTPException(
                403,
                f"office token '{who.subject}' may only read; commands need an operator token "
                "(station central office-token NAME --role operator)",
            )
        now = clock()
        command = Command(
            id=secrets.token_hex(16),
            station=station_id,
            issuer=who.subject,
            reason=body.reason,
            issued_at=now,
            expires_at=now + body.expires_in_s,
            action=body.action,
        )
        try:
            await run_in_threadpool(storage.add_command, command, now)
        except UnknownStation:
            raise HTTPException(404, f"no station {station_id} is registered") from None
        log.info(
            "command %s queued for %s by %s: %s (%s)",
            command.id,
            station_id,
            who.subject,
            _describe(command),
            command.reason,
        )
        return {"command": command.model_dump(mode="json"), "status": "pending"}

    @router.get("/api/v1/commands", tags=["commands"])
    async def listing(
        _: Office,
        station: StationId | None = None,
        status: Literal["pending", "done", "refused", "failed"] | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        """Commands, newest first, with their results; and pending/done counts per station."""
        rows = await run_in_threadpool(storage.commands, station, status, limit)
        counts = await run_in_threadpool(storage.command_counts)
        return {"commands": rows, "counts": counts}

    @router.get("/api/v1/station/commands", tags=["commands"])
    async def fetch(who: StationToken) -> dict[str, Any]:
        """The calling station's commands still without a result (its journal skips repeats)."""
        bodies = await run_in_threadpool(storage.pending_commands, who.subject, clock())
        return {
            "commands": [Command.model_validate_json(b).model_dump(mode="json") for b in bodies]
        }

    @router.post("/api/v1/station/commands/results", tags=["commands"])
    async def results(request: Request, who: StationToken) -> dict[str, Any]:
        """The calling station's results; the first result of a command wins."""
        raw = await request.body()
        if len(raw) > _BODY_MAX:
            raise HTTPException(413, f"results over {_BODY_MAX} bytes: send fewer at a time")
        try:
            batch = ResultBatch.model_validate_json(raw)
        except ValidationError as exc:
            raise HTTPException(422, f"results refused: {describe_errors(exc)}") from None
        if batch.station != who.subject:
            raise HTTPException(
                403, f"this token belongs to station {who.subject}, not {batch.station}"
            )
        for r in batch.results:
            if len(r.model_dump_json()) > RESULT_DATA_MAX_BYTES + 4096:
                raise HTTPException(
                    413, f"result of {r.id} is over {RESULT_DATA_MAX_BYTES} bytes: trim its data"
                )
        stored = await run_in_threadpool(
            storage.record_results, who.subject, batch.results, clock()
        )
        for r in batch.results:
            log.info("command %s at %s: %s %s", r.id, who.subject, r.status, r.detail)
        return {"stored": stored, "received": len(batch.results)}

    app.include_router(router)


def _describe(command: Command) -> str:
    action = command.action
    fields = action.model_dump(exclude={"kind"})
    return action.kind + (" " + " ".join(f"{k}={v}" for k, v in fields.items()) if fields else "")
