"""The usage log's event record and the transaction that appends it with its state rows."""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass, field
from typing import Any

from station.clock import Clock


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    id: str
    type: str
    ts: float
    mono: float
    boot_id: str
    clock_synced: bool
    actor: str
    locker: str | None
    payload: dict[str, Any]
    ts_corrected: float | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any] | sqlite3.Row) -> Event:
        r = dict(row)
        return cls(
            seq=r["seq"],
            id=r["id"],
            type=r["type"],
            ts=r["ts"],
            mono=r["mono"],
            boot_id=r["boot_id"],
            clock_synced=bool(r["clock_synced"]),
            actor=r["actor"],
            locker=r["locker"],
            payload=json.loads(r["payload"]),
            ts_corrected=r.get("ts_corrected"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "id": self.id,
            "type": self.type,
            "ts": self.ts,
            "ts_corrected": self.ts_corrected,
            "mono": self.mono,
            "boot_id": self.boot_id,
            "clock_synced": self.clock_synced,
            "actor": self.actor,
            "locker": self.locker,
            "payload": self.payload,
        }


@dataclass(frozen=True, slots=True)
class Db:
    """A connection as the store hands it to a read or a transaction.

    (sqlite-utils' Database used to wrap it; nothing here used more than its connection and
    `execute`, and importing it cost the daemon 1.8 MB and 60 ms: dateutil, pluggy, fts4.)
    """

    conn: sqlite3.Connection

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)


@dataclass
class Tx:
    """One write transaction: state changes and the events that record them commit together."""

    db: Db
    clock: Clock
    events: list[Event] = field(default_factory=list)

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    def now(self) -> float:
        return self.clock.wall()

    def append(
        self,
        type: str,
        *,
        actor: str,
        locker: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> Event:
        """Append one event to the usage log inside this transaction."""
        if not actor:
            raise ValueError("every event needs an actor")
        body = json.dumps(payload or {}, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        event_id = uuid.uuid4().hex
        ts, mono, synced = self.clock.wall(), self.clock.monotonic(), self.clock.synced()
        cur = self.conn.execute(
            "INSERT INTO events (id, type, ts, mono, boot_id, clock_synced, actor, locker, payload)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (event_id, type, ts, mono, self.clock.boot_id, int(synced), actor, locker, body),
        )
        event = Event(
            seq=int(cur.lastrowid or 0),
            id=event_id,
            type=type,
            ts=ts,
            mono=mono,
            boot_id=self.clock.boot_id,
            clock_synced=synced,
            actor=actor,
            locker=locker,
            payload=json.loads(body),
        )
        self.events.append(event)
        return event


def first_after(conn: sqlite3.Connection, kind: str, locker: str, seq: int) -> int | None:
    """The seq of the first `kind` event of `locker` after `seq`, if any.

    How the station tells, from the log alone, what a door did after an unlock (a door opened
    and shut between two polls of the screen, or before a power cut, still left its event).
    """
    row = conn.execute(
        "SELECT seq FROM events WHERE seq > ? AND locker = ? AND type = ? ORDER BY seq LIMIT 1",
        (seq, locker, kind),
    ).fetchone()
    return row[0] if row else None
