"""The `disk_full` alarm: staff learn the data partition is (nearly) full while they can act.

A full disk stops the usage log, and since every door opening is logged first, it stops the
doors that need an audit too. The watch raises the alarm when free space drops under a margin
(so there is warning before writes fail) or a write was refused, and clears it once space is
back and writes work again. While the disk is completely full even the alarm cannot be written;
then the health endpoint, the telemetry (`health.store_full_since`) and the sync heartbeat carry
the news, and the alarm lands in the log as soon as one write succeeds.
"""

from __future__ import annotations

import asyncio
import logging

from station.alarms import AlarmService
from station.ops.host_health import HostProbe
from station.store import Store, StoreError, Tx

log = logging.getLogger("station.disk")

DISK_ALARM = "disk_full"
DISK_SUBJECT = "data"
MIN_FREE_BYTES = 64 * 1024 * 1024
"""Under this much free space the alarm is raised: room for days of events, not for backups."""


class DiskWatch:
    def __init__(
        self,
        store: Store,
        alarms: AlarmService,
        probe: HostProbe,
        *,
        min_free_bytes: int = MIN_FREE_BYTES,
    ) -> None:
        self._store = store
        self._alarms = alarms
        self._probe = probe
        self._min_free = min_free_bytes
        self._open: bool | None = None
        self._unrecorded: str | None = None
        """A problem seen while even the alarm could not be written; recorded once it can."""

    def problem(self) -> str | None:
        """What is wrong with the data partition now, in words staff can act on; None if fine."""
        free = self._probe.read().disk_free_bytes
        if self._store.full_since is not None:
            return (
                f"the station database could not be written (disk full) since "
                f"{self._store.full_since:.0f}: nothing is logged and audited actions such as "
                "opening a door are refused. Free space on the data partition (old backups, "
                "logs); the station resumes by itself"
            )
        if free is not None and free < self._min_free:
            return (
                f"only {free // (1024 * 1024)} MB free on the data partition "
                f"(alarm under {self._min_free // (1024 * 1024)} MB): free space (old backups, "
                "logs) before the station stops logging and opening doors"
            )
        return None

    async def check(self) -> bool:
        """Raise or clear the alarm to match the disk; True while the disk is in trouble."""
        problem = self.problem()
        if problem is not None and not self._open:
            self._unrecorded = problem
        try:
            if self._unrecorded is not None and not self._open:
                # Raising it is itself a write: if it works, the disk has room again, and the
                # log records that it was full even if the trouble is already over.
                detail = self._unrecorded
                await self._store.write(
                    lambda tx: self._alarms.raise_alarm(tx, DISK_ALARM, DISK_SUBJECT, detail)
                )
                self._open, self._unrecorded = True, None
                log.error("disk: %s", detail)
            elif self._store.full_since is not None:
                await self._store.write(_probe)
            if self.problem() is None and self._open is not False:
                await self._store.write(
                    lambda tx: self._alarms.clear_alarm(
                        tx, DISK_ALARM, DISK_SUBJECT, "free space is back and writes work"
                    )
                )
                self._open = False
        except StoreError as exc:
            log.warning("disk: cannot record the disk alarm yet (%s)", exc)
        return self.problem() is not None

    async def run(self, interval_s: float = 60.0) -> None:
        """Check until cancelled."""
        while True:
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("disk: the disk check failed; it runs again in %g s", interval_s)
            await asyncio.sleep(interval_s)


def _probe(tx: Tx) -> None:
    """A write that needs room on a real disk (the WAL grows), to learn that space is back."""
    tx.conn.execute(
        "INSERT INTO meta(key, value) VALUES ('disk_checked_at', ?)"
        " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (repr(tx.now()),),
    )
