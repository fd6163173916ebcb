"""Alerts to people on either SQL backend: the stations' alarm events folded once into alerts
(with their own position, like the reports), and the outbox of messages owed to channels.

Folding is what makes "one message per alarm": a batch retried or redelivered after a gap
adds nothing, because the position only moves past events once, in the transaction that
queues their messages. Sending is central/alerts/notifier.py's; this keeps what was sent.
"""

from __future__ import annotations

import json
from typing import Any

from central.storage.base import AlertMessage, AlertPlan, AlertRecord
from central.storage.sql_common import Connection
from central.storage.sql_reports import SQLReports

ALERT_TYPES = ("alarm_raised", "alarm_acknowledged", "alarm_cleared")
_OPEN_CENTRAL = (
    "SELECT id FROM alerts WHERE station = ? AND type = ? AND cleared_at IS NULL AND source LIKE ?"
)
_MESSAGE = (
    "INSERT INTO alert_messages (alert_id, channel, kind, quiet, due_at) VALUES (?, ?, ?, ?, ?)"
)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


class SQLAlerts(SQLReports):
    """Storage's alert methods, written once for both SQL backends."""

    def fold_alerts(self, station: str, plan: AlertPlan, now: float, limit: int = 50_000) -> int:
        with self._tx() as conn:
            window = self._fold_window(conn, station, "alert_state", ALERT_TYPES, limit)
            if window is None:
                return 0
            upto, stepped, rows = window
            for row in rows:
                payload = row["payload"]
                if isinstance(payload, str):
                    payload = json.loads(payload)
                source = str(payload.get("alarm_id", ""))
                if not source:
                    continue
                if row["type"] == "alarm_raised":
                    self._raise(
                        conn,
                        station,
                        source,
                        _text(payload.get("alarm")) or "unknown",
                        _text(payload.get("subject")),
                        _text(payload.get("detail")),
                        float(row["time"]),
                        plan,
                        now,
                    )
                elif row["type"] == "alarm_acknowledged":
                    self._exec(
                        conn,
                        "UPDATE alerts SET acked_at = ? WHERE station = ? AND source = ?"
                        " AND acked_at IS NULL",
                        (float(row["time"]), station, source),
                    )
                else:
                    found = self._one(
                        conn,
                        "SELECT id FROM alerts WHERE station = ? AND source = ?",
                        (station, source),
                    )
                    if found is not None:
                        self._clear(conn, int(found["id"]), float(row["time"]), now)
            self._set_position(conn, station, "alert_state", upto)
            return stepped

    def _raise(
        self,
        conn: Connection,
        station: str,
        source: str,
        kind: str,
        subject: str,
        detail: str,
        at: float,
        plan: AlertPlan,
        now: float,
    ) -> bool:
        cur = self._exec(
            conn,
            "INSERT INTO alerts (station, source, type, subject, detail, raised_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (station, source) DO NOTHING",
            (station, source, kind, subject, detail, at),
        )
        if cur.rowcount == 0:
            return False
        row = self._one(
            conn, "SELECT id FROM alerts WHERE station = ? AND source = ?", (station, source)
        )
        self._many(
            conn,
            _MESSAGE,
            [(row["id"], ch, "raised", quiet, now) for ch, quiet in plan(station, kind)],
        )
        return True

    def _clear(self, conn: Connection, alert_id: int, at: float, now: float) -> bool:
        cur = self._exec(
            conn,
            "UPDATE alerts SET cleared_at = ? WHERE id = ? AND cleared_at IS NULL",
            (at, alert_id),
        )
        if cur.rowcount == 0:
            return False
        told = self._all(
            conn,
            "SELECT channel, MIN(quiet) AS quiet FROM alert_messages WHERE alert_id = ?"
            " AND kind = 'raised' GROUP BY channel ORDER BY channel",
            (alert_id,),
        )
        self._many(
            conn, _MESSAGE, [(alert_id, r["channel"], "cleared", r["quiet"], now) for r in told]
        )
        return True

    def raise_central_alert(
        self, station: str, kind: str, subject: str, detail: str, plan: AlertPlan, now: float
    ) -> bool:
        with self._tx() as conn:
            self._acked_seq(conn, station, lock=True)
            if self._one(conn, _OPEN_CENTRAL, (station, kind, "central:%")) is not None:
                return False
            source = f"central:{kind}:{now!r}"
            return self._raise(conn, station, source, kind, subject, detail, now, plan, now)

    def clear_central_alert(self, station: str, kind: str, now: float) -> bool:
        with self._tx() as conn:
            self._acked_seq(conn, station, lock=True)
            row = self._one(conn, _OPEN_CENTRAL, (station, kind, "central:%"))
            return row is not None and self._clear(conn, int(row["id"]), now, now)

    def queue_reminders(self, now: float, remind_after_s: float, max_reminders: int) -> int:
        with self._tx() as conn:
            due = self._all(
                conn,
                "SELECT id FROM alerts WHERE acked_at IS NULL AND cleared_at IS NULL"
                " AND reminders < ? AND noticed_at IS NOT NULL AND noticed_at <= ? ORDER BY id",
                (max_reminders, now - remind_after_s),
            )
            for row in due:
                alert_id = int(row["id"])
                self._exec(
                    conn,
                    "INSERT INTO alert_messages (alert_id, channel, kind, quiet, due_at)"
                    " SELECT alert_id, channel, 'reminder', MIN(quiet), ? FROM alert_messages"
                    " WHERE alert_id = ? AND kind = 'raised' GROUP BY alert_id, channel",
                    (now, alert_id),
                )
                self._exec(
                    conn,
                    "UPDATE alerts SET reminders = reminders + 1, noticed_at = NULL WHERE id = ?",
                    (alert_id,),
                )
            return len(due)

    def due_messages(self, now: float, limit: int = 500) -> list[AlertMessage]:
        with self._reader() as conn:
            rows = self._all(
                conn,
                "SELECT m.id AS message_id, m.channel, m.kind, m.quiet, m.attempts, a.*"
                " FROM alert_messages m JOIN alerts a ON a.id = m.alert_id"
                " WHERE m.sent_at IS NULL AND m.due_at <= ? ORDER BY m.id LIMIT ?",
                (now, limit),
            )
        return [
            AlertMessage(
                id=int(r["message_id"]),
                channel=r["channel"],
                kind=r["kind"],
                quiet=r["quiet"],
                attempts=int(r["attempts"]),
                alert=_alert(r),
            )
            for r in rows
        ]

    def message_done(self, message_id: int, now: float, note: str | None = None) -> None:
        with self._tx() as conn:
            row = self._one(
                conn,
                "SELECT alert_id, kind FROM alert_messages WHERE id = ?" + self.lock_row,
                (message_id,),
            )
            self._exec(
                conn,
                "UPDATE alert_messages SET sent_at = ?, last_error = ? WHERE id = ?",
                (now, note, message_id),
            )
            if row is not None and note is None and row["kind"] in ("raised", "reminder"):
                self._exec(
                    conn,
                    "UPDATE alerts SET noticed_at = COALESCE(noticed_at, ?) WHERE id = ?",
                    (now, row["alert_id"]),
                )

    def message_failed(self, message_id: int, retry_at: float, error: str) -> None:
        with self._tx() as conn:
            self._exec(
                conn,
                "UPDATE alert_messages SET attempts = attempts + 1, due_at = ?, last_error = ?"
                " WHERE id = ?",
                (retry_at, error[:500], message_id),
            )
            # the channel's later messages wait behind it, so they arrive in order
            self._exec(
                conn,
                "UPDATE alert_messages SET due_at = CASE WHEN due_at < ? THEN ? ELSE due_at END"
                " WHERE sent_at IS NULL AND id > ? AND channel ="
                " (SELECT channel FROM alert_messages WHERE id = ?)",
                (retry_at, retry_at, message_id, message_id),
            )

    def message_postponed(self, message_id: int, due_at: float) -> None:
        with self._tx() as conn:
            self._exec(
                conn, "UPDATE alert_messages SET due_at = ? WHERE id = ?", (due_at, message_id)
            )

    def alerts(self, open_only: bool = True, limit: int = 500) -> list[AlertRecord]:
        where = "WHERE cleared_at IS NULL" if open_only else ""
        with self._reader() as conn:
            rows = self._all(
                conn, f"SELECT * FROM alerts {where} ORDER BY id DESC LIMIT ?", (limit,)
            )
        return [_alert(r) for r in rows]

    def acknowledge_alert(self, alert_id: int, now: float) -> AlertRecord | None:
        with self._tx() as conn:
            self._exec(
                conn,
                "UPDATE alerts SET acked_at = ? WHERE id = ? AND acked_at IS NULL",
                (now, alert_id),
            )
            row = self._one(conn, "SELECT * FROM alerts WHERE id = ?", (alert_id,))
        return None if row is None else _alert(row)


def _alert(r: Any) -> AlertRecord:
    return AlertRecord(
        id=int(r["id"]),
        station=r["station"],
        source=r["source"],
        type=r["type"],
        subject=r["subject"],
        detail=r["detail"],
        raised_at=float(r["raised_at"]),
        acked_at=r["acked_at"],
        cleared_at=r["cleared_at"],
        reminders=int(r["reminders"]),
    )
