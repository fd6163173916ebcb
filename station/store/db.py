"""Store: the one writer of the station's database, and readers beside it.

All writes run on one dedicated thread, each as a single transaction with synchronous=FULL, so
that an event the caller was told about survives a power cut. The asyncio daemon awaits writes
without blocking its loop; listeners hear about committed events after the commit, never before.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from station.clock import Clock
from station.store.core_schema import CORE_SCHEMA
from station.store.errors import StoreDamaged, StoreError, StoreFull
from station.store.events import Db, Event, Tx
from station.store.integrity import Behind, behind_central, check_failed, check_file, check_pages
from station.store.schema import Schema, migrate

T = TypeVar("T")
Listener = Callable[[list[Event]], None]


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


def _translate(exc: sqlite3.Error, path: Path) -> StoreError:
    text = str(exc)
    if isinstance(exc, sqlite3.OperationalError) and ("full" in text or "disk I/O" in text):
        return StoreFull(
            f"{path}: the disk is full or failing ({text}); nothing was saved. "
            "Free space on the data partition (old backups, logs) and try again."
        )
    return StoreError(f"{path}: database error: {text}")


class Store:
    def __init__(self, path: Path, clock: Clock, schemas: Sequence[Schema] = ()) -> None:
        self.path = Path(path)
        self.clock = clock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        check_file(self.path)
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        self._readers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="store-reader")
        self._local = threading.local()
        self._reader_conns: list[sqlite3.Connection] = []
        self._listeners: list[Listener] = []
        try:
            self._conn = _connect(self.path)
        except sqlite3.DatabaseError as exc:
            self._writer.shutdown()
            self._readers.shutdown()
            raise check_failed(self.path, exc) from None
        try:
            check_pages(self._conn, self.path)
            self.db = Db(self._conn)
            self.versions = migrate(self._conn, [CORE_SCHEMA, *schemas])
        except (sqlite3.DatabaseError, StoreDamaged) as exc:
            self._conn.close()
            self._writer.shutdown()
            self._readers.shutdown()
            raise check_failed(self.path, exc) from None
        self.behind: Behind | None = behind_central(self._conn, self.path)
        """Set when central acknowledged events this database no longer holds (lost newest
        events): resident services are refused until the station is restored."""
        self._lock = threading.Lock()
        self.full_since: float | None = None
        """Wall time of the first write refused for a full disk since the last one that worked:
        what staff and central are shown while writes fail (nothing can be logged then)."""

    # --- writing -------------------------------------------------------------------------------

    def write_sync(self, fn: Callable[[Tx], T]) -> tuple[T, list[Event]]:
        """Run fn in one immediate transaction; return its result and the events it appended."""
        with self._lock:
            tx = Tx(self.db, self.clock)
            changes = self._conn.total_changes
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                result = fn(tx)
                self._conn.execute("COMMIT")
            except BaseException as exc:
                # SQLite may already have rolled back (a full disk does): only undo what is open.
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    error = _translate(exc, self.path)
                    if isinstance(error, StoreFull) and self.full_since is None:
                        self.full_since = self.clock.wall()
                    raise error from exc
                raise
            if self._conn.total_changes != changes:  # a commit that wrote nothing proves no room
                self.full_since = None
            return result, tx.events

    async def write(self, fn: Callable[[Tx], T]) -> T:
        """Commit fn's changes off the event loop, then tell listeners of the new events."""
        loop = asyncio.get_running_loop()
        result, events = await loop.run_in_executor(self._writer, self.write_sync, fn)
        if events:
            self._notify(events)
        return result

    def publish(self, events: list[Event]) -> None:
        """Tell listeners of events a `write_sync` on another thread committed; on the loop."""
        if events:
            self._notify(events)

    def write_now(self, fn: Callable[[Tx], T]) -> T:
        """Synchronous write for CLI tools and tests with no event loop; listeners are told."""
        result, events = self.write_sync(fn)
        if events:
            self._notify(events)
        return result

    # --- reading -------------------------------------------------------------------------------

    def _reader_db(self) -> Db:
        db = getattr(self._local, "db", None)
        if db is None:
            conn = _connect(self.path)
            conn.execute("PRAGMA query_only=ON")
            self._reader_conns.append(conn)
            db = Db(conn)
            self._local.db = db
        return db

    def read_sync(self, fn: Callable[[Db], T]) -> T:
        try:
            return fn(self._reader_db())
        except sqlite3.Error as exc:
            raise _translate(exc, self.path) from exc

    async def read(self, fn: Callable[[Db], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self.read_sync, fn)

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        return self.read_sync(lambda db: [dict(r) for r in db.execute(sql, params).fetchall()])

    async def aquery(
        self, sql: str, params: Sequence[Any] | dict[str, Any] = ()
    ) -> list[dict[str, Any]]:
        return await self.read(lambda db: [dict(r) for r in db.execute(sql, params).fetchall()])

    # --- events ----------------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _notify(self, events: list[Event]) -> None:
        for listener in list(self._listeners):
            listener(events)

    def events_after(
        self, after_seq: int = 0, limit: int = 100, types: Sequence[str] = ()
    ) -> list[Event]:
        sql = "SELECT * FROM events WHERE seq > ?"
        params: list[Any] = [after_seq]
        if types:
            sql += f" AND type IN ({','.join('?' * len(types))})"
            params.extend(types)
        sql += " ORDER BY seq LIMIT ?"
        params.append(limit)
        return [Event.from_row(r) for r in self.query(sql, params)]

    # --- life ------------------------------------------------------------------------------------

    def close(self) -> None:
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        with self._lock:
            self._conn.close()
        for conn in self._reader_conns:
            conn.close()
