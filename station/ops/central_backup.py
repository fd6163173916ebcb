"""Nightly backups kept on the card and uploaded to central; a replaced card rebuilt from them.

`station backup --auto` (run by station-backup.timer) writes a consistent copy into
`<data_dir>/backups/`, keeps the newest N, and uploads it to central with the station's sync
token. `station restore --from-central` fetches the newest copy central holds, checks its
SHA-256 and that it is a station database, puts it in place like `station restore`, and then
takes back from central the events the station uploaded after that backup was made: the
restored log continues at the next sequence number, with no gap and no number used twice (a
number reused with another event would be refused by central forever).

The events taken back are in the usage log; the state tables (loans, members made at the
station) are as they were at the backup.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from station.config import StationConfig
from station.ops.backup import BackupError, backup, check_station_database, restore

if TYPE_CHECKING:  # imported where a backup talks to central: `station run` never does
    import httpx

BACKUP_DIR = "backups"


@dataclass(frozen=True, slots=True)
class AutoBackup:
    path: Path
    events: int
    deleted: tuple[Path, ...]
    uploaded: bool
    upload_error: str = ""


@dataclass(frozen=True, slots=True)
class CentralRestore:
    events: int
    """Events in the backup."""
    taken_back: int
    """Events central had that the backup did not, added to the restored log."""
    last_seq: int
    kept: Path | None


def central_client(config: StationConfig, timeout: float = 120.0) -> httpx.Client:
    import httpx

    sync = config.sync
    if not sync.enabled:
        raise BackupError("sync is off ([sync] url is empty): there is no central to talk to")
    verify: str | bool = str(sync.ca_file) if sync.ca_file else True
    return httpx.Client(
        base_url=sync.url.rstrip("/"),
        headers={"Authorization": f"Bearer {sync.read_token()}"},
        timeout=httpx.Timeout(timeout, connect=sync.connect_timeout_s),
        verify=verify,
    )


def answer_error(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail", "")
    except ValueError:
        detail = response.text[:200]
    return f"central answered HTTP {response.status_code}: {detail}"


def auto_backup(
    config: StationConfig, keep: int, *, upload: bool = True, now: float | None = None
) -> AutoBackup:
    """One nightly backup: written, the oldest beyond `keep` deleted, uploaded to central."""
    import httpx

    folder = config.station.data_dir / BACKUP_DIR
    folder.mkdir(mode=0o700, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    path = folder / f"station-{stamp}.db"
    events = backup(config.station.data_dir, path)
    files = sorted(folder.glob("station-*.db"))
    deleted = tuple(files[:-keep])
    for old in deleted:
        old.unlink(missing_ok=True)
    if not upload or not config.sync.enabled:
        return AutoBackup(path, events, deleted, uploaded=False, upload_error="sync is off")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    try:
        with central_client(config) as client, path.open("rb") as body:
            response = client.put(
                "/api/v1/station/backup",
                content=body,
                headers={"X-Backup-SHA256": digest, "Content-Type": "application/vnd.sqlite3"},
            )
    except httpx.HTTPError as exc:
        return AutoBackup(path, events, deleted, uploaded=False, upload_error=str(exc))
    if response.status_code != 200:
        return AutoBackup(path, events, deleted, False, answer_error(response))
    return AutoBackup(path, events, deleted, uploaded=True)


def restore_from_central(config: StationConfig) -> CentralRestore:
    """Rebuild the station's database from central (the caller stops the daemon first)."""
    import httpx

    data_dir = config.station.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    download = data_dir / ".from-central.db"
    try:
        with central_client(config) as client:
            response = client.get("/api/v1/station/backup/latest")
            if response.status_code != 200:
                raise BackupError(answer_error(response))
            claimed = response.headers.get("x-backup-sha256", "")
            if hashlib.sha256(response.content).hexdigest() != claimed:
                raise BackupError(
                    "the backup from central does not match its SHA-256 (cut short?): try again"
                )
            download.write_bytes(response.content)
            check_station_database(download)
            start = _last_seq(download)
            events = _events_after(client, start)
        _append(download, start, events)
        count, kept = restore(data_dir, download)
    except httpx.HTTPError as exc:
        raise BackupError(f"cannot reach central at {config.sync.url}: {exc}") from None
    finally:
        download.unlink(missing_ok=True)
        for suffix in ("-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{download}{suffix}").unlink()
    return CentralRestore(count, len(events), start + len(events), kept)


def _last_seq(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return int(conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0])


def _events_after(client: httpx.Client, seq: int) -> list[dict[str, object]]:
    """Central's copies of this station's events after `seq`, in order, as far as they run
    without a gap (central acknowledges only a contiguous log, so there is none in practice)."""
    found: dict[int, dict[str, object]] = {}
    after = 0
    while True:
        response = client.get(
            "/api/v1/station/events", params={"after_seq": seq, "after": after, "limit": 5000}
        )
        if response.status_code != 200:
            raise BackupError(answer_error(response))
        page = response.json()
        for event in page["events"]:
            found[int(event["seq"])] = event
        after = page["next_after"]
        if not page["more"]:
            break
    out = []
    while seq + len(out) + 1 in found:
        out.append(found[seq + len(out) + 1])
    return out


def _append(db: Path, start: int, events: list[dict[str, object]]) -> None:
    """Add central's copies to the downloaded database and move the sync cursor past them."""
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.executemany(
            "INSERT INTO events (seq, id, type, ts, ts_corrected, mono, boot_id, clock_synced,"
            " actor, locker, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    e["seq"],
                    e["id"],
                    e["type"],
                    e["ts"],
                    e["ts_corrected"],
                    e["mono"],
                    e["boot_id"],
                    int(bool(e["clock_synced"])),
                    e["actor"],
                    e["locker"],
                    json.dumps(
                        e["payload"], ensure_ascii=False, separators=(",", ":"), sort_keys=True
                    ),
                )
                for e in events
            ],
        )
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "sync_state" in tables:
            # Central holds everything up to here: the station must not send it again.
            conn.execute(
                "UPDATE sync_state SET cursor = MAX(cursor, ?) WHERE id = 1",
                (start + len(events),),
            )
