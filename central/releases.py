"""Software releases for the fleet: uploaded by the office, rolled out in stages, fetched by
stations over their own sync channel, with each station's update result kept and shown.

A release is immutable once its manifest is accepted: its files sit in
`release_dir/<version>/`, each checked against the manifest's SHA-256 when the manifest
arrives, and stations check them again after downloading. A rollout names a version, its
stations and its canaries; the canaries get the version at once, the others only once every
canary has reported `ok` for it. A canary that rolled back halts the rollout: the others keep
what an older rollout gave them. Which version a station should run is worked out each time
from the rollouts and reports (`target_for`), so there is no state to keep in step.
"""

import hashlib
import logging
import secrets
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from pydantic import ValidationError

from central.settings import CentralSettings
from central.storage.base import Storage, TokenRecord, UnknownStation
from central.uploads import receive_checked
from wire.batch import StationId
from wire.bundle import describe_errors
from wire.releases import FileName, Manifest, RolloutRequest, Target, UpdateReport, Version

log = logging.getLogger("central.releases")

Holder = Callable[..., Coroutine[Any, Any, TokenRecord]]
_MANIFEST_MAX = 256 * 1024


@dataclass(frozen=True, slots=True)
class Aim:
    """What a station should run and why. `stage`: `canary` (it goes first) or `rollout`;
    `held`: a newer version it does not get yet, `held_stage` why: `waiting` (for its
    canaries to report ok) or `halted` (a canary did not update)."""

    version: str | None
    stage: str = ""
    rollout: str | None = None
    held: str | None = None
    held_stage: str = ""


def target_for(
    station: str,
    rollouts: Iterable[dict[str, Any]],
    reports: Iterable[dict[str, Any]],
    registered: set[str],
) -> Aim:
    """The version `station` should run: from the newest rollout that reaches it.
    `rollouts` newest first; `reports` every station's update reports."""
    results: dict[tuple[str, str], set[str]] = {}
    for r in reports:
        results.setdefault((r["station"], r["version"]), set()).add(r["status"])
    held: tuple[str, str] | None = None
    for rollout in rollouts:
        order: RolloutRequest = rollout["order"]
        everyone = registered if "*" in order.stations else set(order.stations)
        if station not in everyone | set(order.canary):
            continue
        states = [results.get((c, order.version), set()) for c in order.canary]
        if station in order.canary or all("ok" in s for s in states):
            stage = "canary" if station in order.canary else "rollout"
            return Aim(order.version, stage, rollout["id"], *(held or (None, "")))
        if held is None:
            halted = any(s and "ok" not in s for s in states)
            held = (order.version, "halted" if halted else "waiting")
    return Aim(None, held=held[0] if held else None, held_stage=held[1] if held else "")


def _folder(settings: CentralSettings, version: str) -> Path:
    if not settings.release_dir:
        raise HTTPException(
            404,
            "this central keeps no releases: start it with "
            "--setting release_dir=/var/lib/station-central/releases",
        )
    return Path(settings.release_dir) / version


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_files(folder: Path, manifest: Manifest) -> list[str]:
    problems = []
    for f in manifest.files:
        path = folder / f.name
        if not path.is_file():
            problems.append(f"{f.name}: not uploaded")
        elif path.stat().st_size != f.size or _sha256(path) != f.sha256:
            problems.append(f"{f.name}: size or SHA-256 differs from the manifest")
    return problems


def station_updates(storage: Storage) -> dict[str, dict[str, Any]]:
    """Per registered station: its target, the stage, and its newest update report."""
    stations = storage.stations()
    registered = {s.id for s in stations}
    rollouts = storage.rollouts()
    reports = storage.update_reports()
    newest: dict[str, dict[str, Any]] = {}
    for r in reports:  # newest first
        newest.setdefault(r["station"], r)
    out = {}
    for s in stations:
        aim = target_for(s.id, rollouts, reports, registered)
        last = newest.get(s.id)
        out[s.id] = {
            "target": aim.version,
            "stage": aim.stage,
            "rollout": aim.rollout,
            "held": aim.held,
            "held_stage": aim.held_stage,
            "last": None
            if last is None
            else {k: last[k] for k in ("version", "from_version", "status", "detail")}
            | {"at": last["finished_at"]},
        }
    return out


def install_releases(
    app: FastAPI,
    storage: Storage,
    settings: CentralSettings,
    clock: Callable[[], float],
    station: Holder,
    office: Holder,
) -> None:
    """Add the release routes; `station` and `office` are the app's token dependencies."""
    router = APIRouter()
    Office = Annotated[TokenRecord, Depends(office)]
    StationToken = Annotated[TokenRecord, Depends(station)]

    def operator(who: TokenRecord, what: str) -> None:
        if who.role != "operator":
            raise HTTPException(
                403,
                f"office token '{who.subject}' may only read; {what} needs an operator token "
                "(station central office-token NAME --role operator)",
            )

    @router.put("/api/v1/releases/{version}/files/{name}", tags=["releases"])
    async def upload_file(
        version: Version, name: FileName, request: Request, who: Office
    ) -> dict[str, Any]:
        """One wheel of a release (operator), checked by its SHA-256 in X-File-SHA256."""
        operator(who, "uploading a release")
        if await run_in_threadpool(storage.release, version) is not None:
            raise HTTPException(409, f"release {version} is complete and cannot change")
        claimed = request.headers.get("x-file-sha256", "").lower()
        if len(claimed) != 64:
            raise HTTPException(422, "send the file's SHA-256 in X-File-SHA256")
        folder = _folder(settings, version)
        folder.mkdir(parents=True, exist_ok=True)
        size = await receive_checked(
            request,
            folder / name,
            claimed,
            settings.max_release_bytes,
            too_big=f"file over {settings.max_release_bytes} bytes refused",
            mismatch="the upload does not match X-File-SHA256: send it again",
        )
        return {"version": version, "file": name, "bytes": size}

    @router.put("/api/v1/releases/{version}", status_code=201, tags=["releases"])
    async def complete(version: Version, request: Request, who: Office) -> dict[str, Any]:
        """The release's manifest (operator), once every file is uploaded: central checks
        each file against it; from then on the release cannot change."""
        operator(who, "uploading a release")
        raw = await request.body()
        if len(raw) > _MANIFEST_MAX:
            raise HTTPException(413, f"manifest over {_MANIFEST_MAX} bytes")
        try:
            manifest = Manifest.model_validate_json(raw)
        except ValidationError as exc:
            raise HTTPException(422, f"manifest refused: {describe_errors(exc)}") from None
        if manifest.version != version:
            raise HTTPException(422, f"the manifest is for {manifest.version}, not {version}")
        problems = await run_in_threadpool(_check_files, _folder(settings, version), manifest)
        if problems:
            raise HTTPException(422, "release incomplete: " + "; ".join(problems))
        if not await run_in_threadpool(storage.add_release, manifest, who.subject, clock()):
            raise HTTPException(409, f"release {version} is already held")
        log.info("release %s uploaded by %s (%d files)", version, who.subject, len(manifest.files))
        return {"version": version, "files": len(manifest.files)}

    @router.get("/api/v1/releases", tags=["releases"])
    async def listing(_: Office) -> dict[str, Any]:
        """Releases and rollouts, newest first."""
        releases = await run_in_threadpool(storage.releases)
        rollouts = await run_in_threadpool(storage.rollouts)
        return {
            "releases": releases,
            "rollouts": [r | {"order": r["order"].model_dump(mode="json")} for r in rollouts],
        }

    @router.post("/api/v1/rollouts", status_code=201, tags=["releases"])
    async def rollout(order: RolloutRequest, who: Office) -> dict[str, Any]:
        """Order a version onto stations (operator), canaries first."""
        operator(who, "a rollout")
        if await run_in_threadpool(storage.release, order.version) is None:
            raise HTTPException(404, f"no release {order.version}: upload it first")
        registered = {s.id for s in await run_in_threadpool(storage.stations)}
        unknown = sorted((set(order.stations) - {"*"} | set(order.canary)) - registered)
        if unknown:
            raise HTTPException(404, f"not registered: {', '.join(unknown)}")
        rollout_id = secrets.token_hex(8)
        await run_in_threadpool(storage.add_rollout, rollout_id, order, who.subject, clock())
        log.info(
            "rollout %s of %s by %s: stations %s, canary %s",
            rollout_id,
            order.version,
            who.subject,
            ",".join(order.stations),
            ",".join(order.canary) or "none",
        )
        return {"id": rollout_id, "order": order.model_dump(mode="json")}

    @router.get("/api/v1/updates", tags=["releases"])
    async def updates(
        _: Office,
        station: StationId | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        """Per station its target and newest result; and the reports, newest first."""
        views = await run_in_threadpool(station_updates, storage)
        reports = await run_in_threadpool(storage.update_reports, station, limit)
        if station is not None:
            views = {k: v for k, v in views.items() if k == station}
        return {"stations": views, "reports": reports}

    async def aim_of(who: TokenRecord) -> Aim:
        stations = await run_in_threadpool(storage.stations)
        return target_for(
            who.subject,
            await run_in_threadpool(storage.rollouts),
            await run_in_threadpool(storage.update_reports),
            {s.id for s in stations},
        )

    @router.get("/api/v1/station/release", tags=["releases"])
    async def station_target(who: StationToken) -> Response:
        """The calling station's target release (204: none)."""
        aim = await aim_of(who)
        manifest = None
        if aim.version is not None:
            manifest = await run_in_threadpool(storage.release, aim.version)
        if manifest is None:
            return Response(status_code=204)
        body = Target(station=who.subject, manifest=manifest)
        return Response(body.model_dump_json(), media_type="application/json")

    @router.get("/api/v1/station/releases/{version}/files/{name}", tags=["releases"])
    async def station_file(version: Version, name: FileName, who: StationToken) -> FileResponse:
        """A file of the calling station's target release."""
        aim = await aim_of(who)
        manifest = await run_in_threadpool(storage.release, version)
        if aim.version != version or manifest is None:
            raise HTTPException(404, f"release {version} is not this station's target")
        if name not in {f.name for f in manifest.files}:
            raise HTTPException(404, f"release {version} has no file {name}")
        return FileResponse(_folder(settings, version) / name, media_type="application/zip")

    @router.post("/api/v1/station/update-report", tags=["releases"])
    async def report(body: UpdateReport, who: StationToken) -> dict[str, Any]:
        """The calling station's result of an update (a repeat is recognised by its id)."""
        if body.station != who.subject:
            raise HTTPException(
                403, f"this token belongs to station {who.subject}, not {body.station}"
            )
        try:
            new = await run_in_threadpool(storage.add_update_report, body, clock())
        except UnknownStation:
            raise HTTPException(404, f"no station {body.station} is registered") from None
        if new:
            level = logging.INFO if body.status == "ok" else logging.WARNING
            log.log(
                level,
                "update of %s from %s to %s: %s %s",
                body.station,
                body.from_version,
                body.version,
                body.status,
                body.detail,
            )
        return {"stored": new}

    app.include_router(router)
