"""Is this still the station's database? Checked at every start, before anything is served.

Losing the database must never pass unnoticed (issue 18, finding 11). Three ways it happens:

- the file is damaged: zero length (a card that lost its blocks), a header that is not
  SQLite's, pages overwritten. SQLite would create an empty station on a zero-length file and
  answer a damaged one with a traceback; here each is refused with what is wrong and how to
  restore, before any door or service starts;
- the file is intact but old: after a kill -9 with its `-wal` deleted, or an old copy put in
  place, the log ends before events central has already acknowledged. The station keeps the
  highest sequence number central acknowledged in a small file beside the database
  (`central-acked`, written after each acknowledged upload), so this is seen at start without
  the network; and central's next answer says it too. Behind central, the station serves
  staff only (resident flows are refused: a loan or a deposit lost with the newest events
  cannot be honoured), raises `database_behind` and says how to restore;
- a restore killed half-way: see station/ops/backup.py (it swaps the file in with one rename).

The check is sized for a Raspberry Pi: the header read, then `PRAGMA quick_check`, which reads
every page once but skips the index cross-check of `integrity_check` (seconds, not minutes, for
a few hundred MB on an SD card).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from station.store.errors import StoreDamaged, StoreError

SQLITE_MAGIC = b"SQLite format 3\x00"
ACKED_MARK = "central-acked"
"""The file beside the database that holds the highest seq central acknowledged."""


def how_to_restore(path: Path) -> str:
    """The sentence every damage message ends with: what a technician runs."""
    backups = sorted((path.parent / "backups").glob("*.db"))
    local = (
        f"`station restore {backups[-1]}` (the newest copy on this card), or " if backups else ""
    )
    return (
        f"stop the daemon, then restore: {local}`station restore --from-central` (central's "
        "nightly copy plus every event it received since); the file it replaces is kept beside "
        "it"
    )


def check_file(path: Path) -> None:
    """Refuse a file that cannot be this station's database, without opening it with SQLite.

    A missing file is a new station (SQLite creates it); an empty one is a lost database.
    """
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    if size == 0:
        raise StoreDamaged(
            f"{path} is empty (0 bytes): the station's database was lost (a card that dropped "
            f"its blocks, or a copy cut short); it is not started as an empty station: "
            f"{how_to_restore(path)}"
        )
    with path.open("rb") as f:
        head = f.read(100)
    if len(head) < 100 or not head.startswith(SQLITE_MAGIC):
        raise StoreDamaged(
            f"{path} does not start with SQLite's header (its first bytes were overwritten or "
            f"it is another kind of file): {how_to_restore(path)}"
        )
    page = int.from_bytes(head[16:18], "big")
    page = 65536 if page == 1 else page
    if page < 512 or page & (page - 1):
        raise StoreDamaged(
            f"{path} has a damaged header (page size {page} is impossible): {how_to_restore(path)}"
        )


def check_pages(conn: sqlite3.Connection, path: Path) -> None:
    """`PRAGMA quick_check`: every page read once; refuse the file if any is damaged."""
    rows = [r[0] for r in conn.execute("PRAGMA quick_check(5)").fetchall()]
    if rows != ["ok"]:
        raise StoreDamaged(
            f"{path} is damaged (the integrity check found: {'; '.join(rows)[:300]}): "
            f"{how_to_restore(path)}"
        )


def check_failed(path: Path, exc: sqlite3.DatabaseError | StoreError) -> StoreError:
    """What to say when SQLite itself refused the file while opening it."""
    if isinstance(exc, StoreError):
        return exc
    text = str(exc)
    if isinstance(exc, sqlite3.OperationalError) and any(
        word in text for word in ("locked", "unable to open", "readonly", "disk I/O", "full")
    ):
        return StoreError(f"{path}: cannot open the database ({text})")
    return StoreDamaged(f"{path} is damaged (SQLite: {text}): {how_to_restore(path)}")


@dataclass(frozen=True, slots=True)
class Behind:
    """The database ends before what central acknowledged: its newest events were lost."""

    newest: int
    """The highest seq this database holds."""
    acked: int
    """The highest seq central acknowledged."""

    def message(self, path: Path) -> str:
        return (
            f"{path}: central acknowledged events up to seq {self.acked} but this database "
            f"ends at seq {self.newest}: its newest {self.acked - self.newest} event(s) were "
            "lost (a kill with the -wal file deleted, or an old copy put in place). Resident "
            f"services are refused until it is restored: {how_to_restore(path)}"
        )


def read_acked_mark(path: Path) -> int:
    """The highest seq central acknowledged, from the file beside the database (0: none)."""
    try:
        return int((path.parent / ACKED_MARK).read_text(encoding="ascii").strip() or 0)
    except (OSError, ValueError):
        return 0


def write_acked_mark(path: Path, seq: int) -> None:
    """Record central's acknowledgement beside the database: written aside, synced, renamed,
    so a power cut leaves the old value or the new one."""
    if seq <= read_acked_mark(path):
        return
    mark = path.parent / ACKED_MARK
    tmp = mark.with_name(f".{ACKED_MARK}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, f"{seq}\n".encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, mark)
    with contextlib.suppress(OSError):
        dir_fd = os.open(mark.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def newest_seq(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0])


BEHIND_KEY = "behind_central"
"""The `meta` row that keeps "behind" once seen: the events written afterwards (a start, an
alarm, a staff action) raise the newest seq, but reuse numbers central already holds."""


def behind_central(conn: sqlite3.Connection, path: Path, acked: int = 0) -> Behind | None:
    """Behind when central acknowledged (by the mark beside the file, or `acked` from its
    latest answer) more than this database holds; once seen, recorded in `meta` and kept
    until the database is restored (station/ops/backup.py clears it in the restored copy)."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (BEHIND_KEY,)).fetchone()
    if row is not None:
        newest, _, was = str(row[0]).partition("/")
        return Behind(int(newest), max(int(was), acked))
    acked = max(read_acked_mark(path), acked)
    newest = newest_seq(conn)
    if acked <= newest:
        return None
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE"
        " SET value = excluded.value",
        (BEHIND_KEY, f"{newest}/{acked}"),
    )
    return Behind(newest, acked)
