"""Run the office's commands exactly once each, and keep their results until central has them.

The journal (`remote_commands`) is written before a command does anything: a command id seen
before is skipped, so a duplicate delivery (central re-sends until it has a result) opens
nothing. A command found `running` at start was cut short by a crash or power cut; it is
reported failed and never run again: the office decides whether to send it once more, rather
than a door opening by itself minutes later.

Every command writes `remote_command` (who, why, what) to the usage log when it starts and
`remote_command_done` with its outcome; a door it opens is audited like any other opening,
with the operator as actor (`office:<name>`) and the reason. The same facts reach central in
the result and through the usage log.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from station.clock import Clock
from station.config import ConfigError, StationConfig
from station.doors.lockers import LockerError, LockerService, LockerUnavailable, UnknownLocker
from station.people.members import MemberService
from station.people.staff import StaffService
from station.refusals import Refusal
from station.remote import settings
from station.store import Store, Tx
from wire.commands import (
    RESULT_DATA_MAX_BYTES,
    RESULT_DETAIL_MAX,
    ApplySettings,
    Command,
    CommandResult,
    Diagnostics,
    LiftLockout,
    OpenDoor,
    ReleaseLocker,
    ResultStatus,
    office_actor,
)

log = logging.getLogger("station.remote")

DiagnosticsSource = Callable[[int], Awaitable[dict[str, Any]]]
"""Given how many log lines, returns {"doctor": [...], "log": [...]}."""


@dataclass(frozen=True, slots=True)
class Outcome:
    status: ResultStatus
    detail: str
    data: dict[str, Any]


class _Refused(Exception):
    """The station will not run this command; the message says why."""


class RemoteCommands:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        config: StationConfig,
        lockers: LockerService,
        members: MemberService,
        staff: StaffService,
        diagnostics: DiagnosticsSource,
        apply_live: settings.LiveApplier,
    ) -> None:
        self._store = store
        self._clock = clock
        self._config = config
        self._lockers = lockers
        self._members = members
        self._staff = staff
        self._apply_live = apply_live
        self._diagnostics = diagnostics

    # --- the journal ---------------------------------------------------------------------

    async def recover(self) -> int:
        """Mark commands a restart cut short as failed (they are not run again)."""

        def write(tx: Tx) -> int:
            rows = tx.conn.execute(
                "SELECT id, kind FROM remote_commands WHERE status = 'running'"
            ).fetchall()
            for command_id, kind in rows:
                self._finish(
                    tx,
                    command_id,
                    kind,
                    Outcome("failed", "interrupted by a restart of the station; not run again", {}),
                )
            return len(rows)

        n = await self._store.write(write)
        if n:
            log.warning("%d office command(s) were cut short by a restart: reported failed", n)
        return n

    async def receive(self, commands: Sequence[Command]) -> int:
        """Run each command not seen before; returns how many ran (or were refused)."""
        ran = 0
        for command in commands:
            if not await self._store.write(lambda tx, c=command: self._start(tx, c)):
                log.info("office command %s already seen: skipped", command.id)
                continue
            ran += 1
            outcome = await self._run(command)
            await self._store.write(
                lambda tx, c=command, o=outcome: self._finish(tx, c.id, c.action.kind, o)
            )
            level = logging.INFO if outcome.status == "done" else logging.WARNING
            log.log(
                level,
                "office command %s (%s by %s): %s %s",
                command.id,
                command.action.kind,
                command.issuer,
                outcome.status,
                outcome.detail,
            )
        return ran

    async def unreported(self, limit: int = 50) -> list[CommandResult]:
        rows = await self._store.aquery(
            "SELECT id, status, detail, data, finished_at FROM remote_commands"
            " WHERE reported_at IS NULL AND status != 'running' ORDER BY finished_at LIMIT ?",
            (limit,),
        )
        return [
            CommandResult(
                id=r["id"],
                status=r["status"],
                detail=r["detail"],
                data=json.loads(r["data"]),
                finished_at=r["finished_at"],
            )
            for r in rows
        ]

    async def reported(self, ids: Sequence[str]) -> None:
        def write(tx: Tx) -> None:
            tx.conn.executemany(
                "UPDATE remote_commands SET reported_at = ? WHERE id = ?",
                [(tx.now(), i) for i in ids],
            )

        await self._store.write(write)

    def _start(self, tx: Tx, command: Command) -> bool:
        cur = tx.conn.execute(
            "INSERT INTO remote_commands (id, kind, issuer, reason, expires_at, received_at,"
            " status) VALUES (?, ?, ?, ?, ?, ?, 'running') ON CONFLICT (id) DO NOTHING",
            (
                command.id,
                command.action.kind,
                command.issuer,
                command.reason,
                command.expires_at,
                tx.now(),
            ),
        )
        if cur.rowcount == 0:
            # Seen before: central re-sends until it has a result, so it lost ours. Report the
            # stored result again; never run the command again.
            tx.conn.execute(
                "UPDATE remote_commands SET reported_at = NULL"
                " WHERE id = ? AND status != 'running'",
                (command.id,),
            )
            return False
        tx.append(
            "remote_command",
            actor=office_actor(command.issuer),
            locker=getattr(command.action, "locker", None),
            payload={
                "command": command.id,
                "kind": command.action.kind,
                "issuer": command.issuer,
                "reason": command.reason,
                "expires_at": command.expires_at,
                "action": command.action.model_dump(exclude={"kind"}),
            },
        )
        return True

    def _finish(self, tx: Tx, command_id: str, kind: str, outcome: Outcome) -> None:
        detail = outcome.detail[:RESULT_DETAIL_MAX]
        tx.conn.execute(
            "UPDATE remote_commands SET status = ?, detail = ?, data = ?, finished_at = ?"
            " WHERE id = ?",
            (outcome.status, detail, json.dumps(outcome.data), tx.now(), command_id),
        )
        tx.append(
            "remote_command_done",
            actor="system",
            payload={
                "command": command_id,
                "kind": kind,
                "status": outcome.status,
                "detail": detail,
            },
        )

    # --- running -------------------------------------------------------------------------

    async def _run(self, command: Command) -> Outcome:
        now = self._clock.wall()
        if now > command.expires_at:
            late = round(now - command.expires_at)
            return Outcome("refused", f"expired {late} s before it reached the station", {})
        try:
            return await self._act(command)
        except _Refused as exc:
            return Outcome("refused", str(exc), {})
        except Exception as exc:
            log.exception("office command %s failed", command.id)
            return Outcome("failed", f"{type(exc).__name__}: {exc}", {})

    async def _act(self, command: Command) -> Outcome:
        action = command.action
        actor = office_actor(command.issuer)
        reason = f"{command.reason} (office command {command.id[:8]})"
        if isinstance(action, OpenDoor):
            try:
                result = await self._lockers.open_door(
                    action.locker, actor=actor, reason=reason, allow_faulty=action.force
                )
            except LockerUnavailable as exc:
                if exc.__cause__ is not None:  # audited and sent, the board did not take it
                    return Outcome("failed", str(exc), {})
                raise _Refused(f"{exc}; send it again with force to open it anyway") from None
            except LockerError as exc:
                raise _Refused(str(exc)) from None
            return Outcome(
                "done",
                f"locker {action.locker} unlocked"
                + ("" if result.confirmed else " (the board's answer was lost: check the door)"),
                {"unlock_seq": result.unlock_seq, "confirmed": result.confirmed},
            )
        if isinstance(action, ReleaseLocker):
            try:
                was = self._lockers.view(action.locker).get("fault_reason")
                await self._lockers.release(action.locker, actor=actor, note=reason)
            except UnknownLocker as exc:
                raise _Refused(str(exc)) from None
            return Outcome("done", f"locker {action.locker} back in service", {"was": was})
        if isinstance(action, LiftLockout):
            try:
                if action.staff is not None:
                    await self._staff.unlock(action.staff, reason, actor)
                    return Outcome("done", f"lockout of staff {action.staff} lifted", {})
                assert action.member is not None  # the model holds exactly one
                member = await self._members.unlock(action.member, reason, actor)
            except Refusal as exc:
                raise _Refused(exc.message) from None
            return Outcome("done", f"lockout of {member.masked} lifted", {})
        if isinstance(action, ApplySettings):
            return await self._apply_settings(command, action)
        if isinstance(action, Diagnostics):
            report = await self._diagnostics(action.log_lines)
            return Outcome("done", "diagnostics attached", _fit(report))
        raise _Refused(f"unknown command {action.kind}")

    async def _apply_settings(self, command: Command, action: ApplySettings) -> Outcome:
        current = settings.stored(self._store)
        wanted = {**current, **action.settings}
        try:
            settings.overlay(self._config, wanted)
        except ConfigError as exc:
            raise _Refused(str(exc).replace("remote settings: ", "", 1)) from None
        await self._store.write(
            lambda tx: settings.save(tx, action.settings, command.id, command.issuer)
        )
        live = {k: v for k, v in wanted.items() if k in settings.LIVE}
        self._apply_live(settings.overlay(self._config, live))
        now = sorted(set(action.settings) & settings.LIVE)
        later = {k: settings.NOT_LIVE[k] for k in sorted(set(action.settings) - settings.LIVE)}
        words = [f"in use now: {', '.join(now)}"] if now else []
        words += [f"{k} stored, not in use yet: {why}" for k, why in later.items()]
        return Outcome(
            "done",
            "; ".join(words),
            {"applied": dict(action.settings), "live": now, "not_live": later},
        )


def _fit(report: dict[str, Any]) -> dict[str, Any]:
    """Drop the oldest log lines until the report fits in one result."""
    out = dict(report)
    lines = list(out.get("log", []))
    while len(json.dumps(out | {"log": lines})) > RESULT_DATA_MAX_BYTES and lines:
        lines = lines[len(lines) // 4 + 1 :]
    out["log"] = lines
    return out
