"""Alarms: conditions staff must know about, with a life of raised, acknowledged, cleared.

An alarm is raised by a condition (a door forced open, a board that stopped answering), may be
acknowledged by staff while the condition lasts, and is cleared only when the condition ends;
each step is an event in the usage log. One condition on one subject is one alarm: raising it
again while it is open changes nothing.
"""

from __future__ import annotations

from typing import Any

from station.store import Store, Tx
from wire.alarms import STATION_ALARMS

ALARM_TYPES = STATION_ALARMS
"""Every type this station may raise (wire/alarms.py: central knows the same list)."""


class AlarmError(Exception):
    """An alarm action that cannot be done as asked (no such alarm, already cleared)."""


class UnknownAlarm(AlarmError):
    pass


class AlarmAlreadyCleared(AlarmError):
    pass


class AlarmService:
    def __init__(self, store: Store) -> None:
        self._store = store

    def raise_alarm(self, tx: Tx, type: str, subject: str, detail: str = "") -> int | None:
        """Raise an alarm inside the caller's transaction; None if it is already open."""
        row = tx.conn.execute(
            "SELECT id FROM alarms WHERE type = ? AND subject = ? AND state != 'cleared'",
            (type, subject),
        ).fetchone()
        if row is not None:
            return None
        cur = tx.conn.execute(
            "INSERT INTO alarms (type, subject, state, detail, raised_at) "
            "VALUES (?, ?, 'raised', ?, ?)",
            (type, subject, detail, tx.now()),
        )
        alarm_id = int(cur.lastrowid or 0)
        tx.append(
            "alarm_raised",
            actor="system",
            locker=subject if _is_locker(subject) else None,
            payload={"alarm_id": alarm_id, "alarm": type, "subject": subject, "detail": detail},
        )
        return alarm_id

    def clear_alarm(self, tx: Tx, type: str, subject: str, reason: str = "") -> list[int]:
        """Clear the open alarm of this type on this subject, because its condition ended."""
        rows = tx.conn.execute(
            "SELECT id FROM alarms WHERE type = ? AND subject = ? AND state != 'cleared'",
            (type, subject),
        ).fetchall()
        cleared = [int(r[0]) for r in rows]
        for alarm_id in cleared:
            tx.conn.execute(
                "UPDATE alarms SET state = 'cleared', cleared_at = ? WHERE id = ?",
                (tx.now(), alarm_id),
            )
            tx.append(
                "alarm_cleared",
                actor="system",
                locker=subject if _is_locker(subject) else None,
                payload={"alarm_id": alarm_id, "alarm": type, "subject": subject, "reason": reason},
            )
        return cleared

    async def acknowledge(self, alarm_id: int, actor: str, note: str = "") -> dict[str, Any]:
        """Staff saw the alarm; it stays open until its condition ends."""

        def ack(tx: Tx) -> dict[str, Any]:
            row = tx.conn.execute("SELECT * FROM alarms WHERE id = ?", (alarm_id,)).fetchone()
            if row is None:
                raise UnknownAlarm(f"no alarm with id {alarm_id}")
            if row["state"] == "cleared":
                raise AlarmAlreadyCleared(
                    f"alarm {alarm_id} is already cleared; nothing to acknowledge"
                )
            if row["state"] == "raised":
                tx.conn.execute(
                    "UPDATE alarms SET state = 'acknowledged', acked_by = ?, acked_at = ? "
                    "WHERE id = ?",
                    (actor, tx.now(), alarm_id),
                )
                tx.append(
                    "alarm_acknowledged",
                    actor=actor,
                    locker=row["subject"] if _is_locker(row["subject"]) else None,
                    payload={"alarm_id": alarm_id, "alarm": row["type"], "note": note},
                )
            return dict(
                tx.conn.execute("SELECT * FROM alarms WHERE id = ?", (alarm_id,)).fetchone()
            )

        return await self._store.write(ack)

    async def list(self, include_cleared: bool = False, limit: int = 200) -> list[dict[str, Any]]:
        where = "" if include_cleared else "WHERE state != 'cleared'"
        return await self._store.aquery(
            f"SELECT * FROM alarms {where} ORDER BY id DESC LIMIT ?", (limit,)
        )


def _is_locker(subject: str) -> bool:
    return len(subject) == 3 and subject[0].isupper() and subject[1:].isdigit()
