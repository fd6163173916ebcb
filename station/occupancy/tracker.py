"""The occupancy tracker: the rest area's state, its sessions, and the fan and light it drives.

Each poll it reads the sensors, fuses them (fusion.py), decides the relays (relays.py) and
writes whatever changed (state, session, alarm, relay switch) in ONE transaction with its
usage-log events. Only after the commit does it adopt the new state and move the relays, so a
failed write (disk full) changes nothing and the next poll tries again. Time comes from the
injected clock, so tests run a 20-minute rest in milliseconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time, tzinfo
from typing import TYPE_CHECKING, Any, Protocol

from station.clock import Clock
from station.occupancy.config import OccupancyConfig
from station.occupancy.fusion import SensorReading, State, Verdict, evaluate
from station.occupancy.relays import (
    RELAY_NAMES,
    Override,
    RelayName,
    RelayState,
    Switch,
    decide,
    switched,
)
from station.occupancy.sources import SensorSource
from station.occupancy.stats import TodayStats, today_stats
from station.store import Store, StoreError, Tx

if TYPE_CHECKING:
    from drivers.gpio.relay import OutputRelay

log = logging.getLogger(__name__)

SEEN_PERSIST_S = 60.0
"""While occupied, the last sighting is saved this often, so a crash loses at most this much
of a session's length."""
RECENT_SESSIONS_S = 2 * 86_400.0


class Alarms(Protocol):
    """What the tracker needs from station.alarms.AlarmService (called inside a transaction)."""

    def raise_alarm(self, tx: Tx, type: str, subject: str, detail: str = "") -> object: ...

    def clear_alarm(self, tx: Tx, type: str, subject: str) -> object: ...


class OverrideError(Exception):
    """A manual override that cannot be set as asked; the message says what to change."""


@dataclass(frozen=True, slots=True)
class SensorStatus:
    online: bool
    present: bool | None
    last_report_at: float | None
    """Wall-clock time of the newest reading."""
    detail: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class RelayStatus:
    on: bool
    since: float
    mode: str
    """'auto' or 'override'."""
    override_on: bool | None = None
    override_until: float | None = None
    override_by: str | None = None
    override_reason: str | None = None


@dataclass(frozen=True, slots=True)
class OccupancySnapshot:
    state: State
    since: float
    """Wall-clock time the state began."""
    reason: str
    sensors: dict[str, SensorStatus]
    today: TodayStats
    relays: dict[str, RelayStatus]
    session_started_at: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "since": self.since,
            "reason": self.reason,
            "session_started_at": self.session_started_at,
            "sensors": {
                name: {
                    "online": s.online,
                    "present": s.present,
                    "last_report_at": s.last_report_at,
                    "detail": dict(s.detail),
                }
                for name, s in self.sensors.items()
            },
            "today": {
                "date": self.today.date,
                "occupied_minutes": self.today.occupied_minutes,
                "sessions": self.today.sessions,
            },
            "relays": {
                name: {
                    "on": r.on,
                    "since": r.since,
                    "mode": r.mode,
                    "override": None
                    if r.mode != "override"
                    else {
                        "on": r.override_on,
                        "until": r.override_until,
                        "by": r.override_by,
                        "reason": r.override_reason,
                    },
                }
                for name, r in self.relays.items()
            },
        }


@dataclass(frozen=True, slots=True)
class _Session:
    started_mono: float
    started_wall: float


@dataclass
class StepPlan:
    """Everything one step decided; applied to memory and pins only after it is committed."""

    state: State
    reason: str
    since_mono: float
    since_wall: float
    last_seen: float | None
    session: _Session | None
    offline: set[str]
    relays: dict[RelayName, RelayState]
    switches: list[Switch] = field(default_factory=list)
    writes: list[Callable[[Tx], None]] = field(default_factory=list)
    closed_session: tuple[float, float] | None = None
    persist_seen: bool = False
    changed: bool = False
    """Something a listener should hear about (not just the periodic last-seen save)."""


class OccupancyTracker:
    def __init__(
        self,
        config: OccupancyConfig,
        store: Store,
        clock: Clock,
        alarms: Alarms,
        *,
        sources: Sequence[SensorSource] = (),
        relays: Mapping[RelayName, OutputRelay] | None = None,
        sensors: Sequence[str] | None = None,
        tz: tzinfo | None = None,
    ) -> None:
        """`sensors` names the sensors to fuse when readings are fed by hand with apply();
        by default they are the sources' names. `tz` is the station's local zone for light
        hours and 'today' (default: the system's)."""
        self.config = config
        self._store = store
        self._clock = clock
        self._alarms = alarms
        self._sources = list(sources)
        self._outputs: dict[RelayName, OutputRelay] = dict(relays or {})
        for name in self._outputs:
            if name not in RELAY_NAMES:
                raise ValueError(f"unknown relay {name!r}; the tracker drives {RELAY_NAMES}")
        self._sensors = tuple(sensors if sensors is not None else (s.name for s in sources))
        self._tz = tz
        self._lock = asyncio.Lock()
        self._latest: dict[str, SensorReading] = {}
        now, wall = clock.monotonic(), clock.wall()
        self._started_at = now
        self._state: State = "unknown"
        self._reason = "starting"
        self._since_mono, self._since_wall = now, wall
        self._last_seen: float | None = None
        self._seen_persisted = now
        self._session: _Session | None = None
        self._offline: set[str] = set()
        self._relays: dict[RelayName, RelayState] = {}
        self._recent: list[tuple[float, float]] = []
        self._started = False
        self._closed = False
        self._listeners: list[Callable[[OccupancySnapshot], None]] = []

    def retune(self, config: OccupancyConfig) -> None:
        """A new config from the office (apply_settings: `hold_s`), used from the next
        fusion; the sensors and relays stay as they were built."""
        self.config = config

    # --- reading -------------------------------------------------------------------------------

    @property
    def state(self) -> State:
        return self._state

    @property
    def since(self) -> float:
        """Wall-clock time the current state began."""
        return self._since_wall

    @property
    def sensors(self) -> tuple[str, ...]:
        return self._sensors

    @property
    def sources(self) -> tuple[SensorSource, ...]:
        """The sensor sources polled each step (the self-test reads their drivers' stats)."""
        return tuple(self._sources)

    def relay_states(self) -> dict[str, RelayStatus]:
        out: dict[str, RelayStatus] = {}
        now = self._clock.monotonic()
        for name, r in self._relays.items():
            ov = r.override if r.override is not None and now < r.override.until else None
            out[name] = RelayStatus(
                on=r.on,
                since=r.since_wall,
                mode="override" if ov else "auto",
                override_on=ov.on if ov else None,
                override_until=ov.until_wall if ov else None,
                override_by=ov.actor if ov else None,
                override_reason=ov.reason if ov else None,
            )
        return out

    def today(self) -> TodayStats:
        spans = list(self._recent)
        if self._session is not None:
            seen = self._last_seen if self._last_seen is not None else self._session.started_mono
            spans.append((self._session.started_wall, self._wall_of(seen)))
        return today_stats(self._clock.wall(), self._tz, spans)

    def snapshot(self) -> OccupancySnapshot:
        now = self._clock.monotonic()
        sensors: dict[str, SensorStatus] = {}
        for name in self._sensors:
            r = self._latest.get(name)
            fresh = r is not None and now - r.at <= self.config.stale_s
            sensors[name] = SensorStatus(
                online=fresh,
                present=r.present if r is not None and fresh else None,
                last_report_at=self._wall_of(r.at) if r is not None else None,
                detail=r.detail if r is not None else {},
            )
        return OccupancySnapshot(
            state=self._state,
            since=self._since_wall,
            reason=self._reason,
            sensors=sensors,
            today=self.today(),
            relays=self.relay_states(),
            session_started_at=self._session.started_wall if self._session else None,
        )

    def subscribe(self, listener: Callable[[OccupancySnapshot], None]) -> Callable[[], None]:
        """Hear a fresh snapshot after every committed change (state, session, alarm, relay);
        returns the function that unsubscribes. Listeners run on the event loop: keep them
        short (the live stream only queues a message)."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    # --- feeding -------------------------------------------------------------------------------

    def apply(self, reading: SensorReading) -> None:
        """Record a sensor reading; the next step() fuses it. Older readings are ignored."""
        if reading.sensor not in self._sensors:
            raise ValueError(
                f"reading from {reading.sensor!r}, but the tracker fuses {self._sensors}"
            )
        current = self._latest.get(reading.sensor)
        if current is None or reading.at >= current.at:
            self._latest[reading.sensor] = reading

    def poll_sources(self) -> None:
        now = self._clock.monotonic()
        for source in self._sources:
            reading = source.read(now)
            if reading is not None:
                self.apply(reading)

    # --- life ----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Restore from the store (closing a session a crash left open) and start the sensors."""
        if self._started:
            return
        async with self._lock:
            await self._store.write(self._restore)
            self._started_at = self._clock.monotonic()
            self._started = True
        for source in self._sources:
            source.start()

    async def run(self) -> None:
        """Poll, fuse and switch every `poll_ms` until cancelled; a failed step is retried.

        The loop outlives any one failure: a rest area whose tracker died would keep its fan
        in whatever state it was left, with nobody told."""
        await self.start()
        interval = self.config.poll_ms / 1000
        while True:
            try:
                await self.step()
            except StoreError as exc:
                log.error("occupancy: change not recorded, will retry: %s", exc)
            except Exception:
                log.exception("occupancy: step failed, will retry")
            await asyncio.sleep(interval)

    async def step(self) -> StepPlan:
        """Read the sensors, decide, record, switch. Returns what was decided (for tests)."""
        if not self._started:
            await self.start()
        async with self._lock:
            self.poll_sources()
            return await self._commit(self._plan())

    async def aclose(self) -> None:
        """Switch the relays off (logged), stop the sensors, release the pins."""
        if self._closed:
            return
        async with self._lock:
            self._closed = True
            if self._started:
                plan = self._plan(stopping=True)
                try:
                    await self._commit(plan)
                except StoreError as exc:
                    log.error("occupancy: shutdown not recorded: %s", exc)
        loop = asyncio.get_running_loop()
        for source in self._sources:
            await loop.run_in_executor(None, source.close)
        for output in self._outputs.values():
            output.close()

    # --- manual override -----------------------------------------------------------------------

    async def set_override(
        self, relay: str, on: bool, *, actor: str, reason: str, duration_s: float
    ) -> RelayStatus:
        """Staff switch a relay by hand for up to `override_max_s`; it switches at once."""
        name = self._relay_name(relay)
        if not actor:
            raise OverrideError("an override needs the staff member who sets it")
        if not reason.strip():
            raise OverrideError("an override needs a reason (it is written to the usage log)")
        limit = self.config.override_max_s
        if not 0 < duration_s <= limit:
            raise OverrideError(
                f"override duration must be more than 0 and at most {limit:.0f} s "
                f"(occupancy.override_max_s); got {duration_s:g} s"
            )
        if not self._started:
            await self.start()
        async with self._lock:
            now, wall = self._clock.monotonic(), self._clock.wall()
            ov = Override(on, now + duration_s, wall + duration_s, actor, reason.strip())
            payload = {
                "relay": name,
                "on": on,
                "until": ov.until_wall,
                "duration_s": duration_s,
                "reason": ov.reason,
            }
            plan = self._plan(overrides={name: ov})
            plan.writes.insert(0, _event("relay_override_set", actor, payload))
            plan.changed = True
            await self._commit(plan)
        return self.relay_states()[name]

    async def clear_override(self, relay: str, *, actor: str, reason: str = "") -> RelayStatus:
        """Hand the relay back to automatic control (which may switch it, min times allowing)."""
        name = self._relay_name(relay)
        if not self._started:
            await self.start()
        async with self._lock:
            current = self._relays[name].override
            plan = self._plan(overrides={name: None})
            if current is not None:
                payload = {"relay": name, "reason": reason or "cleared by staff"}
                plan.writes.insert(0, _event("relay_override_ended", actor, payload))
                plan.changed = True
            await self._commit(plan)
        return self.relay_states()[name]

    def _relay_name(self, relay: str) -> RelayName:
        for name in self._outputs:
            if name == relay:
                return name
        configured = ", ".join(self._outputs) or "none"
        raise OverrideError(f"no relay named {relay!r} on this station (configured: {configured})")

    # --- deciding ------------------------------------------------------------------------------

    def _plan(
        self,
        *,
        overrides: Mapping[RelayName, Override | None] | None = None,
        stopping: bool = False,
    ) -> StepPlan:
        now, wall = self._clock.monotonic(), self._clock.wall()
        verdict = evaluate(
            now=now,
            sensors=self._sensors,
            latest=self._latest,
            started_at=self._started_at,
            current=self._state,
            last_seen=self._last_seen,
            hold_s=self.config.hold_s,
            stale_s=self.config.stale_s,
        )
        if stopping:
            verdict = replace(verdict, state="unknown", reason="station stopped", seen=())
        plan = StepPlan(
            state=self._state,
            reason=verdict.reason,
            since_mono=self._since_mono,
            since_wall=self._since_wall,
            last_seen=now if verdict.seen else self._last_seen,
            session=self._session,
            offline=set(self._offline),
            relays=dict(self._relays),
        )
        if verdict.state != self._state:
            self._plan_transition(plan, verdict, now, wall)
        if not stopping:
            self._plan_alarms(plan, verdict, now)
        self._plan_relays(plan, now, wall, overrides or {}, stopping)
        if (
            plan.state == "occupied"
            and plan.last_seen is not None
            and plan.last_seen - self._seen_persisted >= SEEN_PERSIST_S
        ):
            plan.persist_seen = True
        plan.changed = bool(plan.writes)
        if plan.writes or plan.persist_seen:
            plan.writes.append(self._write_state(plan))
        return plan

    def _plan_transition(self, plan: StepPlan, verdict: Verdict, now: float, wall: float) -> None:
        previous = self._state
        plan.state = verdict.state
        plan.since_mono, plan.since_wall = now, wall
        plan.writes.append(
            _event(
                "occupancy_changed",
                "system",
                {
                    "state": verdict.state,
                    "previous": previous,
                    "reason": verdict.reason,
                    "seen_by": list(verdict.seen),
                },
            )
        )
        if previous == "occupied" and self._session is not None:
            session = self._session
            last = plan.last_seen if plan.last_seen is not None else session.started_mono
            duration = max(0.0, last - session.started_mono)
            end_reason = "vacant" if verdict.state == "vacant" else verdict.reason
            ended_wall = session.started_wall + duration
            plan.writes.append(_close_session(session.started_wall, ended_wall, end_reason))
            plan.closed_session = (session.started_wall, ended_wall)
            plan.session = None
        if verdict.state == "occupied":
            plan.session = _Session(now, wall)
            plan.last_seen = now

    def _plan_alarms(self, plan: StepPlan, verdict: Verdict, now: float) -> None:
        for name in sorted(verdict.offline - self._offline):
            reading = self._latest.get(name)
            silent = now - (reading.at if reading is not None else self._started_at)
            detail = (
                f"occupancy sensor '{name}' has not reported for {silent:.0f} s "
                f"(limit occupancy.stale_s = {self.config.stale_s:g} s); check its cable "
                "and power. The rest area shows 'unknown' until it reports again."
            )
            plan.writes.append(_alarm(self._alarms, "raise", name, detail))
            plan.offline.add(name)
        for name in sorted(self._offline & verdict.fresh):
            plan.writes.append(_alarm(self._alarms, "clear", name, ""))
            plan.offline.discard(name)

    def _plan_relays(
        self,
        plan: StepPlan,
        now: float,
        wall: float,
        overrides: Mapping[RelayName, Override | None],
        stopping: bool,
    ) -> None:
        light_hours = self.config.light.allowed_at(self._local_time(wall))
        for name, relay in self._relays.items():
            if name in overrides:
                relay = replace(relay, override=overrides[name])
            elif relay.override is not None and now >= relay.override.until:
                payload = {"relay": name, "reason": "override time ran out"}
                plan.writes.append(_event("relay_override_ended", "system", payload))
                relay = replace(relay, override=None)
            if stopping:
                change = (
                    Switch(name, False, "system", "station shutting down") if relay.on else None
                )
            else:
                cfg = self.config.fan if name == "fan" else self.config.light
                change = decide(relay, cfg, now=now, state=plan.state, light_hours=light_hours)
            if change is not None:
                relay = switched(relay, change.on, now, wall)
                plan.switches.append(change)
                payload = {
                    "relay": name,
                    "on": change.on,
                    "reason": change.reason,
                    "occupancy": plan.state,
                }
                plan.writes.append(_event("relay_switched", change.actor, payload))
            if relay != self._relays[name]:
                plan.writes.append(_write_relay(relay))
            plan.relays[name] = relay

    def _write_state(self, plan: StepPlan) -> Callable[[Tx], None]:
        session_started = plan.session.started_wall if plan.session else None
        seen = self._wall_of(plan.last_seen) if plan.last_seen is not None else None

        def write(tx: Tx) -> None:
            tx.conn.execute(
                "INSERT INTO occupancy_state (id, state, since, session_started_at, last_seen_at)"
                " VALUES (1, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET state = excluded.state,"
                " since = excluded.since, session_started_at = excluded.session_started_at,"
                " last_seen_at = excluded.last_seen_at",
                (plan.state, plan.since_wall, session_started, seen),
            )

        return write

    # --- committing ----------------------------------------------------------------------------

    async def _commit(self, plan: StepPlan) -> StepPlan:
        if plan.writes:

            def apply(tx: Tx) -> None:
                for write in plan.writes:
                    write(tx)

            await self._store.write(apply)
        self._adopt(plan)
        if plan.changed and self._listeners:
            snapshot = self.snapshot()
            for listener in list(self._listeners):
                try:
                    listener(snapshot)
                except Exception:
                    log.exception("occupancy: a snapshot listener failed")
        return plan

    def _adopt(self, plan: StepPlan) -> None:
        if plan.state != self._state:
            log.info("occupancy: %s -> %s (%s)", self._state, plan.state, plan.reason)
        self._state = plan.state
        self._reason = plan.reason
        self._since_mono, self._since_wall = plan.since_mono, plan.since_wall
        self._last_seen = plan.last_seen
        if plan.writes and plan.last_seen is not None:
            self._seen_persisted = plan.last_seen
        self._session = plan.session
        self._offline = plan.offline
        self._relays = plan.relays
        if plan.closed_session is not None:
            self._recent.append(plan.closed_session)
            horizon = self._clock.wall() - RECENT_SESSIONS_S
            self._recent = [s for s in self._recent if s[1] >= horizon]
        for change in plan.switches:
            output = self._outputs[change.name]
            try:
                if change.on:
                    output.on()
                else:
                    output.off()
            except Exception:
                log.exception("occupancy: the %s relay did not switch", change.name)

    # --- restoring -----------------------------------------------------------------------------

    def _restore(self, tx: Tx) -> None:
        now, wall = self._clock.monotonic(), self._clock.wall()
        row = tx.conn.execute("SELECT * FROM occupancy_state WHERE id = 1").fetchone()
        if row is not None and row["state"] == "occupied" and row["session_started_at"]:
            started = float(row["session_started_at"])
            ended = max(started, float(row["last_seen_at"] or started))
            _close_session(started, ended, "daemon restarted")(tx)
        if row is not None and row["state"] != "unknown":
            _event(
                "occupancy_changed",
                "system",
                {
                    "state": "unknown",
                    "previous": row["state"],
                    "reason": "daemon started",
                    "seen_by": [],
                },
            )(tx)
        tx.conn.execute(
            "INSERT INTO occupancy_state (id, state, since) VALUES (1, 'unknown', ?)"
            " ON CONFLICT(id) DO UPDATE SET state = 'unknown', since = excluded.since,"
            " session_started_at = NULL, last_seen_at = NULL",
            (wall,),
        )
        horizon = wall - RECENT_SESSIONS_S
        self._recent = [
            (float(r["started_at"]), float(r["ended_at"]))
            for r in tx.conn.execute(
                "SELECT started_at, ended_at FROM occupancy_sessions WHERE ended_at >= ?"
                " ORDER BY id",
                (horizon,),
            )
        ]
        stored = {
            r["name"]: r for r in tx.conn.execute("SELECT * FROM occupancy_relays").fetchall()
        }
        for name in stored.keys() - self._outputs.keys():
            tx.conn.execute("DELETE FROM occupancy_relays WHERE name = ?", (name,))
        for name in self._outputs:
            old = stored.get(name)
            if old is not None and old["override_on"] is not None:
                _event(
                    "relay_override_ended",
                    "system",
                    {"relay": name, "reason": "daemon restarted"},
                )(tx)
            if old is not None and old["is_on"]:
                _event(
                    "relay_switched",
                    "system",
                    {
                        "relay": name,
                        "on": False,
                        "reason": "daemon started: relays start off",
                        "occupancy": "unknown",
                    },
                )(tx)
            cfg = self.config.fan if name == "fan" else self.config.light
            # The minimum off time is not carried across a restart (systemd's restart delay
            # already spaces restarts): the relay may switch on at the first sighting.
            relay = RelayState(name, False, now - cfg.min_off_s, wall)
            _write_relay(relay)(tx)
            self._relays[name] = relay

    # --- time ----------------------------------------------------------------------------------

    def _wall_of(self, mono: float) -> float:
        return self._clock.wall() - (self._clock.monotonic() - mono)

    def _local_time(self, wall: float) -> time:
        return datetime.fromtimestamp(wall, self._tz).time()


def _event(type: str, actor: str, payload: dict[str, Any]) -> Callable[[Tx], None]:
    def write(tx: Tx) -> None:
        tx.append(type, actor=actor, payload=payload)

    return write


def _close_session(started: float, ended: float, reason: str) -> Callable[[Tx], None]:
    def write(tx: Tx) -> None:
        duration = max(0.0, ended - started)
        cur = tx.conn.execute(
            "INSERT INTO occupancy_sessions (started_at, ended_at, duration_s, end_reason)"
            " VALUES (?, ?, ?, ?)",
            (started, ended, duration, reason),
        )
        tx.append(
            "occupancy_session",
            actor="system",
            payload={
                "session_id": int(cur.lastrowid or 0),
                "started_at": started,
                "ended_at": ended,
                "duration_s": round(duration, 1),
                "end_reason": reason,
            },
        )

    return write


def _alarm(alarms: Alarms, action: str, sensor: str, detail: str) -> Callable[[Tx], None]:
    def write(tx: Tx) -> None:
        if action == "raise":
            alarms.raise_alarm(tx, "sensor_offline", sensor, detail)
        else:
            alarms.clear_alarm(tx, "sensor_offline", sensor)

    return write


def _write_relay(relay: RelayState) -> Callable[[Tx], None]:
    ov = relay.override

    def write(tx: Tx) -> None:
        tx.conn.execute(
            "INSERT INTO occupancy_relays (name, is_on, since, override_on, override_until,"
            " override_by, override_reason) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(name) DO UPDATE SET is_on = excluded.is_on, since = excluded.since,"
            " override_on = excluded.override_on, override_until = excluded.override_until,"
            " override_by = excluded.override_by, override_reason = excluded.override_reason",
            (
                relay.name,
                int(relay.on),
                relay.since_wall,
                None if ov is None else int(ov.on),
                None if ov is None else ov.until_wall,
                None if ov is None else ov.actor,
                None if ov is None else ov.reason,
            ),
        )

    return write
