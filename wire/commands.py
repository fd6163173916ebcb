"""Commands from the office to one station, and what the station reports back.

A station behind 4G NAT never accepts a connection, so commands travel inside its own sync
exchange: it asks central for the commands queued for it (`CommandList`), runs each one exactly
once (its journal remembers every id it has seen) and posts a `CommandResult` per command
(`ResultBatch`). Central and the station validate with these same models: unknown fields and
unknown kinds are errors on both sides, so a newer central cannot make an older station do
something it does not understand.

Every command carries who issued it (the office token's name), why, and when it expires; one
that reaches the station after its expiry is refused and reported, never run late.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CommandId = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
LockerId = Annotated[str, Field(pattern=r"^[A-Z][0-9]{2}$")]
Scalar = str | int | float | bool

REMOTE_SETTINGS: frozenset[str] = frozenset(
    {
        "timeouts.open_window_s",
        "timeouts.expected_open_s",
        "timeouts.left_open_s",
        "timeouts.offline_after_failures",
        "people.pin_max_failures",
        "people.lockout_s",
        "people.lockout_max_s",
        "people.member_idle_s",
        "people.staff_idle_s",
        "occupancy.hold_s",
        "station.help_phone",
    }
)
"""The config keys the office may change remotely: timeouts and thresholds, nothing that
names hardware, tokens or where data lives. The station still checks each value with its own
config validation before keeping it."""

RESULT_DETAIL_MAX = 500
RESULT_DATA_MAX_BYTES = 48 * 1024
"""A diagnostics report with its log lines fits; central refuses a bigger result."""


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OpenDoor(_Part):
    """Unlock one door for someone the office is helping (refused on a faulty locker unless
    `force`)."""

    kind: Literal["open_door"] = "open_door"
    locker: LockerId
    force: bool = False


class ReleaseLocker(_Part):
    """Put a locker marked faulty back in service."""

    kind: Literal["release_locker"] = "release_locker"
    locker: LockerId


class LiftLockout(_Part):
    """End the PIN lockout of a member (by member id) or of a staff member (by staff
    number): exactly one of the two."""

    kind: Literal["lift_lockout"] = "lift_lockout"
    member: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")] | None = None
    staff: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")] | None = None

    @model_validator(mode="after")
    def _one_subject(self) -> LiftLockout:
        if (self.member is None) == (self.staff is None):
            raise ValueError("name either a member or a staff number, not both or neither")
        return self


class ApplySettings(_Part):
    """Change some of the keys in REMOTE_SETTINGS; the daemon uses them from its next start."""

    kind: Literal["apply_settings"] = "apply_settings"
    settings: dict[str, Scalar]

    @field_validator("settings")
    @classmethod
    def _known_keys(cls, value: dict[str, Scalar]) -> dict[str, Scalar]:
        if not value:
            raise ValueError("give at least one setting")
        unknown = sorted(set(value) - REMOTE_SETTINGS)
        if unknown:
            raise ValueError(
                f"{', '.join(unknown)} cannot be set remotely; allowed: "
                + ", ".join(sorted(REMOTE_SETTINGS))
            )
        return value


class Diagnostics(_Part):
    """Upload the doctor's report and the newest log lines."""

    kind: Literal["diagnostics"] = "diagnostics"
    log_lines: Annotated[int, Field(ge=0, le=500)] = 200


Action = Annotated[
    OpenDoor | ReleaseLocker | LiftLockout | ApplySettings | Diagnostics,
    Field(discriminator="kind"),
]
CommandKind = Literal[
    "open_door", "release_locker", "lift_lockout", "apply_settings", "diagnostics"
]


class CommandRequest(_Part):
    """What an operator posts to central to queue a command."""

    action: Action
    reason: Annotated[str, Field(min_length=1, max_length=200)]
    expires_in_s: Annotated[float, Field(gt=0, le=7 * 86_400)] = 900.0

    @field_validator("reason")
    @classmethod
    def _reason_has_words(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("say why (the reason is written in both logs)")
        return value.strip()


class Command(_Part):
    id: CommandId
    station: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
    issuer: Annotated[str, Field(min_length=1, max_length=64)]
    reason: Annotated[str, Field(min_length=1, max_length=200)]
    issued_at: float
    expires_at: float
    action: Action


class CommandList(_Part):
    commands: list[Command]


ResultStatus = Literal["done", "refused", "failed"]


class CommandResult(_Part):
    id: CommandId
    status: ResultStatus
    """done: it ran; refused: the station would not run it (expired, faulty locker, bad
    setting); failed: it started and did not finish (the board did not answer, a restart)."""
    detail: Annotated[str, Field(max_length=RESULT_DETAIL_MAX)] = ""
    data: dict[str, Any] = {}
    finished_at: float


class ResultBatch(_Part):
    station: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
    results: Annotated[list[CommandResult], Field(max_length=100)]


def office_actor(issuer: str) -> str:
    """The actor written in the station's usage log for an office operator."""
    return "office:" + re.sub(r"[^A-Za-z0-9_.@-]", "_", issuer)[:64]
