"""`station backup` / `station restore`: copies of the station database that are safe to take live.

The backup uses SQLite's online backup API, so it is consistent even while the daemon writes
(a plain `cp` of a WAL database can copy a half-applied state). A restore checks that the file
really is a station database before it replaces anything, keeps the old database as a
timestamped copy, and swaps the new one in with a rename so a power cut never leaves half a file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import time
from pathlib import Path

from station.store.integrity import BEHIND_KEY

DB_NAME = "station.db"
SQLITE_MAGIC = b"SQLite format 3\x00"


class BackupError(Exception):
    """A backup or restore refused or failed; the message says what to do."""


def database_path(data_dir: Path) -> Path:
    return data_dir / DB_NAME


def _copy(src: Path, dst: Path) -> None:
    """Copy `src` to a fresh `dst` with the backup API, then flush it to the card."""
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    try:
        target = sqlite3.connect(dst)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()
    fd = os.open(dst, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _match_owner(path: Path, like: Path) -> None:
    """Give `path` the owner and group of `like`.

    A technician restores as root; a database left owned by root would be read-only to the
    daemon's own user and every door opening would fail to be recorded.
    """
    st = like.stat()
    if os.geteuid() == 0:
        os.chown(path, st.st_uid, st.st_gid)
    os.chmod(path, 0o600 if like.is_dir() else st.st_mode & 0o777)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backup(data_dir: Path, out: Path) -> int:
    """Write a consistent copy of the station database to `out`; return its event count."""
    db = database_path(data_dir)
    if not db.is_file():
        raise BackupError(f"{db}: no station database here; check [station] data_dir")
    if out.exists():
        raise BackupError(f"{out} exists already; choose another name or delete it first")
    tmp = out.with_name(f".{out.name}.partial")
    tmp.unlink(missing_ok=True)
    try:
        _copy(db, tmp)
        events = check_station_database(tmp)
        os.replace(tmp, out)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot copy {db} to {out}: {exc}") from None
    except OSError as exc:
        raise BackupError(f"cannot write {out}: {exc.strerror}") from None
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(out.parent)
    return events


def check_station_database(path: Path) -> int:
    """Raise BackupError unless `path` is an intact station database; return its event count."""
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupError(f"{path}: cannot read: {exc.strerror}") from None
    if head != SQLITE_MAGIC:
        raise BackupError(f"{path} is not an SQLite database: not a station backup")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if (
            "schema_versions" not in tables
            or not conn.execute("SELECT 1 FROM schema_versions WHERE component = 'core'").fetchone()
        ):
            raise BackupError(
                f"{path} is an SQLite database but not a station database "
                "(no schema_versions entry for 'core')"
            )
        if "events" not in tables:
            raise BackupError(f"{path} is not a complete station database (no events table)")
        verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
        if verdict != "ok":
            raise BackupError(f"{path} is damaged (integrity check: {verdict})")
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable SQLite database: {exc}") from None
    finally:
        conn.close()


def restore(data_dir: Path, source: Path, *, now: float | None = None) -> tuple[int, Path | None]:
    """Replace the station database with `source`; return its event count and the kept old copy.

    Safe to kill at any point: the restored copy is written beside the database and synced,
    the old database's WAL is folded into its main file (so nothing of it lives in a file that
    must go), and one rename swaps the new file in. Before the rename the old data is all in
    station.db; after it, the restored data is. The old files are also kept, byte for byte (a
    damaged database too), as station.db.before-restore-<time>.

    The caller makes sure the daemon is stopped: a daemon holding the old file open would keep
    writing to it after the rename.
    """
    events = check_station_database(source)
    data_dir.mkdir(parents=True, exist_ok=True)
    db = database_path(data_dir)
    kept: Path | None = None
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    tmp = data_dir / f".{DB_NAME}.restoring"
    tmp.unlink(missing_ok=True)
    try:
        _copy(source, tmp)
        _forget_behind(tmp)
        _match_owner(tmp, db if db.exists() else data_dir)
        if db.exists():
            kept = data_dir / f"{DB_NAME}.before-restore-{stamp}"
            _keep(db, kept)
            _fold_wal(db, kept)
        _fsync_dir(data_dir)
        os.replace(tmp, db)
    except sqlite3.Error as exc:
        raise BackupError(f"restore failed, {db} untouched: {exc}") from None
    except OSError as exc:
        raise BackupError(f"restore failed: {exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(data_dir)
    return events, kept


def _keep(db: Path, kept: Path) -> None:
    """Copy the old database and its WAL byte for byte: a damaged file is kept as it is."""
    for suffix in ("", "-wal"):
        src = Path(f"{db}{suffix}")
        if not src.exists():
            continue
        dst = Path(f"{kept}{suffix}")
        shutil.copyfile(src, dst)
        _match_owner(dst, src)
        fd = os.open(dst, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fold_wal(db: Path, kept: Path) -> None:
    """Leave no -wal or -shm beside the old database, losing nothing of it.

    Left beside the restored file, SQLite would replay the old WAL into it. A readable database
    has its WAL checkpointed into the main file first (so until the rename swaps the file, the
    old data is complete in station.db alone); a damaged one's WAL is moved beside the kept
    copy instead.
    """
    wal, shm = Path(f"{db}-wal"), Path(f"{db}-shm")
    if wal.exists():
        try:
            with contextlib.closing(sqlite3.connect(db)) as conn:
                busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            folded = busy == 0 and (not wal.exists() or wal.stat().st_size == 0)
        except sqlite3.DatabaseError:
            folded = False
        if folded:
            wal.unlink(missing_ok=True)
        else:
            os.replace(wal, f"{kept}-wal")
        _fsync_dir(db.parent)
    shm.unlink(missing_ok=True)


def _forget_behind(path: Path) -> None:
    """A restored database starts without the "behind central" mark of the file it replaces
    (station/store/integrity.py): the start's check compares it with central afresh."""
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("DELETE FROM meta WHERE key = ?", (BEHIND_KEY,))
