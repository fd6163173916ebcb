"""Correcting the times of events written before the Pi's clock was synchronised.

A Pi has no real-time clock: after a power cut it may start at the last time it saved, or in
1970, until NTP answers. Every event keeps its monotonic time and boot id, and on one boot
`wall - monotonic` is a constant once the clock is right. So one trustworthy (wall, mono) pair
on a boot corrects every earlier event of that boot: ts_corrected = mono + offset. The original
`ts` is never changed (the usage log is append-only; only ts_corrected may be filled in).

Where a boot's offset comes from, best first:
- `clock`: the station's own clock, seen synchronised on that boot by the sync service;
- `event`: a later event of that boot written with clock_synced = 1;
- `central`: central's clock in its answer to a batch, good to half the round trip; it lets a
  station whose NTP is blocked but whose uplink works still send corrected times.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from operator import itemgetter

from station.clock import Clock
from wire.event import Row

_RANK = {"clock": 0, "event": 0, "central": 1}


def record_offset(
    conn: sqlite3.Connection,
    boot_id: str,
    offset: float,
    source: str,
    uncertainty: float,
    now: float,
) -> bool:
    """Keep the boot's offset if it is better than the one known; True if it was kept.

    The first precise offset of a boot is kept (it is the one nearest the unsynchronised
    events it will correct); a central-derived one is replaced by a tighter one or a precise one.
    """
    row = conn.execute(
        "SELECT source, uncertainty FROM sync_boot_offsets WHERE boot_id = ?", (boot_id,)
    ).fetchone()
    if row is not None:
        old_rank, new_rank = _RANK[row[0]], _RANK[source]
        if new_rank > old_rank or (new_rank == old_rank and uncertainty >= row[1]):
            return False
    conn.execute(
        "INSERT INTO sync_boot_offsets (boot_id, offset, source, uncertainty, observed_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (boot_id) DO UPDATE SET offset = excluded.offset,"
        " source = excluded.source, uncertainty = excluded.uncertainty,"
        " observed_at = excluded.observed_at",
        (boot_id, offset, source, uncertainty, now),
    )
    return True


def note_clock(conn: sqlite3.Connection, clock: Clock) -> None:
    """If the clock is synchronised now, its offset is exact for this boot."""
    if clock.synced():
        wall, mono = clock.wall(), clock.monotonic()
        record_offset(conn, clock.boot_id, wall - mono, "clock", 0.0, wall)


def correct_pending(conn: sqlite3.Connection, after_seq: int, now: float) -> int:
    """Fill ts_corrected of unsynchronised events after the cursor whose boot's offset is known.

    Returns how many events were corrected. Runs inside one write transaction.
    """
    boots = conn.execute(
        "SELECT boot_id, MIN(seq) FROM events WHERE seq > ? AND clock_synced = 0"
        " AND ts_corrected IS NULL GROUP BY boot_id",
        (after_seq,),
    ).fetchall()
    corrected = 0
    for boot_id, first_seq in boots:
        known = conn.execute(
            "SELECT offset, source FROM sync_boot_offsets WHERE boot_id = ?", (boot_id,)
        ).fetchone()
        if known is None or known[1] == "central":
            later = conn.execute(
                "SELECT ts - mono FROM events WHERE seq > ? AND boot_id = ? AND clock_synced = 1"
                " ORDER BY seq LIMIT 1",
                (first_seq, boot_id),
            ).fetchone()
            if later is not None:
                record_offset(conn, boot_id, float(later[0]), "event", 0.0, now)
                known = (float(later[0]), "event")
        if known is None:
            continue
        cur = conn.execute(
            "UPDATE events SET ts_corrected = mono + ? WHERE seq >= ? AND boot_id = ?"
            " AND clock_synced = 0 AND ts_corrected IS NULL",
            (float(known[0]), first_seq, boot_id),
        )
        corrected += cur.rowcount
    return corrected


_SYNCED = itemgetter(7)
"""A row's clock_synced (wire/event.py FIELDS order)."""


def first_held(rows: Sequence[Row], boot_id: str, now_mono: float, hold_s: float) -> int:
    """Index of the first row that should wait for a correction (len(rows) if none).

    An uncorrected event of the running boot may still get a synchronised time soon: it waits
    up to hold_s (by the monotonic clock) rather than reach central with a wrong time for good.
    Events of earlier boots that nothing corrected go as they are, flagged unsynchronised.
    """
    if all(map(_SYNCED, rows)):
        return len(rows)  # the usual case, told without a Python step per row
    for i, row in enumerate(rows):
        synced, ts_corrected, mono, boot = row[7], row[4], row[5], row[6]
        if not synced and ts_corrected is None and boot == boot_id and now_mono - mono < hold_s:
            return i
    return len(rows)
