"""How long ago something happened, by a clock that nobody can move.

Lockouts and guessing budgets must hold however the wall clock jumps: a Pi has no real-time
clock, NTP steps it hours forward after a boot, and a wrong date set by hand steps it back. So
they are measured on the monotonic clock (seconds since this boot, never stepped) with the
boot id beside it, both of which every event and every lockout records:

- the same boot: the monotonic difference, exact;
- an earlier boot: the least time that can have passed, which is what that boot ran after the
  moment (up to its last event in the usage log) plus how long this boot has run. The power
  may have been off for a week, but nothing says so that an attacker cannot fake, so a lockout
  or a wrong guess from before a reboot counts for at least its full length after it.

The wall clock is never consulted: moved +6 h it frees nothing, moved -24 h it extends nothing.
"""

from __future__ import annotations

import sqlite3

from station.clock import Clock


def boot_end(conn: sqlite3.Connection, boot_id: str) -> float | None:
    """The monotonic time of the last event written in that boot (None: none was)."""
    row = conn.execute(
        "SELECT mono FROM events WHERE boot_id = ? ORDER BY seq DESC LIMIT 1", (boot_id,)
    ).fetchone()
    return None if row is None else float(row[0])


def seconds_since(conn: sqlite3.Connection, clock: Clock, boot_id: str, mono: float) -> float:
    """The least number of seconds that can have passed since (boot_id, mono)."""
    now = clock.monotonic()
    if boot_id == clock.boot_id:
        return max(0.0, now - mono)
    end = boot_end(conn, boot_id)
    ran_after = max(0.0, (end if end is not None else mono) - mono)
    return ran_after + max(0.0, now)
