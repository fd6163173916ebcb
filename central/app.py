"""Central's HTTP API: ingest from stations, bundles down to them, queries for the office.

Every refusal is a 4xx whose `detail` says what was wrong and what to do, because the reader is
usually a station's log file or an operator with curl, not a developer with a debugger.
"""

import asyncio
import json
import logging
import time
import zlib
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.gzip import GZipMiddleware

from central.alerts.api import install_alerts
from central.alerts.notifier import Notifier
from central.auth import bearer, token_hash
from central.backups import install_backups
from central.commands_api import install_commands
from central.fleet import Fleet
from central.fleet_api import install_fleet
from central.quarantine import BatchRefused, parse_batch
from central.releases import install_releases
from central.reminders.api import install_reminders
from central.reminders.service import Reminders
from central.reports.api import install_reports
from central.settings import CentralSettings
from central.storage.base import EventQuery, SeqConflict, Storage, TokenRecord
from wire.batch import IngestBatch, StationId
from wire.event import NUL_REFUSED, SEQ_MAX, IncomingEvent, has_nul
from wire.headers import NoStore

log = logging.getLogger("central.api")


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def create_app(
    storage: Storage,
    settings: CentralSettings | None = None,
    clock: Callable[[], float] = time.time,
) -> FastAPI:
    settings = settings or CentralSettings()
    # The description of the API is served like the API itself: with a token.
    app = FastAPI(
        title="共享益站 central", version="1", openapi_url=None, docs_url=None, redoc_url=None
    )
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.add_middleware(NoStore, prefixes=("/api/",))
    app.state.storage = storage
    app.state.settings = settings
    fleet = Fleet(storage, settings, clock)
    reminders = Reminders(storage, settings, clock) if settings.reminders else None
    notifier = Notifier(storage, settings, clock, reminders=reminders)
    app.state.notifier = notifier
    ingest_slots = asyncio.Semaphore(settings.max_concurrent_ingests)

    async def holder(request: Request) -> TokenRecord:
        token = bearer(request.headers.get("authorization"))
        if token is None:
            raise _unauthorized("missing 'Authorization: Bearer <token>' header")
        record = await run_in_threadpool(storage.token, token_hash(token))
        if record is None:
            log.warning("refused an unknown token from %s", _peer(request))
            raise _unauthorized("unknown token: check the token in the station's sync config")
        if record.revoked:
            log.warning("refused a revoked %s token of %s", record.kind, record.subject)
            raise _unauthorized(
                "token revoked: ask the central office for a new one "
                "(station central rotate <station>)"
            )
        return record

    async def station_holder(record: Annotated[TokenRecord, Depends(holder)]) -> TokenRecord:
        if record.kind != "station":
            raise HTTPException(403, "this endpoint takes a station token, not an office token")
        return record

    async def office_holder(record: Annotated[TokenRecord, Depends(holder)]) -> TokenRecord:
        if record.kind != "office":
            raise HTTPException(
                403, "this endpoint takes an office token (station central office-token NAME)"
            )
        return record

    @app.get("/openapi.json", include_in_schema=False)
    async def description(_: Annotated[TokenRecord, Depends(holder)]) -> dict[str, Any]:
        return app.openapi()

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {"ok": True, "time": clock()}

    @app.post("/api/v1/ingest")
    async def ingest(
        request: Request, record: Annotated[TokenRecord, Depends(station_holder)]
    ) -> dict[str, Any]:
        async with ingest_slots:
            return await _ingest(request, record)

    async def _ingest(request: Request, record: TokenRecord) -> dict[str, Any]:
        raw = await _read_body(request, settings)
        # Decoding, storing and folding a large batch take tens of milliseconds: off the event
        # loop, so one station's catch-up does not stall every other station's requests, and
        # in one trip (each trip to the thread pool and back is a wait for a thread's turn).
        return await run_in_threadpool(_take_batch, raw, record)

    def _take_batch(raw: bytes, record: TokenRecord) -> dict[str, Any]:
        batch, events, quarantined = _parse_batch(raw, settings)
        if batch.station != record.subject:
            log.warning("token of %s tried to write for %s", record.subject, batch.station)
            raise HTTPException(
                403,
                f"this token belongs to station {record.subject}, not {batch.station}: "
                "check station.id and sync.token in the station's config",
            )
        telemetry, dropped = _telemetry_text(batch, settings)
        try:
            result = storage.ingest(batch.station, batch.after, events, telemetry, clock())
        except SeqConflict as exc:
            log.error("%s", exc)
            raise HTTPException(409, str(exc)) from None
        whole = (batch.after, events) if events and result.stored == len(events) else None
        fleet.ingested(batch.station, None if dropped else batch.telemetry, whole)
        notifier.ingested(batch.station)
        if reminders is not None:
            reminders.ingested(batch.station)
        body: dict[str, Any] = {
            "station": batch.station,
            "acked_seq": result.acked_seq,
            "stored": result.stored,
            "duplicates": result.duplicates,
            "server_time": clock(),
        }
        if dropped:
            body["telemetry_dropped"] = dropped
        if quarantined:
            for seq, reason in quarantined:
                log.warning("station %s: event %d quarantined: %s", batch.station, seq, reason)
            body["quarantined"] = [{"seq": seq, "reason": reason} for seq, reason in quarantined]
        return body

    @app.get("/api/v1/bundle")
    async def bundle(
        record: Annotated[TokenRecord, Depends(station_holder)],
        have: Annotated[int, Query(ge=0)] = 0,
    ) -> Response:
        found = await run_in_threadpool(storage.bundle_for, record.subject, have)
        if found is None:
            return Response(status_code=304)
        return Response(
            content=found.body.encode(),
            media_type="application/json",
            headers={
                "X-Bundle-Version": str(found.version),
                "X-Bundle-SHA256": found.sha256,
                "X-Bundle-Published-At": repr(found.published_at),
                "ETag": f'"{found.version}"',
            },
        )

    @app.get("/api/v1/events")
    async def events(
        _: Annotated[TokenRecord, Depends(office_holder)],
        station: StationId | None = None,
        type: Annotated[str | None, Query(max_length=64)] = None,
        since: float | None = None,
        until: float | None = None,
        after: Annotated[int, Query(ge=0, le=SEQ_MAX)] = 0,
        limit: Annotated[int | None, Query(ge=1)] = None,
    ) -> dict[str, Any]:
        if limit is None:
            limit = min(100, settings.max_page)
        if limit > settings.max_page:
            raise HTTPException(
                422,
                f"limit {limit} is over the most one page holds, "
                f"{settings.max_page}: page with 'after' instead",
            )
        if has_nul(type):
            raise HTTPException(422, f"type {NUL_REFUSED}: no event type has one")
        query = EventQuery(station, type, since, until, after, limit)
        rows = await run_in_threadpool(storage.events, query)
        return {
            "events": rows,
            "next_after": rows[-1]["gid"] if rows else after,
            "more": len(rows) == limit,
        }

    @app.get("/api/v1/stations")
    async def stations(_: Annotated[TokenRecord, Depends(office_holder)]) -> dict[str, Any]:
        rows = await run_in_threadpool(storage.stations)
        return {"stations": [r.to_dict() for r in rows]}

    install_fleet(app, fleet, office_holder)
    install_commands(app, storage, clock, station_holder, office_holder)
    install_backups(app, storage, settings, clock, station_holder)
    install_releases(app, storage, settings, clock, station_holder, office_holder)
    install_reports(app, storage, settings, clock, office_holder)
    install_alerts(app, storage, clock, office_holder)
    install_reminders(app, reminders, office_holder)
    return app


def _peer(request: Request) -> str:
    return request.client.host if request.client else "?"


async def _read_body(request: Request, settings: CentralSettings) -> bytes:
    """The request body, inflated if gzipped, refusing oversized bodies before holding them."""
    limit = settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(
            413,
            f"body of {declared} bytes is over the limit of {limit}: "
            "send smaller batches (sync.batch_max_bytes)",
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(
                413,
                f"body is over the limit of {limit} bytes: "
                "send smaller batches (sync.batch_max_bytes)",
            )
        chunks.append(chunk)
    body = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise HTTPException(415, f"content-encoding '{encoding}' is not accepted; use gzip")
    return _gunzip(body, settings.max_inflated_bytes)


def _gunzip(body: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise HTTPException(400, f"body is not valid gzip ({exc})") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise HTTPException(413, f"body inflates to more than {limit} bytes: send smaller batches")
    if not inflater.eof:
        raise HTTPException(400, "gzip body is truncated: the upload was cut short; retry")
    return out


def _parse_batch(
    raw: bytes, settings: CentralSettings
) -> tuple[IngestBatch, list[IncomingEvent], list[tuple[int, str]]]:
    try:
        parsed = parse_batch(raw, settings.max_event_bytes)
    except BatchRefused as exc:
        raise HTTPException(exc.status, str(exc)) from None
    batch, events = parsed.batch, parsed.events
    if len(events) > settings.max_batch_events:
        raise HTTPException(
            413,
            f"batch has {len(events)} events, over the limit of "
            f"{settings.max_batch_events}: lower sync.batch_max_events",
        )
    return batch, events, parsed.quarantined


def _telemetry_text(batch: IngestBatch, settings: CentralSettings) -> tuple[str | None, str]:
    if batch.telemetry is None:
        return None, ""
    if has_nul(batch.telemetry):
        reason = f"telemetry was dropped: it {NUL_REFUSED}"
        log.warning("station %s: %s", batch.station, reason)
        return None, reason
    text = json.dumps(batch.telemetry, ensure_ascii=False, separators=(",", ":"))
    if len(text.encode()) > settings.max_telemetry_bytes:
        reason = f"telemetry over {settings.max_telemetry_bytes} bytes was dropped"
        log.warning("station %s: %s", batch.station, reason)
        return None, reason
    return text, ""
