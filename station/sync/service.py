"""The sync service: the usage log up to central, the office's bundle down, and how it is going.

Uplink: events after the cursor go in gzipped batches; central answers with the highest sequence
it holds contiguously and the cursor moves only there, so a lost answer, a crash or a replayed
batch at worst re-sends events central then recognises. Events are deleted only once central
has them and they are older than the retention period.

Every failure (no network, timeouts, 5xx, garbage, TLS, a revoked token, a full disk) is logged
with what to do, shown in status(), and retried with capped exponential back-off and full
jitter; none stops the station or loses an event.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from station.alarms import AlarmService
from station.clock import Clock
from station.store import Store, StoreFull, Tx
from station.store.integrity import behind_central, write_acked_mark
from station.sync.backoff import Backoff
from station.sync.clock_offsets import correct_pending, first_held, note_clock, record_offset
from station.sync.commands import CommandHandler, command_round
from station.sync.config import SyncConfig
from station.sync.downlink import (
    AppliedBundle,
    BundleApplier,
    Received,
    apply_bundle,
    bundle_status,
    check_received,
    load_current_bundle,
    record_rejection,
)
from station.sync.errors import (
    SyncProblem,
    SyncProtocolError,
    classify_exception,
    classify_status,
)
from station.sync.schema import SYNC_SCHEMA
from station.sync.uplink import EVENT_SELECT, decode_ack
from wire.batch import Ack, Batch, encode_batch, error_detail
from wire.bundle import Bundle, BundleError

if TYPE_CHECKING:  # imported when sync first talks to central: a station without central
    import httpx  # never loads it (nor the CLI libraries httpx pulls in with it)

log = logging.getLogger("station.sync")

TelemetrySource = Callable[[], dict[str, Any] | Awaitable[dict[str, Any] | None] | None]
"""Returns (or, if async, resolves to) the compact snapshot sent with each batch."""

_PRUNE_EVERY_S = 3600.0
_PRUNE_CHUNK = 5000
_REMIND_EVERY_S = 3600.0
SYNC_ALARM = "sync_failing"
DATABASE_ALARM = "database_behind"
SYNC_ALARM_SUBJECT = "central"

__all__ = ["SYNC_SCHEMA", "SyncRound", "SyncService"]


@dataclass(frozen=True, slots=True)
class SyncRound:
    """What one sync_once() did."""

    ok: bool
    posted: bool = False
    sent: int = 0
    acked_seq: int = 0
    more: bool = False
    """Events are still waiting after this round (send the next batch at once)."""
    problem: SyncProblem | None = None


class SyncService:
    def __init__(
        self,
        store: Store,
        config: SyncConfig,
        station_id: str,
        clock: Clock,
        *,
        telemetry: TelemetrySource | None = None,
        bundle_appliers: Sequence[BundleApplier] = (),
        rng: random.Random | None = None,
        alarms: AlarmService | None = None,
        commands: CommandHandler | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.station_id = station_id
        self.clock = clock
        self._telemetry = telemetry
        self._appliers = list(bundle_appliers)
        self._backoff = Backoff(config.backoff_base_s, config.backoff_cap_s, rng)
        self._max_events = config.batch_max_events
        self._max_bytes = config.batch_max_bytes
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._client: httpx.AsyncClient | None = None
        self._last_post_mono: float | None = None
        self._last_bundle_check_mono: float | None = None
        self._last_prune_mono: float | None = None
        self._last_attempt_at: float | None = None
        self._problem: SyncProblem | None = None
        self._problem_at: float | None = None
        self._problem_logged_mono: float | None = None
        self._bundle_problem: SyncProblem | None = None
        self._next_try_mono: float | None = None
        self._failures = 0
        self._bundle_cache: AppliedBundle | None = None
        self._alarms = alarms
        self._commands = commands
        self._alarm_open: bool | None = None
        """Whether the sync_failing alarm is open; None until known (one may survive a restart)."""
        self._failing_since: float | None = None
        self._failing_since_mono: float | None = None

    # --- public --------------------------------------------------------------------------------

    async def run(self) -> None:
        """Sync until cancelled: a backlog batch after batch, then every interval_s."""
        if not self.config.enabled:
            log.info("sync is off (no [sync] url): every event is kept on the station")
            return
        log.info("sync to %s starting from seq %d", self._host(), self.cursor())
        try:
            while True:
                self._wake.clear()  # a nudge during the round below starts the next at once
                outcome = await self.sync_once()
                if outcome.ok and outcome.more:
                    continue
                delay = self.retry_delay(outcome)
                self._next_try_mono = self.clock.monotonic() + delay
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
                # that lands as the wake-up fires, and the daemon would never stop.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._wake.wait()
        finally:
            await self.aclose()

    def nudge(self) -> None:
        """Try now instead of at the next interval (the sync screen's "sync now" button)."""
        self._wake.set()

    async def sync_once(self) -> SyncRound:
        """One upload (or heartbeat), then the bundle check and pruning when they are due."""
        if not self.config.enabled:
            return SyncRound(ok=True)
        async with self._lock:
            outcome = await self._upload_round()
            # The bundle is fetched whatever the upload did: an upload central refuses must
            # not keep a deactivated staff account active here.
            await self._bundle_round_if_due()
            if outcome.ok:
                await self._command_round()
                await self._prune_if_due()
            return outcome

    async def catch_up(self, max_rounds: int = 1_000_000) -> SyncRound:
        """Upload until nothing is pending or a round fails (for tools and tests)."""
        outcome = SyncRound(ok=True)
        for _ in range(max_rounds):
            outcome = await self.sync_once()
            if not outcome.ok or not outcome.more:
                break
        return outcome

    async def check_bundle(self) -> str:
        """Poll central for a newer bundle now; returns 'applied', 'current', 'rejected' or
        'failed'."""
        async with self._lock:
            return await self._bundle_round()

    async def prune(self) -> int:
        """Delete synced events older than the retention period; returns how many."""
        days = self.config.retention_days
        if days <= 0 or not self.clock.synced():
            return 0
        cutoff = self.clock.wall() - days * 86_400
        total = 0
        while True:
            n = await self.store.write(lambda tx: _prune_chunk(tx, cutoff))
            total += n
            if n < _PRUNE_CHUNK:
                break
        if total:
            log.info("pruned %d synced events older than %g days", total, days)
        return total

    def cursor(self) -> int:
        return int(self.store.query("SELECT cursor FROM sync_state WHERE id = 1")[0]["cursor"])

    def current_bundle(self) -> Bundle | None:
        """The bundle the station runs on (members, staff, tools, notices, settings)."""
        applied = self.applied_bundle()
        return applied.bundle if applied else None

    def applied_bundle(self) -> AppliedBundle | None:
        version = self.store.query("SELECT bundle_version FROM sync_state WHERE id = 1")[0][
            "bundle_version"
        ]
        if self._bundle_cache is None or self._bundle_cache.version != version:
            self._bundle_cache = load_current_bundle(self.store)
        return self._bundle_cache

    def status(self) -> dict[str, Any]:
        """The sync screen's and telemetry's view: how far behind, and what is wrong if anything."""
        row = self.store.query(
            "SELECT s.cursor, s.last_success_at,"
            " (SELECT COUNT(*) FROM events e WHERE e.seq > s.cursor) AS pending,"
            " (SELECT COALESCE(e.ts_corrected, e.ts) FROM events e WHERE e.seq > s.cursor"
            "  ORDER BY e.seq LIMIT 1) AS oldest_pending,"
            " (SELECT MAX(seq) FROM events) AS newest"
            " FROM sync_state s WHERE s.id = 1"
        )[0]
        now = self.clock.wall()
        oldest = row["oldest_pending"]
        next_in = None
        if self._next_try_mono is not None:
            next_in = max(0.0, self._next_try_mono - self.clock.monotonic())
        return {
            "enabled": self.config.enabled,
            "central": self._host(),
            "cursor": row["cursor"],
            "newest_seq": row["newest"] or 0,
            "pending": row["pending"],
            "lag_s": max(0.0, now - oldest) if oldest is not None else 0.0,
            "last_success_at": row["last_success_at"],
            "last_attempt_at": self._last_attempt_at,
            "failures": self._failures,
            "failing_since": self._failing_since,
            "next_try_in_s": next_in,
            "last_error": self._problem.to_dict() | {"at": self._problem_at}
            if self._problem
            else None,
            "bundle": bundle_status(self.store)
            | {"last_error": self._bundle_problem.to_dict() if self._bundle_problem else None},
        }

    def telemetry_summary(self) -> dict[str, Any]:
        """The few sync numbers that travel with every batch."""
        s = self.status()
        return {
            "pending": s["pending"],
            "lag_s": round(s["lag_s"], 1),
            "cursor": s["cursor"],
            "bundle_version": s["bundle"]["version"],
            "bundle_status": s["bundle"]["status"],
            "last_error": s["last_error"]["kind"] if s["last_error"] else None,
            "failing_since": s["failing_since"],
            "failures": s["failures"],
        }

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # --- uplink --------------------------------------------------------------------------------

    async def _upload_round(self) -> SyncRound:
        self._last_attempt_at = self.clock.wall()
        try:
            outcome = await self._upload()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            problem = classify_exception(exc)
            if problem.kind == "internal":
                log.exception("sync: unexpected error")
            self._fail(problem)
            outcome = SyncRound(ok=False, problem=problem)
        await self._update_alarm(outcome)
        return outcome

    async def _update_alarm(self, outcome: SyncRound) -> None:
        """Tell staff (and, through the log, central) of a long outage, and that it ended.

        The back-off keeps a down central from being hammered, but it also keeps the failure
        quiet: without this alarm a station could go a week without sync and nobody would know
        until the office missed its data.
        """
        alarms = self._alarms
        if alarms is None:
            return
        try:
            if outcome.ok:
                if self._alarm_open is not False:
                    await self.store.write(
                        lambda tx: alarms.clear_alarm(
                            tx, SYNC_ALARM, SYNC_ALARM_SUBJECT, "central acknowledged an upload"
                        )
                    )
                    self._alarm_open = False
                return
            since = self._failing_since_mono
            if self._alarm_open or since is None:
                return
            if self.clock.monotonic() - since < self.config.alarm_after_s:
                return
            detail = self._alarm_detail(outcome.problem)
            await self.store.write(
                lambda tx: alarms.raise_alarm(tx, SYNC_ALARM, SYNC_ALARM_SUBJECT, detail)
            )
            self._alarm_open = True
            log.error("sync: alarm raised: %s", detail)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("sync: cannot update the sync alarm: %s", classify_exception(exc).line())

    def _alarm_detail(self, problem: SyncProblem | None) -> str:
        since = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(self._failing_since or 0))
        pending = self.store.query(
            "SELECT COUNT(*) AS n FROM events e, sync_state s WHERE s.id = 1 AND e.seq > s.cursor"
        )[0]["n"]
        what = problem.line() if problem else "unknown failure"
        return (
            f"central unreachable since {since}; {pending} events wait on the station and are "
            f"sent when it answers (none is lost). Last failure: {what}"
        )

    async def _upload(self) -> SyncRound:
        try:
            cursor = await self.store.write(self._prepare)
        except StoreFull:
            await self._heartbeat_while_full()
            raise
        telemetry = await self._telemetry_snapshot()
        built = await self.store.read(lambda db: self._build(db.conn, cursor, telemetry))
        batch = built.batch
        if batch.count == 0 and not self._heartbeat_due():
            self._recovered()
            return SyncRound(ok=True, acked_seq=cursor)
        mono_before = self.clock.monotonic()
        response = await self._http().post(
            "/api/v1/ingest",
            content=batch.body,
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        )
        mono_after = self.clock.monotonic()
        self._last_post_mono = mono_after
        if response.status_code != 200:
            problem = classify_status(response.status_code, error_detail(response.content))
            if problem.shrink:
                self._shrink()
            self._fail(problem)
            return SyncRound(ok=False, posted=True, problem=problem)
        ack = decode_ack(response.status_code, response.content, self.station_id)
        new_cursor, learned = await self.store.write(
            lambda tx: self._advance(
                tx, cursor, batch.last_seq or cursor, ack, mono_before, mono_after
            )
        )
        self._recovered()
        log.debug(
            "sync: sent %d (seq %d..%d, %d bytes gzipped), central holds up to %d",
            batch.count,
            batch.first_seq,
            batch.last_seq,
            len(batch.body),
            ack.acked_seq,
        )
        more = built.more or new_cursor < cursor or (built.held and learned)
        return SyncRound(ok=True, posted=True, sent=batch.count, acked_seq=new_cursor, more=more)

    async def _heartbeat_while_full(self) -> None:
        """Tell central that this station's disk is full, though no event can move.

        With the disk full the cursor cannot be saved, so sending events would only make central
        see the same batch again and again; but a station that falls silent looks like one
        without a network. A telemetry-only heartbeat (its `sync.last_error` says "disk" and
        `health.store_full_since` when it began) lets the office see what is wrong."""
        try:
            telemetry = await self._telemetry_snapshot()
            telemetry["sync"] = self.telemetry_summary() | {"last_error": "disk"}
            batch = encode_batch(self.station_id, self.cursor(), [], self._max_bytes, telemetry, 1)
            await self._http().post(
                "/api/v1/ingest",
                content=batch.body,
                headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.debug("sync: heartbeat with a full disk failed too: %s", exc)

    def _prepare(self, tx: Tx) -> int:
        """Learn this boot's clock offset and correct what can be corrected; return the cursor."""
        note_clock(tx.conn, self.clock)
        cursor = int(tx.conn.execute("SELECT cursor FROM sync_state WHERE id = 1").fetchone()[0])
        correct_pending(tx.conn, cursor, self.clock.wall())
        return cursor

    def _build(self, conn: Any, cursor: int, telemetry: dict[str, Any]) -> _Built:
        reader = conn.cursor()
        reader.row_factory = None  # plain tuples: sqlite3.Row objects only to be copied again
        rows = reader.execute(EVENT_SELECT, (cursor, self._max_events)).fetchall()
        cut = first_held(
            rows, self.clock.boot_id, self.clock.monotonic(), self.config.hold_unsynced_s
        )
        batch = encode_batch(
            self.station_id,
            cursor,
            rows[:cut],
            self._max_bytes,
            telemetry,
            self.config.gzip_level,
        )
        more = batch.count < cut or (cut == len(rows) == self._max_events)
        return _Built(batch, more, held=cut < len(rows))

    def _advance(
        self,
        tx: Tx,
        cursor: int,
        sent_up_to: int,
        ack: Ack,
        mono_before: float,
        mono_after: float,
    ) -> tuple[int, bool]:
        """Move the cursor to what central holds, but never past what this station has sent
        it: a confused or forged answer claiming more would otherwise skip events that central
        never saw. Learn the boot's offset from central's clock if ours is not synchronised.
        Returns (new cursor, whether an offset was learned)."""
        conn = tx.conn
        acked = ack.acked_seq
        newest = conn.execute("SELECT MAX(seq) FROM events").fetchone()[0] or 0
        target = min(acked, newest, max(sent_up_to, cursor))
        if cursor < target < acked <= newest:
            log.info(
                "central says it holds up to seq %d, beyond this batch (to %d): the rest is "
                "sent again to be sure (central keeps each event once).",
                acked,
                sent_up_to,
            )
        if acked > newest:
            self._lost_newest(tx, acked)
        elif acked < cursor:
            log.warning(
                "central holds only up to seq %d, behind this station's cursor %d (central "
                "restored from a backup?): re-sending from %d.",
                acked,
                cursor,
                acked,
            )
        conn.execute(
            "UPDATE sync_state SET cursor = ?, last_success_at = ? WHERE id = 1",
            (target, self.clock.wall()),
        )
        write_acked_mark(self.store.path, acked)
        learned = False
        if ack.server_time is not None and not self.clock.synced():
            half_rtt = max(0.0, (mono_after - mono_before) / 2)
            offset = ack.server_time - (mono_before + half_rtt)
            learned = record_offset(
                conn, self.clock.boot_id, offset, "central", half_rtt, ack.server_time
            )
        return target, learned

    def _lost_newest(self, tx: Tx, acked: int) -> None:
        """Central holds more than this database: its newest events were lost (a kill with the
        -wal deleted, an old copy put in place). New events would reuse numbers central holds,
        so resident services stop and staff are told how to restore (store/integrity.py)."""
        first = self.store.behind is None
        self.store.behind = behind_central(tx.conn, self.store.path, acked)
        if self.store.behind is None:
            return
        message = self.store.behind.message(self.store.path)
        if first:
            log.error("%s", message)
        if self._alarms is not None:
            self._alarms.raise_alarm(tx, DATABASE_ALARM, "store", message)

    def _heartbeat_due(self) -> bool:
        if self._last_post_mono is None:
            return True
        return self.clock.monotonic() - self._last_post_mono >= self.config.heartbeat_s

    async def _telemetry_snapshot(self) -> dict[str, Any]:
        snapshot: dict[str, Any] = {}
        if self._telemetry is not None:
            try:
                result = self._telemetry()
                if inspect.isawaitable(result):
                    result = await result
                snapshot = dict(result or {})
            except Exception:
                log.exception("telemetry source failed; the batch goes without its snapshot")
        snapshot.setdefault("sync", self.telemetry_summary())
        return snapshot

    def _shrink(self) -> None:
        self._max_events = max(1, self._max_events // 2)
        self._max_bytes = max(4096, self._max_bytes // 2)
        log.warning(
            "sync: batches reduced to %d events / %d bytes", self._max_events, self._max_bytes
        )

    # --- downlink ------------------------------------------------------------------------------

    async def _bundle_round_if_due(self) -> None:
        now = self.clock.monotonic()
        last = self._last_bundle_check_mono
        if last is None or now - last >= self.config.bundle_interval_s:
            self._last_bundle_check_mono = now
            await self._bundle_round()

    async def _bundle_round(self) -> str:
        try:
            have = self.store.query("SELECT bundle_version FROM sync_state WHERE id = 1")[0][
                "bundle_version"
            ]
            response = await self._http().get("/api/v1/bundle", params={"have": have})
            if response.status_code == 304:
                self._bundle_problem = None
                return "current"
            if response.status_code != 200:
                raise _BundleFetchError(
                    classify_status(response.status_code, error_detail(response.content))
                )
            received = _received(response)
            if received.version <= have:
                return "current"
            try:
                bundle = check_received(received)
                await self.store.write(
                    lambda tx: apply_bundle(tx, received, bundle, self._appliers)
                )
            except (BundleError, ValueError, LookupError, TypeError) as exc:
                reason = str(exc) or type(exc).__name__
                first = await self.store.write(
                    lambda tx: record_rejection(tx, received.version, reason)
                )
                if first:
                    log.error(
                        "bundle v%d refused: %s. The station keeps running on bundle v%d; "
                        "the central office must publish a corrected bundle.",
                        received.version,
                        reason,
                        have,
                    )
                return "rejected"
            self._bundle_problem = None
            log.info("bundle v%d applied (%s)", received.version, bundle.counts())
            return "applied"
        except asyncio.CancelledError:
            raise
        except _BundleFetchError as exc:
            self._bundle_problem = exc.problem
        except Exception as exc:
            self._bundle_problem = classify_exception(exc)
        log.warning("bundle check failed: %s", self._bundle_problem.line())
        return "failed"

    # --- office commands -----------------------------------------------------------------------

    async def _command_round(self) -> None:
        if self._commands is None:
            return
        try:
            await command_round(self._http(), self.station_id, self._commands)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("office commands: %s", classify_exception(exc).line())

    # --- pruning -------------------------------------------------------------------------------

    async def _prune_if_due(self) -> None:
        now = self.clock.monotonic()
        if self._last_prune_mono is None or now - self._last_prune_mono >= _PRUNE_EVERY_S:
            self._last_prune_mono = now
            try:
                await self.prune()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("pruning old events failed: %s", classify_exception(exc).line())

    # --- plumbing ------------------------------------------------------------------------------

    def _http(self) -> httpx.AsyncClient:
        from station.http_client import httpx

        if self._client is None:
            token = self.config.read_token()
            verify: Any = str(self.config.ca_file) if self.config.ca_file else True
            self._client = httpx.AsyncClient(
                base_url=self.config.url.rstrip("/"),
                timeout=httpx.Timeout(self.config.timeout_s, connect=self.config.connect_timeout_s),
                verify=verify,
                headers={
                    "Authorization": f"Bearer {token}",
                    "User-Agent": f"gongxiang-yizhan-station/{self.station_id}",
                },
            )
        return self._client

    def _host(self) -> str:
        from station.http_client import httpx

        return httpx.URL(self.config.url).host if self.config.url else ""

    def _fail(self, problem: SyncProblem) -> None:
        now_mono = self.clock.monotonic()
        changed = self._problem is None or self._problem.kind != problem.kind
        remind = (
            self._problem_logged_mono is None
            or now_mono - self._problem_logged_mono >= _REMIND_EVERY_S
        )
        if changed or remind:
            log.warning("sync: %s (failure %d)", problem.line(), self._failures + 1)
            self._problem_logged_mono = now_mono
        else:
            log.debug("sync: %s", problem.message)
        self._problem = problem
        self._problem_at = self.clock.wall()
        if self._failing_since is None:
            self._failing_since = self._problem_at
            self._failing_since_mono = now_mono
        self._failures += 1

    def _recovered(self) -> None:
        if self._problem is not None:
            log.info("sync: central reachable again after %d failure(s)", self._backoff.failures)
        self._problem = None
        self._problem_logged_mono = None
        self._failing_since = None
        self._failing_since_mono = None
        self._backoff.reset()

    def retry_delay(self, outcome: SyncRound) -> float:
        """How long run() waits after a round with this outcome (capped, jittered back-off)."""
        if outcome.ok:
            return self.config.interval_s
        if outcome.problem is not None and outcome.problem.slow:
            return self._backoff.slow_delay()
        return self._backoff.next_delay()


@dataclass(frozen=True, slots=True)
class _Built:
    batch: Batch
    more: bool
    """Sendable events remain beyond this batch."""
    held: bool
    """The batch stopped at an event waiting for a time correction."""


class _BundleFetchError(Exception):
    def __init__(self, problem: SyncProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _received(response: httpx.Response) -> Received:
    version = response.headers.get("x-bundle-version", "")
    digest = response.headers.get("x-bundle-sha256", "")
    if not version.isdigit() or len(digest) != 64:
        raise SyncProtocolError("bundle answer lacks X-Bundle-Version / X-Bundle-SHA256")
    return Received(int(version), digest, response.content)


def _prune_chunk(tx: Tx, cutoff: float) -> int:
    cur = tx.conn.execute(
        "DELETE FROM events WHERE seq IN (SELECT e.seq FROM events e, sync_state s"
        " WHERE s.id = 1 AND e.seq <= s.cursor AND COALESCE(e.ts_corrected, e.ts) < ?"
        " ORDER BY e.seq LIMIT ?)",
        (cutoff, _PRUNE_CHUNK),
    )
    return cur.rowcount
