"""Software releases: what central holds, what a station is told to run, and what it reports.

A release is a wheelhouse (the project's wheel and every wheel it needs, built for the
stations' processor and Python) with a manifest naming each file's size and SHA-256. The
office uploads it to central once; a station fetches the version central targets for it
inside its own sync channel (it never accepts a connection), checks every file against the
manifest, installs it into a new virtual environment and reports how it went. Central and the
station validate with these same models.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from wire.batch import StationId

Version = Annotated[str, Field(pattern=r"^[0-9][0-9A-Za-z.+_-]{0,63}$")]
"""A release's version (PEP 440 in practice, e.g. `1.4.2`): also a folder name on the
station, so no slash and no leading dot."""
FileName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}\.whl$")]
"""A wheel's file name: nothing else is installed, and never a path."""
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]

RELEASE_FILES_MAX = 400
DETAIL_MAX = 500
UpdateStatus = Literal["ok", "rolled_back", "failed"]
"""`ok`: the new version runs and is healthy. `rolled_back`: it was started, was not healthy
within the limit, and the previous version runs again. `failed`: it never ran (download,
checksum or install failed) and the previous version was never stopped."""


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReleaseFile(_Part):
    name: FileName
    size: Annotated[int, Field(ge=1)]
    sha256: Sha256


class Manifest(_Part):
    """The release as the office built it; every file of it is installed, nothing else."""

    version: Version
    files: Annotated[tuple[ReleaseFile, ...], Field(min_length=1, max_length=RELEASE_FILES_MAX)]
    notes: Annotated[str, Field(max_length=2000)] = ""

    @field_validator("files")
    @classmethod
    def _distinct(cls, files: tuple[ReleaseFile, ...]) -> tuple[ReleaseFile, ...]:
        names = [f.name for f in files]
        if len(set(names)) != len(names):
            raise ValueError("a file is named twice in the manifest")
        return files


class Target(_Part):
    """Central's answer to a station asking what it should run: the manifest of its target."""

    station: StationId
    manifest: Manifest


class RolloutRequest(_Part):
    """The office's order: run `version` on `stations` ("*": every registered one), the
    `canary` ones first; the rest follow once every canary has reported `ok` for it."""

    version: Version
    stations: Annotated[tuple[StationId | Literal["*"], ...], Field(min_length=1, max_length=5000)]
    canary: Annotated[tuple[StationId, ...], Field(max_length=500)] = ()


class UpdateReport(_Part):
    """One update attempt as the station saw it, sent after the fact (kept and sent again
    later if central was out of reach)."""

    id: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    station: StationId
    version: Version
    from_version: Annotated[str, Field(max_length=64)]
    status: UpdateStatus
    detail: Annotated[str, Field(max_length=DETAIL_MAX)] = ""
    finished_at: float
