"""The housekeeping sweep's one move: mark each row found due, and log it once as the system.

Overdue loans, overtime deposits, expired found items and expired codes are all found the same
way (a query for rows past their time and not yet marked), and each is marked in the same
transaction as its event, so a restart between the two can neither lose nor repeat one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from station.store.events import Tx


def mark_each(
    tx: Tx,
    due: tuple[str, Sequence[Any]],
    mark: str,
    event: str,
    payload: Callable[[Any], dict[str, Any]],
    locker: Callable[[Any], str | None] = lambda row: row["locker"],
) -> list[Any]:
    """Run `mark` (SQL taking the row's id) for each row `due` selects, and log `event`."""
    rows = tx.conn.execute(*due).fetchall()
    for row in rows:
        tx.conn.execute(mark, (row["id"],))
        tx.append(event, actor="system", locker=locker(row), payload=payload(row))
    return rows
