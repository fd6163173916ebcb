"""What central's SQL backends share below the Storage methods: hooks and statement helpers.

SQLite and PostgreSQL run the same statements; they differ in connection handling, transactions
and a few words of dialect. A backend supplies those through the hooks and class attributes
here, and the logic written once (sql_storage.py, sql_history.py) never names a backend. Shared
statements are written in SQLite's `?` parameter style and translated for drivers that want
another one, so every statement reads the same on both backends.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager, closing
from typing import Any, ClassVar, Protocol

from central.storage.base import StorageError, UnknownStation


class Cursor(Protocol):
    """The part of a DB-API cursor (sqlite3 and psycopg alike) the shared logic uses."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]], /) -> Any: ...

    def close(self) -> None: ...


class Connection(Protocol):
    """The part of a connection the shared logic uses. Rows must allow `row["column"]` and
    `dict(row)` (sqlite3.Row and psycopg's dict_row both do)."""

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Any: ...

    def cursor(self) -> Any: ...


class SQLBackend(ABC):
    """The hooks a SQL backend provides, and helpers that speak its parameter style."""

    placeholder: ClassVar[str]
    """The driver's parameter marker: `?` (sqlite3) or `%s` (psycopg)."""
    lock_row: ClassVar[str]
    """Appended to a SELECT that must hold its row until commit (`FOR UPDATE`), or empty where
    the whole transaction is already the only writer (SQLite)."""
    json_param: ClassVar[str]
    """How a JSON text parameter is written into a JSON column (`?` or `?::jsonb`)."""

    # --- hooks ------------------------------------------------------------------------------

    @abstractmethod
    def _tx(self) -> AbstractContextManager[Connection]:
        """A connection inside one write transaction, committed when the block ends."""

    @abstractmethod
    def _reader(self) -> AbstractContextManager[Connection]:
        """A connection for reads that never waits for a writer."""

    @staticmethod
    @abstractmethod
    def _decode_json(value: Any) -> Any:
        """A JSON column's value as Python objects (stored as text on one backend, native on
        the other); None stays None."""

    # --- helpers ----------------------------------------------------------------------------

    def _sql(self, statement: str) -> str:
        """The statement in this driver's parameter style (shared statements have no `?` other
        than parameters and no `%`)."""
        if self.placeholder == "?":
            return statement
        return statement.replace("?", self.placeholder)

    @staticmethod
    def _hour_bounds(since: float, until: float) -> list[int]:
        """[since, until) as whole seconds for an integer `hour` column: the same rows
        (an integer is >= x, or < x, exactly when it is against ceil(x)), and a bound the
        column's index can take; PostgreSQL compares a BIGINT with a float parameter as
        double precision, which no b-tree on the column answers (each query read every
        hour ever folded)."""
        return [math.ceil(since), math.ceil(until)]

    def _exec(self, conn: Connection, statement: str, params: Sequence[Any] = ()) -> Cursor:
        cursor: Cursor = conn.execute(self._sql(statement), params)
        return cursor

    def _one(self, conn: Connection, statement: str, params: Sequence[Any] = ()) -> Any:
        return self._exec(conn, statement, params).fetchone()

    def _all(self, conn: Connection, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        return self._exec(conn, statement, params).fetchall()

    def _many(self, conn: Connection, statement: str, rows: Iterable[Sequence[Any]]) -> None:
        """executemany through a cursor: psycopg connections have no executemany of their own."""
        with closing(conn.cursor()) as cursor:
            cursor.executemany(self._sql(statement), rows)

    def _acked_seq(self, conn: Connection, station: str, *, lock: bool) -> int:
        """The station's contiguous sequence; with `lock`, its row stays locked until commit so
        two deliveries of one station serialise instead of racing on it."""
        row = self._one(
            conn,
            "SELECT acked_seq FROM stations WHERE id = ?" + (self.lock_row if lock else ""),
            (station,),
        )
        if row is None:
            raise UnknownStation(f"station {station} is not registered")
        return int(row["acked_seq"])

    def _schema_version(self, conn: Connection, what: str, latest: int) -> int:
        """The version of the schema in the database (0 when new). A newer one is refused rather
        than used with tables this software does not know; `what` names the database."""
        self._exec(conn, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = self._one(conn, "SELECT version FROM schema_version")
        current = int(row["version"]) if row else 0
        if current > latest:
            raise StorageError(
                f"{what} v{current} is newer than this software (v{latest});"
                " upgrade the central server"
            )
        return current

    def _set_schema_version(self, conn: Connection, number: int) -> None:
        self._exec(conn, "DELETE FROM schema_version")
        self._exec(conn, "INSERT INTO schema_version VALUES (?)", (number,))
