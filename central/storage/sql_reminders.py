"""Reminders to members on either SQL backend: the loan and claim events folded once into the
reminders owed (their own position, like the alerts), and the members' sealed contacts.

Contacts are stored only as Fernet tokens sealed by central/reminders/seal.py; this module
never sees one in the clear.
"""

from __future__ import annotations

import json

from central.reminders.plan import PLAN_TYPES, plan
from central.storage.base import MemberReminder
from central.storage.sql_alerts import SQLAlerts


class SQLReminders(SQLAlerts):
    """Storage's reminder methods, written once for both SQL backends."""

    def fold_reminders(
        self, station: str, remind_before_s: float, overdue_after_s: float, limit: int = 50_000
    ) -> int:
        with self._tx() as conn:
            window = self._fold_window(conn, station, "reminder_state", PLAN_TYPES, limit)
            if window is None:
                return 0
            upto, stepped, rows = window
            owed = plan(rows, remind_before_s, overdue_after_s)
            self._many(
                conn,
                "INSERT INTO member_reminders (station, member, kind, ref, facts, due_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (station, kind, ref) DO NOTHING",
                [
                    (station, r.member, r.kind, r.ref, json.dumps(r.facts), r.due_at)
                    for r in owed.add
                ],
            )
            self._many(
                conn,
                "UPDATE member_reminders SET dropped = 'returned' WHERE station = ? AND kind = ?"
                " AND ref = ? AND sent_at IS NULL AND dropped IS NULL",
                [(station, kind, ref) for kind, ref in owed.cancel],
            )
            self._set_position(conn, station, "reminder_state", upto)
            return stepped

    def put_contact(self, member: str, sealed: str, now: float) -> None:
        with self._tx() as conn:
            self._exec(
                conn,
                "INSERT INTO member_contacts (member, sealed, created_at) VALUES (?, ?, ?)"
                " ON CONFLICT (member) DO UPDATE SET sealed = excluded.sealed,"
                " created_at = excluded.created_at",
                (member, sealed, now),
            )

    def delete_contact(self, member: str) -> bool:
        with self._tx() as conn:
            cur = self._exec(conn, "DELETE FROM member_contacts WHERE member = ?", (member,))
            return cur.rowcount > 0

    def due_reminders(self, now: float, limit: int = 500) -> list[MemberReminder]:
        with self._reader() as conn:
            rows = self._all(
                conn,
                "SELECT r.*, c.sealed FROM member_reminders r LEFT JOIN member_contacts c"
                " ON c.member = r.member WHERE r.sent_at IS NULL AND r.dropped IS NULL"
                " AND r.due_at <= ? ORDER BY r.due_at, r.id LIMIT ?",
                (now, limit),
            )
        return [
            MemberReminder(
                id=int(r["id"]),
                station=r["station"],
                member=r["member"],
                kind=r["kind"],
                ref=r["ref"],
                facts=json.loads(r["facts"]),
                due_at=float(r["due_at"]),
                attempts=int(r["attempts"]),
                sealed=r["sealed"],
            )
            for r in rows
        ]

    def reminder_done(self, reminder_id: int, now: float, dropped: str | None = None) -> None:
        with self._tx() as conn:
            if dropped is None:
                self._exec(
                    conn, "UPDATE member_reminders SET sent_at = ? WHERE id = ?", (now, reminder_id)
                )
            else:
                self._exec(
                    conn,
                    "UPDATE member_reminders SET dropped = ? WHERE id = ?",
                    (dropped, reminder_id),
                )

    def reminder_failed(self, reminder_id: int, retry_at: float) -> None:
        with self._tx() as conn:
            self._exec(
                conn,
                "UPDATE member_reminders SET attempts = attempts + 1, due_at = ? WHERE id = ?",
                (retry_at, reminder_id),
            )
