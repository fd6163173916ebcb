"""Stations' database backups, uploaded nightly and fetched back to rebuild a replaced SD card.

A backup is a file, not rows: a station's database is tens of MB and is only ever handed back
whole. Files live under `backup_dir/<station>/`, named by upload time, with their SHA-256 in
a side file; the newest `backup_keep` are kept. A station token reaches only its own backups.

For the restore, a station also needs the events central holds that are newer than its
backup (uploaded between the backup and the card's death): `/api/v1/station/events` gives a
station its own log back, so a restored station continues its log without a gap and without
writing a sequence number twice.
"""

import logging
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from central.settings import CentralSettings
from central.storage.base import EventQuery, Storage, TokenRecord
from central.uploads import receive_checked
from wire.event import SEQ_MAX

log = logging.getLogger("central.backups")

Holder = Callable[..., Coroutine[Any, Any, TokenRecord]]


def _folder(settings: CentralSettings, station: str) -> Path:
    if not settings.backup_dir:
        raise HTTPException(
            404,
            "this central keeps no station backups: start it with "
            "--setting backup_dir=/var/lib/station-central/backups",
        )
    return Path(settings.backup_dir) / station


def _prune(folder: Path, keep: int) -> None:
    files = sorted(folder.glob("*.db"))
    for old in files[:-keep]:
        old.unlink(missing_ok=True)
        old.with_suffix(".sha256").unlink(missing_ok=True)


def latest(settings: CentralSettings, station: str) -> Path | None:
    folder = _folder(settings, station)
    files = sorted(folder.glob("*.db")) if folder.is_dir() else []
    return files[-1] if files else None


def install_backups(
    app: FastAPI,
    storage: Storage,
    settings: CentralSettings,
    clock: Callable[[], float],
    station: Holder,
) -> None:
    router = APIRouter()
    StationToken = Annotated[TokenRecord, Depends(station)]

    @router.put("/api/v1/station/backup", tags=["backups"])
    async def upload(request: Request, who: StationToken) -> dict[str, Any]:
        """Store the calling station's backup (the raw SQLite file), checked by its SHA-256."""
        folder = _folder(settings, who.subject)
        claimed = request.headers.get("x-backup-sha256", "").lower()
        if len(claimed) != 64:
            raise HTTPException(422, "send the file's SHA-256 in X-Backup-SHA256")
        folder.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(clock()))
        final = folder / f"{stamp}-{claimed[:8]}.db"
        size = await receive_checked(
            request,
            final,
            claimed,
            settings.max_backup_bytes,
            too_big=f"backup over {settings.max_backup_bytes} bytes refused",
            mismatch="the upload does not match X-Backup-SHA256 (cut short?): send it again",
        )
        final.with_suffix(".sha256").write_text(claimed + "\n")
        await run_in_threadpool(_prune, folder, settings.backup_keep)
        log.info("backup of %s stored: %s (%d bytes)", who.subject, final.name, size)
        return {"stored": final.name, "bytes": size, "sha256": claimed}

    @router.get("/api/v1/station/backup/latest", tags=["backups"])
    async def download(who: StationToken) -> FileResponse:
        """The calling station's newest backup, with its SHA-256 in X-Backup-SHA256."""
        found = latest(settings, who.subject)
        if found is None:
            raise HTTPException(404, f"central holds no backup of station {who.subject}")
        digest = found.with_suffix(".sha256").read_text().strip()
        return FileResponse(
            found,
            media_type="application/vnd.sqlite3",
            headers={"X-Backup-SHA256": digest, "X-Backup-Name": found.name},
        )

    @router.get("/api/v1/station/events", tags=["backups"])
    async def own_events(
        who: StationToken,
        after_seq: Annotated[int, Query(ge=0, le=SEQ_MAX)] = 0,
        after: Annotated[int, Query(ge=0, le=SEQ_MAX)] = 0,
        limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    ) -> dict[str, Any]:
        """The calling station's own events with seq > after_seq, paged by central's gid."""
        query = EventQuery(station=who.subject, after=after, limit=limit)
        rows = await run_in_threadpool(storage.events, query)
        return {
            "events": [r for r in rows if r["seq"] > after_seq],
            "next_after": rows[-1]["gid"] if rows else after,
            "more": len(rows) == limit,
        }

    app.include_router(router)
