"""The command leg of the sync exchange: results up, the office's new commands down.

Sync only carries commands; running them is the handler's (station/remote/runner.py), given
to the SyncService by the composition root, so sync never imports the rooms a command acts on.
Results go first: a result central never received is sent again each round until it answers
200, and central keeps the first one it gets.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from pydantic import ValidationError

from wire.batch import error_detail
from wire.commands import Command, CommandList, CommandResult, ResultBatch

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("station.sync")

FETCH_PATH = "/api/v1/station/commands"
RESULTS_PATH = "/api/v1/station/commands/results"


class CommandHandler(Protocol):
    async def receive(self, commands: Sequence[Command]) -> int: ...

    async def unreported(self, limit: int = 50) -> list[CommandResult]: ...

    async def reported(self, ids: Sequence[str]) -> None: ...


async def post_results(client: httpx.AsyncClient, station: str, handler: CommandHandler) -> int:
    """Send every result central does not have yet; returns how many it took."""
    sent = 0
    while results := await handler.unreported():
        body = ResultBatch(station=station, results=results).model_dump_json()
        response = await client.post(
            RESULTS_PATH, content=body, headers={"Content-Type": "application/json"}
        )
        if response.status_code != 200:
            log.warning(
                "central did not take %d command result(s): HTTP %d %s; retried next round",
                len(results),
                response.status_code,
                error_detail(response.content),
            )
            return sent
        await handler.reported([r.id for r in results])
        sent += len(results)
    return sent


async def command_round(client: httpx.AsyncClient, station: str, handler: CommandHandler) -> int:
    """Report results, fetch new commands, run them, report again; returns how many ran.

    A central without the command routes (an older release) answers 404: nothing to do.
    """
    await post_results(client, station, handler)
    response = await client.get(FETCH_PATH)
    if response.status_code == 404:
        return 0
    if response.status_code != 200:
        log.warning(
            "fetching office commands failed: HTTP %d %s",
            response.status_code,
            error_detail(response.content),
        )
        return 0
    try:
        listed = CommandList.model_validate_json(response.content)
    except ValidationError as exc:
        log.error("central sent commands this release cannot read (refused, none run): %s", exc)
        return 0
    mine = [c for c in listed.commands if c.station == station]
    if len(mine) != len(listed.commands):
        log.error("central sent commands for another station: ignored")
    if not mine:
        return 0
    ran = await handler.receive(mine)
    await post_results(client, station, handler)
    return ran
