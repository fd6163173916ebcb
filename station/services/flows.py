"""Door flows: everything that opens a door for a resident, run the same careful way.

A flow unlocks one door (audited by the locker service), and the service's action starts only
once the door is *seen* open; a door that never opens cancels the flow and nothing starts.
After the door is seen closed the flow completes (a return first asks how the tool is). A flow
runs as a background task: the HTTP request that starts it answers at once, and the screen
follows the flow by polling or on the live stream, so nobody's request is held open while a
person fetches a drill.

The services plug in their steps (`FlowSteps`); the runner owns timing, states and publishing.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from station.clock import Clock
from station.doors.lockers import LockerError, LockerService
from station.refusals import Refusal
from station.store import Store, Tx, first_after

log = logging.getLogger(__name__)

FlowState = Literal[
    "opening", "open", "awaiting_answer", "completed", "cancelled", "abandoned", "failed"
]
TERMINAL: frozenset[str] = frozenset({"completed", "cancelled", "abandoned", "failed"})

_MESSAGES: dict[str, str] = {
    "opening": "Door {locker} is opening",
    "open": "Door {locker} is open",
    "awaiting_answer": "Door {locker} is closed: please answer the question",
    "completed": "Done: door {locker} is closed",
    "cancelled": "Door {locker} did not open; nothing was started. Please ask staff for help",
    "abandoned": "Door {locker} was left open; staff have been told",
    "failed": "Something went wrong with door {locker}; staff have been told",
}


ITEM_MISSING = {
    "id": "item_missing",
    "text": "The locker looks empty. Did you put your things in?",
    "text_zh": "柜内似乎是空的。您放入物品了吗？",
    "choices": ["yes", "no"],
}
"""Asked when a deposit's or hand-in's door closed and the compartment's item sensor sees
nothing; "no" releases the locker (the sensor may miss a flat envelope: "yes" goes on)."""


@dataclass
class Flow:
    id: str
    kind: str
    locker: str
    actor: str
    reason: str
    started_at: float
    updated_at: float
    state: FlowState = "opening"
    message: str = ""
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    question: dict[str, Any] | None = None
    secret_keys: frozenset[str] = frozenset()
    """Result keys (a pickup code) that go once to the holder of `key`, never anywhere else."""
    key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    """The flow's capability: returned only by the POST that started the flow. Whoever holds
    it may answer the flow's question and receives its secret result, once; every other
    client (another kiosk screen, the live stream, staff) sees the flow without secrets."""
    context: dict[str, Any] = field(default_factory=dict)
    """The service's own facts about this flow (tool id, reservation); not shown."""
    journal: dict[str, Any] | None = None
    """What a restart needs to finish this flow's work if the power goes after its door
    opened; logged in `flow_started` before the unlock (see `unsettled_flows`)."""
    finished_mono: float | None = None
    _answer: asyncio.Future[dict[str, Any]] | None = None
    _on_finish: list[Callable[[Flow], None]] = field(default_factory=list)

    def holds(self, key: str | None) -> bool:
        """Whether `key` is this flow's capability (compared in constant time)."""
        return key is not None and hmac.compare_digest(key.encode(), self.key.encode())

    def view(self, include_secrets: bool = False) -> dict[str, Any]:
        result = dict(self.result)
        if not include_secrets:
            for key in self.secret_keys:
                result.pop(key, None)
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "locker": self.locker,
            "started_at": self.started_at,
            "updated_at": self.updated_at,
            "message": self.message,
            "result": result,
            "error": self.error,
            "question": self.question,
        }

    def view_for(self, key: str | None) -> dict[str, Any]:
        """The flow as the caller holding `key` may see it: a secret result goes to the
        capability's holder the first time it is there, and is then forgotten by the station,
        so nobody (that holder included) can read it again."""
        if (
            self.state not in TERMINAL
            or not self.holds(key)
            or not any(k in self.result for k in self.secret_keys)
        ):
            return self.view()
        out = self.view(include_secrets=True)
        for secret in self.secret_keys:
            self.result.pop(secret, None)
        return out

    def started_view(self) -> dict[str, Any]:
        """What the POST that started the flow answers: the flow and its capability."""
        return {**self.view_for(self.key), "key": self.key}


class FlowSteps(Protocol):
    """What a service does at each point of its door flow (each commits its own events)."""

    async def opened(self, flow: Flow) -> None: ...

    async def not_opened(self, flow: Flow, why: str) -> None: ...

    async def closed(self, flow: Flow, runner: FlowRunner) -> None: ...

    async def not_closed(self, flow: Flow) -> None: ...


class FlowRunner:
    def __init__(
        self,
        lockers: LockerService,
        store: Store,
        clock: Clock,
        *,
        open_window_s: float,
        close_wait_s: float,
        publish: Callable[[dict[str, Any]], None],
        keep_finished_s: float = 600.0,
    ) -> None:
        self._lockers = lockers
        self._store = store
        self._clock = clock
        self._open_window = open_window_s
        self._close_wait = close_wait_s
        self._publish = publish
        self._keep = keep_finished_s
        self._flows: dict[str, Flow] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._changed = asyncio.Condition()
        # A door in a flow is its service's to judge: the sensor is not asked about it.
        lockers.expect_items(lambda tx, locker: True if self.busy(locker) else None)

    # --- starting ------------------------------------------------------------------------------

    def retime(self, open_window_s: float) -> None:
        """A new window for the door to open after an unlock (apply_settings), for the
        flows started from now on."""
        self._open_window = open_window_s

    def busy(self, locker: str) -> bool:
        """Whether a flow is under way on this locker (only one at a time per door)."""
        return any(f.locker == locker and f.state not in TERMINAL for f in self._flows.values())

    def start(
        self,
        kind: str,
        locker: str,
        *,
        actor: str,
        reason: str,
        steps: FlowSteps,
        context: dict[str, Any] | None = None,
        secret_keys: frozenset[str] = frozenset(),
        on_finish: list[Callable[[Flow], None]] | None = None,
        journal: dict[str, Any] | None = None,
    ) -> Flow:
        """Begin a flow now. Call without awaiting anything after the checks that chose the
        locker, so no other request can take the same door in between."""
        if self._store.behind is not None and not actor.startswith("staff:"):
            # Its newest events were lost: a loan or deposit it no longer knows of could be
            # given away twice. Staff still open doors (store/integrity.py).
            raise Refusal(
                "unavailable",
                "station_restoring",
                "this station must be restored by staff before it serves residents again",
            )
        if self.busy(locker):
            raise Refusal(
                "conflict", "locker_unavailable", f"locker {locker} is in use", locker=locker
            )
        now = self._clock.wall()
        flow = Flow(
            id=uuid.uuid4().hex,
            kind=kind,
            locker=locker,
            actor=actor,
            reason=reason,
            started_at=now,
            updated_at=now,
            message=_MESSAGES["opening"].format(locker=locker),
            context=dict(context or {}),
            secret_keys=secret_keys,
            journal=journal,
            _on_finish=list(on_finish or []),
        )
        self._flows[flow.id] = flow
        self._tasks[flow.id] = asyncio.create_task(
            self._run(flow, steps), name=f"flow-{kind}-{flow.id[:8]}"
        )
        self._publish_flow(flow)
        return flow

    # --- following -----------------------------------------------------------------------------

    def get(self, flow_id: str) -> Flow:
        flow = self._flows.get(flow_id)
        if flow is None:
            raise Refusal("not_found", "not_found", "no such flow (finished flows are kept 10 min)")
        return flow

    async def wait(self, flow_id: str, state: str | None, within: float) -> Flow:
        """The flow once its state differs from `state` (or after `within` seconds)."""
        flow = self.get(flow_id)
        if state is None or within <= 0:
            return flow
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within), self._changed:
                await self._changed.wait_for(lambda: flow.state != state)
        return flow

    async def ask(
        self, flow: Flow, question: dict[str, Any], within: float
    ) -> dict[str, Any] | None:
        """Put a question on the screen and wait for `answer`; None if nobody answers in time."""
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        flow._answer = future
        await self._set(flow, "awaiting_answer", question=question)
        try:
            return await asyncio.wait_for(future, within)
        except TimeoutError:
            return None
        finally:
            flow._answer = None
            flow.question = None

    async def reopen(self, flow: Flow, reason: str) -> bool:
        """Open the flow's door once more (audited like any unlock) and wait for it to be seen
        open and closed again; False if it did not open or was not closed in time."""
        await self._set(flow, "opening")
        try:
            unlock = await self._lockers.open_door(flow.locker, actor=flow.actor, reason=reason)
        except LockerError:
            return False
        opened = await self._lockers.wait_door(flow.locker, "open", within=self._open_window)
        if not opened and not await self._opened_since(flow.locker, unlock.unlock_seq):
            return False
        await self._set(flow, "open")
        return await self._lockers.wait_door(flow.locker, "closed", within=self._close_wait)

    async def answer(self, flow_id: str, answer: dict[str, Any], within: float = 5.0) -> Flow:
        flow = self.get(flow_id)
        if flow.state != "awaiting_answer" or flow._answer is None or flow._answer.done():
            raise Refusal(
                "conflict",
                "invalid_state",
                f"this flow is {flow.state}, not waiting for an answer",
            )
        flow._answer.set_result(answer)
        return await self.wait(flow_id, "awaiting_answer", within)

    # --- running -------------------------------------------------------------------------------

    async def _run(self, flow: Flow, steps: FlowSteps) -> None:
        try:
            if flow.journal is not None:
                await self._store.write(lambda tx: _log_started(tx, flow))
            try:
                unlock = await self._lockers.open_door(
                    flow.locker, actor=flow.actor, reason=flow.reason
                )
            except LockerError as exc:
                await steps.not_opened(flow, str(exc))
                await self._finish(flow, "cancelled", error="locker_unavailable")
                return
            opened = await self._lockers.wait_door(flow.locker, "open", within=self._open_window)
            if not opened:
                opened = await self._opened_since(flow.locker, unlock.unlock_seq)
            if not opened:
                await steps.not_opened(
                    flow, f"door did not open within {self._open_window:g} s of its unlock"
                )
                await self._finish(flow, "cancelled", error="door_not_opened")
                return
            await steps.opened(flow)
            await self._set(flow, "open")
            closed = await self._lockers.wait_door(flow.locker, "closed", within=self._close_wait)
            if not closed:
                await steps.not_closed(flow)
                await self._finish(flow, "abandoned", error="door_not_closed")
                return
            await steps.closed(flow, self)
            await self._finish(flow, "completed")
        except asyncio.CancelledError:
            if flow.state not in TERMINAL:
                flow.state, flow.error = "failed", "station_stopped"
            raise
        except Exception:
            log.exception("flow %s (%s on %s) failed", flow.id, flow.kind, flow.locker)
            await self._finish(flow, "failed", error="internal_error")

    async def _opened_since(self, locker: str, unlock_seq: int) -> bool:
        """Whether the log saw this door open after the unlock: a door opened and shut again
        between two notifications still counts as opened."""
        seen = await self._store.read(
            lambda db: first_after(db.conn, "door_opened", locker, unlock_seq)
        )
        return seen is not None

    async def _set(self, flow: Flow, state: FlowState, **changes: Any) -> None:
        flow.state = state
        for key, value in changes.items():
            setattr(flow, key, value)
        if "message" not in changes:
            flow.message = flow.context.get(f"message_{state}") or _MESSAGES[state].format(
                locker=flow.locker
            )
        flow.updated_at = self._clock.wall()
        self._publish_flow(flow)
        async with self._changed:
            self._changed.notify_all()

    async def _finish(self, flow: Flow, state: FlowState, error: str | None = None) -> None:
        flow.finished_mono = self._clock.monotonic()
        await self._set(flow, state, error=error)
        for callback in flow._on_finish:
            try:
                callback(flow)
            except Exception:
                log.exception("flow %s: finish callback failed", flow.id)

    def _publish_flow(self, flow: Flow) -> None:
        self._publish({"kind": "flow", "flow": flow.view(include_secrets=False)})

    # --- housekeeping --------------------------------------------------------------------------

    def prune(self) -> int:
        """Forget flows finished more than `keep_finished_s` ago."""
        now = self._clock.monotonic()
        old = [
            fid
            for fid, f in self._flows.items()
            if f.finished_mono is not None and now - f.finished_mono >= self._keep
        ]
        for fid in old:
            self._flows.pop(fid, None)
            self._tasks.pop(fid, None)
        return len(old)

    def active(self) -> list[Flow]:
        return [f for f in self._flows.values() if f.state not in TERMINAL]

    async def stop(self) -> None:
        tasks = [t for t in self._tasks.values() if not t.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def log_at_door(
    store: Store, flow: Flow, event: str, payload: dict[str, Any], actor: str | None = None
) -> None:
    """Log one event of a step that changes nothing else (cancelled, abandoned), at the
    flow's door and by the flow's actor unless another is named (the system)."""
    await store.write(
        lambda tx: tx.append(event, actor=actor or flow.actor, locker=flow.locker, payload=payload)
    )


def _log_started(tx: Tx, flow: Flow) -> None:
    tx.append(
        "flow_started",
        actor=flow.actor,
        locker=flow.locker,
        payload={**(flow.journal or {}), "flow": flow.id, "flow_kind": flow.kind},
    )


@dataclass(frozen=True)
class Unsettled:
    """A journaled flow a restart cut short: what it logged, and whether its door opened."""

    flow: str
    locker: str
    actor: str
    journal: dict[str, Any]
    door_opened: bool
    door_unlocked: bool
    """Whether the lock was released after the flow began (a cut before it leaves it shut)."""


def unsettled_flows(tx: Tx, kind: str, settled_by: tuple[str, ...]) -> list[Unsettled]:
    """Flows of `kind` that logged `flow_started` but no event of `settled_by` naming them.

    A service calls this at start: the daemon stopped (a power cut) between the unlock and the
    flow's own record of what happened, so the usage log is all there is to go on. Whether the
    door was seen open after the flow began (before the stop, or found open at the restart)
    tells whether a person reached into the locker.
    """
    marks = ",".join("?" * len(settled_by))
    settled = {
        r[0]
        for r in tx.conn.execute(
            f"SELECT json_extract(payload, '$.flow') FROM events WHERE type IN ({marks})",
            settled_by,
        )
    }
    out = []
    for seq, locker, actor, payload in tx.conn.execute(
        "SELECT seq, locker, actor, payload FROM events WHERE type = 'flow_started'"
        " AND json_extract(payload, '$.flow_kind') = ? ORDER BY seq",
        (kind,),
    ).fetchall():
        journal = json.loads(payload)
        if journal["flow"] in settled:
            continue
        opened = first_after(tx.conn, "door_opened", locker, seq)
        unlocked = first_after(tx.conn, "door_unlocked", locker, seq)
        out.append(
            Unsettled(
                journal["flow"], locker, actor, journal, opened is not None, unlocked is not None
            )
        )
    return out
