"""Lockers: every door's state as the boards report it, unlocks with their audit, door alarms.

The service polls each board every `timeouts.poll_ms` (the boards have no events to push), so a
change is seen within one poll plus one exchange on the bus. It never guesses: a door the board
cannot report is `unknown`, and an unlock is never re-sent by the station on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from drivers.lockboard.port import (
    AnnouncesUnlocks,
    BoardStatus,
    BoardUnavailable,
    DoorReading,
    LockBoard,
    UnlockUncertain,
)
from station.alarms import AlarmService
from station.clock import Clock
from station.config import LockerConfig, StationConfig, Timeouts
from station.store import Event, Store, StoreError, Tx, first_after

log = logging.getLogger(__name__)

DoorState = Literal["open", "closed", "unknown"]
_OFFLINE_POLL_S = 1.0
_DOOR_EVENTS: dict[DoorState, str] = {
    "open": "door_opened",
    "closed": "door_closed",
    "unknown": "door_unknown",
}


class LockerError(Exception):
    """A locker action refused; the message says why in words staff can act on."""


class UnknownLocker(LockerError):
    pass


class LockerUnavailable(LockerError):
    """The door cannot be opened now (faulty, board offline, unlock already under way)."""


@dataclass(frozen=True, slots=True)
class UnlockResult:
    locker: str
    unlock_seq: int
    confirmed: bool
    """False when the board's answer was lost: it may have fired; watch the door."""


@dataclass
class _Pending:
    seq: int
    deadline: float


@dataclass
class _Locker:
    cfg: LockerConfig
    door: DoorState = "unknown"
    last_known: DoorState = "unknown"
    door_since_mono: float = 0.0
    faulty: bool = False
    fault_reason: str | None = None
    pending: _Pending | None = None
    last_unlock_mono: float | None = None
    last_unlock_seq: int | None = None
    busy: asyncio.Lock = field(default_factory=asyncio.Lock)
    item: bool | None = None
    """The compartment's "item present" sensor: None where there is none or it is unread."""


@dataclass
class _Board:
    driver: LockBoard
    online: bool | None = None
    failures: int = 0
    lockers: list[_Locker] = field(default_factory=list)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    applying: asyncio.Lock = field(default_factory=asyncio.Lock)
    """One reading applied at a time: a poll's and an unlock answer's never interleave."""
    readings_taken: int = 0
    readings_applied: int = 0
    """Readings are numbered as they come off the bus; an older one is never applied last."""
    last_answer: float | None = None
    """Monotonic time of the board's last reading applied; while the board is offline, when it
    was last read: a door found open when it answers again may have opened at any moment
    since."""


class LockerService:
    def __init__(
        self,
        config: StationConfig,
        store: Store,
        alarms: AlarmService,
        boards: Mapping[str, LockBoard],
        clock: Clock,
    ) -> None:
        self._t = config.timeouts
        self._store = store
        self._alarms = alarms
        self._clock = clock
        self._lockers = {lk.id: _Locker(lk) for lk in config.lockers}
        self._boards = {bid: _Board(drv) for bid, drv in boards.items()}
        for lk in self._lockers.values():
            self._boards[lk.cfg.board].lockers.append(lk)
        self._changed = asyncio.Condition()
        self._tasks: list[asyncio.Task[None]] = []
        self._expectations: list[Callable[[Tx, str], bool | None]] = []

    # --- life --------------------------------------------------------------------------------

    async def start(self) -> None:
        """Load stored state, read every board once and reconcile, then start polling."""
        await self._store.write(self._sync_rows)
        rows = await self._store.aquery("SELECT * FROM lockers")
        for row in rows:
            lk = self._lockers[row["id"]]
            lk.door = row["door"]
            lk.last_known = row["door"]
            lk.faulty = bool(row["faulty"])
            lk.fault_reason = row["fault_reason"]
            lk.door_since_mono = self._clock.monotonic()
            lk.last_unlock_seq = row["last_unlock_seq"]
        for lid in await self._store.read(self._unlocks_not_seen_open):
            # The daemon stopped between an unlock and seeing its door open: that unlock, not
            # a break-in, explains a door found open now.
            self._lockers[lid].last_unlock_mono = self._clock.monotonic()
        await asyncio.gather(*(self._poll_once(bid, reconcile=True) for bid in self._boards))
        self._tasks = [
            asyncio.create_task(self._poll_loop(bid), name=f"poll-{bid}") for bid in self._boards
        ]
        self._tasks.append(asyncio.create_task(self._timer_loop(), name="locker-timers"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    def retime(self, timeouts: Timeouts) -> None:
        """New windows from the office (apply_settings), used from the next poll and unlock:
        every window is read where it is used, none is copied at start (the poll period and
        the bus timings are not remote settings)."""
        self._t = timeouts

    @staticmethod
    def _unlocks_not_seen_open(db: Any) -> list[str]:
        """Lockers whose last unlock has no door_opened after it in the usage log."""
        rows = db.conn.execute(
            "SELECT id, last_unlock_seq FROM lockers WHERE last_unlock_seq IS NOT NULL"
        ).fetchall()
        return [lid for lid, seq in rows if first_after(db.conn, "door_opened", lid, seq) is None]

    def _sync_rows(self, tx: Tx) -> None:
        """Make the lockers table match the config: new lockers added, moved ones updated."""
        known = {r[0] for r in tx.conn.execute("SELECT id FROM lockers")}
        for lk in self._lockers.values():
            c = lk.cfg
            if c.id in known:
                tx.conn.execute(
                    "UPDATE lockers SET board = ?, channel = ?, size = ?, purpose = ? WHERE id = ?",
                    (c.board, c.channel, c.size, c.purpose, c.id),
                )
            else:
                tx.conn.execute(
                    "INSERT INTO lockers (id, board, channel, size, purpose)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (c.id, c.board, c.channel, c.size, c.purpose),
                )
        for gone in known - set(self._lockers):
            tx.conn.execute("DELETE FROM lockers WHERE id = ?", (gone,))

    # --- reading the boards --------------------------------------------------------------------

    async def _poll_loop(self, board_id: str) -> None:
        board = self._boards[board_id]
        wake = board.wake
        store_failing = False
        while True:
            started = self._clock.monotonic()
            wake.clear()
            try:
                await self._poll_once(board_id)
                store_failing = _store_back(f"board {board_id}", store_failing)
            except asyncio.CancelledError:
                raise
            except StoreError as exc:
                store_failing = _store_trouble(f"board {board_id}", exc, store_failing)
            except Exception:
                log.exception("polling board %s failed; will retry", board_id)
            elapsed = self._clock.monotonic() - started
            # An offline board is asked less often, so its timeouts do not slow its bus-mates.
            period = self._t.poll_ms / 1000 if board.online is not False else _OFFLINE_POLL_S
            # An unlock wakes the loop early: its door is read right after the command.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, period - elapsed)):
                    await wake.wait()

    async def _poll_once(self, board_id: str, reconcile: bool = False) -> None:
        board = self._boards[board_id]
        try:
            status = await board.driver.read_status()
        except BoardUnavailable as exc:
            board.failures += 1
            if board.online is not False and (
                reconcile or board.failures >= self._t.offline_after_failures
            ):
                await self._board_offline(board_id, str(exc))
            return
        await self._take_status(board_id, status, reconcile)

    def _number_reading(self, board_id: str) -> int:
        """A reading's place in its board's order: taken the moment it is off the bus, before
        anything is awaited, so one taken later (a poll's) always has the higher number."""
        board = self._boards[board_id]
        board.readings_taken += 1
        return board.readings_taken

    async def _take_status(
        self,
        board_id: str,
        status: BoardStatus,
        reconcile: bool = False,
        number: int | None = None,
    ) -> None:
        """One fresh reading of a board's doors: from a status read, or an unlock's answer
        (`number` from `_number_reading` when the caller awaited something since the read)."""
        board = self._boards[board_id]
        if number is None:
            number = self._number_reading(board_id)
        async with board.applying:
            if number < board.readings_applied:
                return  # a newer reading was applied while this one waited
            board.readings_applied = number
            await self._take_status_locked(board_id, status, reconcile)

    async def _take_status_locked(
        self, board_id: str, status: BoardStatus, reconcile: bool
    ) -> None:
        board = self._boards[board_id]
        board.failures = 0
        readings: dict[str, DoorState] = {
            lk.cfg.id: _reading(status.doors.get(lk.cfg.channel)) for lk in board.lockers
        }
        if status.items is not None:  # first: a door seen closed is judged by this reading
            await self._apply_items(board, status.items)
        await self._apply(
            board_id, readings, came_online=board.online is not True, reconcile=reconcile
        )
        board.last_answer = self._clock.monotonic()  # after: _apply judges by the one before

    # --- item sensors -----------------------------------------------------------------------

    def expect_items(self, expectation: Callable[[Tx, str], bool | None]) -> None:
        """A service says what should be in its lockers, inside the transaction that judges:
        True (something), False (empty) or None (not its locker, or it cannot say). A locker
        no service calls empty is never judged. Used for `item_unexpected`."""
        self._expectations.append(expectation)

    def item_present(self, locker_id: str) -> bool | None:
        return self._locker(locker_id).item

    async def _apply_items(self, board: _Board, items: Mapping[int, bool]) -> None:
        """Log each change of a compartment's sensor, and judge closed lockers by it."""
        changed = [
            (lk, items[lk.cfg.channel])
            for lk in board.lockers
            if lk.cfg.channel in items and lk.item != items[lk.cfg.channel]
        ]
        if not changed:
            return

        def write(tx: Tx) -> None:
            for lk, present in changed:
                tx.append(
                    "item_sensed",
                    actor="system",
                    locker=lk.cfg.id,
                    payload={"present": present},
                )
                self._judge_item(tx, lk, present, lk.door)

        await self._store.write(write)
        for lk, present in changed:
            lk.item = present
        await self._notify()

    def _expected(self, tx: Tx, locker_id: str) -> bool | None:
        for expectation in self._expectations:
            said = expectation(tx, locker_id)
            if said is not None:
                return said
        return None

    def _judge_item(self, tx: Tx, lk: _Locker, present: bool, door: DoorState) -> None:
        """Something in a closed locker the station thinks empty is `item_unexpected`; it
        clears once the compartment is empty again or a service claims what is in it."""
        lid = lk.cfg.id
        if not present:
            self._alarms.clear_alarm(tx, "item_unexpected", lid, "compartment empty")
            return
        if door == "closed" and lk.pending is None and self._expected(tx, lid) is False:
            self._alarms.raise_alarm(
                tx,
                "item_unexpected",
                lid,
                f"locker {lid} should be empty but its sensor sees something inside: open it "
                "with a reason and check (a forgotten item, or a deposit the station missed)",
            )

    async def recheck_items(self, locker_id: str) -> None:
        """A service changed what should be in this locker: judge its sensor again."""
        lk = self._locker(locker_id)
        if lk.item is None:
            return

        def write(tx: Tx) -> None:
            if self._expected(tx, locker_id) is not False or not lk.item:
                self._alarms.clear_alarm(tx, "item_unexpected", locker_id, "claimed by a service")
            else:
                self._judge_item(tx, lk, True, lk.door)

        await self._store.write(write)

    async def raise_locker_alarm(self, type: str, locker_id: str, detail: str) -> None:
        """An alarm about one locker raised by a service's flow (e.g. `item_left`)."""
        self._locker(locker_id)
        await self._store.write(lambda tx: self._alarms.raise_alarm(tx, type, locker_id, detail))

    async def _board_offline(self, board_id: str, why: str) -> None:
        board = self._boards[board_id]

        def write(tx: Tx) -> None:
            self._alarms.raise_alarm(
                tx,
                "board_offline",
                board_id,
                f"board {board_id} does not answer: {why}. Its doors show 'unknown' and cannot "
                "be opened; check the board's power, its RS485 cable and USB adapter. It comes "
                "back by itself once it answers.",
            )
            tx.append("board_offline", actor="system", payload={"board": board_id, "error": why})
            for lk in board.lockers:
                if lk.door != "unknown":
                    self._set_door(tx, lk, "unknown", cause="board_offline")

        await self._store.write(write)
        board.online = False
        for lk in board.lockers:
            self._commit_door(lk, "unknown")
        await self._notify()

    async def _apply(
        self, board_id: str, readings: dict[str, DoorState], came_online: bool, reconcile: bool
    ) -> None:
        board = self._boards[board_id]
        changes = {lid: s for lid, s in readings.items() if self._lockers[lid].door != s}
        if not changes and not came_online:
            return
        now = self._clock.monotonic()
        jams_ended: list[_Locker] = []

        def write(tx: Tx) -> None:
            if came_online:
                if board.online is False:
                    tx.append("board_online", actor="system", payload={"board": board_id})
                self._alarms.clear_alarm(tx, "board_offline", board_id, "board answers again")
            for lid, new in changes.items():
                lk = self._lockers[lid]
                cause = "reconcile" if reconcile else "sensor"
                if new == "open" and lk.last_known != "open":
                    expected = self._expected_opening(lk, board, now, came_online)
                    cause = "unlock" if expected else cause
                    if not expected:
                        detail = (
                            f"door {lid} found open at start with no unlock"
                            if reconcile
                            else f"door {lid} opened with no unlock"
                        )
                        self._alarms.raise_alarm(tx, "forced_open", lid, detail)
                    if lk.faulty and lk.fault_reason == "door_jammed":
                        self._alarms.clear_alarm(tx, "door_jammed", lid, "door opened")
                        tx.conn.execute(
                            "UPDATE lockers SET faulty = 0, fault_reason = NULL WHERE id = ?",
                            (lid,),
                        )
                        jams_ended.append(lk)
                if new == "closed":
                    if lk.item:
                        self._judge_item(tx, lk, True, "closed")
                    self._alarms.clear_alarm(tx, "door_left_open", lid, "door closed")
                    self._alarms.clear_alarm(tx, "forced_open", lid, "door closed")
                self._set_door(tx, lk, new, cause=cause)

        await self._store.write(write)
        board.online = True
        for lk in jams_ended:
            lk.faulty, lk.fault_reason = False, None
        for lid, new in changes.items():
            lk = self._lockers[lid]
            if new == "open":
                lk.pending = None
            self._commit_door(lk, new)
        await self._notify()

    def _expected_opening(self, lk: _Locker, board: _Board, now: float, came_online: bool) -> bool:
        """Whether a door seen opening now is its last unlock's opening rather than a forced one.

        Seen within `expected_open_s` of the unlock, it is. Seen when its board answers again
        after it was offline, it is too if the board's last reading before that came within
        the window of an unlock whose opening had not yet been seen (still pending): the door
        may have opened at any moment in the dark, and calling it forced would page the
        office for a door staff opened."""
        unlocked = lk.last_unlock_mono
        if unlocked is None:
            return False
        if now - unlocked <= self._t.expected_open_s:
            return True
        dark = board.last_answer
        return (
            came_online
            and dark is not None
            and dark <= unlocked + self._t.expected_open_s
            and lk.pending is not None
            and lk.pending.seq == lk.last_unlock_seq
        )

    def _set_door(self, tx: Tx, lk: _Locker, new: DoorState, cause: str) -> None:
        lid = lk.cfg.id
        tx.conn.execute(
            "UPDATE lockers SET door = ?, door_since = ? WHERE id = ?", (new, tx.now(), lid)
        )
        payload: dict[str, Any] = {"from": lk.door, "cause": cause}
        if new == "open" and cause == "unlock" and lk.last_unlock_seq is not None:
            payload["unlock_seq"] = lk.last_unlock_seq
        tx.append(_DOOR_EVENTS[new], actor="system", locker=lid, payload=payload)

    def _commit_door(self, lk: _Locker, new: DoorState) -> None:
        if lk.door != new:
            lk.door = new
            lk.door_since_mono = self._clock.monotonic()
        if new != "unknown":
            lk.last_known = new

    # --- timers: jammed and left open ----------------------------------------------------------

    async def _timer_loop(self) -> None:
        store_failing = False
        while True:
            await asyncio.sleep(0.2)
            try:
                await self.check_timers()
                store_failing = _store_back("locker timers", store_failing)
            except asyncio.CancelledError:
                raise
            except StoreError as exc:
                store_failing = _store_trouble("locker timers", exc, store_failing)
            except Exception:
                log.exception("locker timer check failed; will retry")

    async def check_timers(self) -> None:
        """Raise door_jammed and door_left_open for doors whose windows have passed."""
        now = self._clock.monotonic()
        # A door nobody can read (its board offline, its adapter pulled) may well have opened:
        # the verdict waits until the board answers again, instead of blaming the lock.
        jammed = [
            lk
            for lk in self._lockers.values()
            if lk.pending and now >= lk.pending.deadline and lk.door != "unknown"
        ]
        left_open = [
            lk
            for lk in self._lockers.values()
            if lk.door == "open" and now - lk.door_since_mono >= self._t.left_open_s
        ]
        if not jammed and not left_open:
            return

        def write(tx: Tx) -> None:
            for lk in jammed:
                lid = lk.cfg.id
                detail = (
                    f"door {lid} did not open within {self._t.open_window_s:g} s of its unlock; "
                    "the locker is out of service: check the lock, then release it"
                )
                tx.conn.execute(
                    "UPDATE lockers SET faulty = 1, fault_reason = 'door_jammed' WHERE id = ?",
                    (lid,),
                )
                self._alarms.raise_alarm(tx, "door_jammed", lid, detail)
            for lk in left_open:
                self._alarms.raise_alarm(
                    tx,
                    "door_left_open",
                    lk.cfg.id,
                    f"door {lk.cfg.id} open for more than {self._t.left_open_s:g} s",
                )

        await self._store.write(write)
        for lk in jammed:
            lk.pending = None
            lk.faulty, lk.fault_reason = True, "door_jammed"
        await self._notify()

    # --- unlocking ------------------------------------------------------------------------------

    def expect_unlock(self, locker_id: str) -> Callable[[], None]:
        """A request to open `locker_id` has arrived (the API sees it before its handler runs):
        its board's bus holds back status reads that have not started, so the unlock does not
        wait a whole read that began while the request was being handled. Returns the release,
        for when the request ends (a no-op once the unlock was sent, or where there is no bus,
        no such locker or nothing to open)."""
        lk = self._lockers.get(locker_id)
        if lk is None:
            return _no_release
        board = self._boards[lk.cfg.board]
        if board.online is False or not isinstance(board.driver, AnnouncesUnlocks):
            return _no_release
        return board.driver.expect_unlock()

    async def open_door(
        self, locker_id: str, *, actor: str, reason: str, allow_faulty: bool = False
    ) -> UnlockResult:
        """Unlock one door once, audited before the command goes out.

        The `door_unlocked` event is committed before the frame is sent, so an opening can never
        happen without its actor and reason in the log, even across a power cut. The commit
        runs in the unlock's own turn of the board's worker (`before_send`), just before the
        frame: one trip between threads for the audit, the unlock and the reading after it.
        """
        if not reason.strip():
            raise LockerError("an unlock needs a reason")
        lk = self._locker(locker_id)
        board = self._boards[lk.cfg.board]
        if board.online is False:
            raise LockerUnavailable(
                f"locker {locker_id}: its board {lk.cfg.board} is offline; staff have been alerted"
            )
        if lk.faulty and not allow_faulty:
            raise LockerUnavailable(f"locker {locker_id} is out of service ({lk.fault_reason})")
        if lk.busy.locked() or lk.pending is not None:
            raise LockerUnavailable(f"locker {locker_id} is already being opened")
        async with lk.busy:

            def audit(tx: Tx) -> int:
                tx.conn.execute(
                    "UPDATE lockers SET last_unlock_at = ? WHERE id = ?", (tx.now(), locker_id)
                )
                ev = tx.append(
                    "door_unlocked",
                    actor=actor,
                    locker=locker_id,
                    payload={"reason": reason, "board": lk.cfg.board, "channel": lk.cfg.channel},
                )
                tx.conn.execute(
                    "UPDATE lockers SET last_unlock_seq = ? WHERE id = ?", (ev.seq, locker_id)
                )
                return ev.seq

            audited: list[tuple[int, list[Event]]] = []

            def commit_audit() -> None:  # on the board's worker thread, before the frame
                audited.append(self._store.write_sync(audit))

            # Set before the frame goes out: a door seen open while the unlock is still under
            # way (a relay pulse the driver times, an answer being logged) is this unlock's
            # opening, never a forced one, and clears its pending window.
            before = lk.last_unlock_mono
            sent_at = lk.last_unlock_mono = self._clock.monotonic()
            uncertain: str | None = None
            fresh: BoardStatus | None = None
            try:
                fresh = await board.driver.unlock(lk.cfg.channel, before_send=commit_audit)
            except UnlockUncertain as exc:
                uncertain = str(exc)
                fresh = exc.reading
            except BoardUnavailable as exc:
                lk.last_unlock_mono = before  # nothing was sent
                if audited:
                    seq = self._audited(lk, audited[0], None)
                    await self._log_unlock_trouble("door_unlock_failed", locker_id, seq, str(exc))
                raise LockerUnavailable(
                    f"locker {locker_id}: the board did not take the command ({exc})"
                ) from exc
            except BaseException:
                if not audited:  # the audit failed (a full disk): nothing was sent
                    lk.last_unlock_mono = before
                else:  # cancelled after the frame went out: it counts as an unlock
                    self._audited(lk, audited[0], sent_at)
                raise
            seq = self._audited(lk, audited[0], sent_at)
            # Numbered now: a poll read after the unlock's job, and taken while the trouble
            # below is logged, is newer and must not be overridden by this reading.
            number = self._number_reading(lk.cfg.board) if fresh is not None else None
            if uncertain is not None:
                await self._log_unlock_trouble("door_unlock_uncertain", locker_id, seq, uncertain)
            if isinstance(fresh, BoardStatus):  # the board's doors right after the unlock
                try:
                    await self._take_status(lk.cfg.board, fresh, number=number)
                except Exception:  # the poll that follows reads the board again
                    log.exception("taking board %s's unlock answer failed", lk.cfg.board)
                    board.wake.set()
            else:  # no reading came with the unlock: the poll reads the door at once
                board.wake.set()
            return UnlockResult(locker=locker_id, unlock_seq=seq, confirmed=uncertain is None)

    def _audited(
        self, lk: _Locker, committed: tuple[int, list[Event]], sent_at: float | None
    ) -> int:
        """The audit is committed: remember its unlock, tell the listeners of its event and,
        for a frame sent at `sent_at`, open its window for the door to open."""
        seq, events = committed
        self._store.publish(events)
        lk.last_unlock_seq = seq
        if sent_at is not None and lk.door != "open":
            lk.pending = _Pending(seq=seq, deadline=sent_at + self._t.open_window_s)
        return seq

    async def _log_unlock_trouble(self, type: str, locker_id: str, seq: int, error: str) -> None:
        payload = {"unlock_seq": seq, "error": error}
        await self._store.write(
            lambda tx: tx.append(type, actor="system", locker=locker_id, payload=payload)
        )

    async def release(self, locker_id: str, *, actor: str, note: str) -> None:
        """Staff put a faulty locker back in service after seeing to it."""
        lk = self._locker(locker_id)

        def write(tx: Tx) -> None:
            tx.conn.execute(
                "UPDATE lockers SET faulty = 0, fault_reason = NULL WHERE id = ?", (locker_id,)
            )
            self._alarms.clear_alarm(tx, "door_jammed", locker_id, f"released by {actor}")
            tx.append(
                "locker_released",
                actor=actor,
                locker=locker_id,
                payload={"note": note, "was": lk.fault_reason},
            )

        await self._store.write(write)
        lk.faulty, lk.fault_reason = False, None
        await self._notify()

    async def wait_door(self, locker_id: str, state: DoorState, within: float) -> bool:
        """Wait until the door is seen in `state`; False if `within` seconds pass first."""
        lk = self._locker(locker_id)
        try:
            async with asyncio.timeout(within), self._changed:
                await self._changed.wait_for(lambda: lk.door == state)
        except TimeoutError:
            return False
        return True

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # --- views ----------------------------------------------------------------------------------

    def _locker(self, locker_id: str) -> _Locker:
        try:
            return self._lockers[locker_id]
        except KeyError:
            raise UnknownLocker(f"no locker called {locker_id!r}") from None

    def door(self, locker_id: str) -> DoorState:
        return self._locker(locker_id).door

    def is_usable(self, locker_id: str) -> bool:
        """Whether a resident's flow may use this door now."""
        lk = self._locker(locker_id)
        board = self._boards[lk.cfg.board]
        return not lk.faulty and board.online is True and lk.door == "closed" and not lk.pending

    def board_online(self, board_id: str) -> bool | None:
        return self._boards[board_id].online

    def snapshot(self) -> list[dict[str, Any]]:
        return [self._view(lk) for lk in self._lockers.values()]

    def view(self, locker_id: str) -> dict[str, Any]:
        return self._view(self._locker(locker_id))

    def _view(self, lk: _Locker) -> dict[str, Any]:
        c = lk.cfg
        return {
            "id": c.id,
            "board": c.board,
            "channel": c.channel,
            "size": c.size,
            "purpose": c.purpose,
            "door": lk.door,
            "faulty": lk.faulty,
            "fault_reason": lk.fault_reason,
            "board_online": self._boards[c.board].online is True,
            "opening": lk.pending is not None,
            "item_present": lk.item if self._boards[c.board].online is True else None,
        }


def _no_release() -> None:
    """The release of an unlock that was never announced."""


def _store_trouble(what: str, exc: StoreError, already: bool) -> bool:
    """Log a store failure (a full disk) once per spell, not at every poll: the journal is often
    on the same full disk, and a traceback five times a second helps nobody. What could not be
    saved is not lost: the door is read again and its change saved once writes work."""
    if not already:
        log.error("%s: door changes cannot be saved (%s); retrying quietly", what, exc)
    return True


def _store_back(what: str, was_failing: bool) -> bool:
    if was_failing:
        log.warning("%s: door changes are saved again", what)
    return False


def _reading(value: DoorReading | None) -> DoorState:
    if value is None:
        return "unknown"
    return "open" if value == DoorReading.OPEN else "closed"
