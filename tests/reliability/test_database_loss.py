"""Finding 11 of issue 18: losing the database never goes unnoticed.

With real files: the daemon (`station run`, a child process) on a zero-length, header-damaged
or page-damaged database refuses to start with what is wrong and how to restore, no traceback;
after a kill -9 with the `-wal` deleted, the restarted daemon sees that central acknowledged
more than it holds, serves staff only, raises `database_behind`, and `station restore
--from-central` brings it back; `station restore` killed at every step it takes leaves either
the old data or the restored data.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import tomli_w

from central.app import create_app
from central.auth import new_token, token_hash
from central.server import BackgroundServer
from central.settings import CentralSettings
from central.storage.sqlite import SQLiteStorage
from station.clock import SystemClock
from station.ops.backup import check_station_database
from station.people.staff import add_staff
from station.services.registry import SERVICE_SCHEMAS
from station.store import Store, StoreDamaged
from tests.simstation import TOKENS
from tests.station.conftest import STAFF_NO, STAFF_PIN, services_config
from tests.station.sync.synckit import STATION

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def station_config(tmp_path: Path, **sync: Any) -> tuple[Path, dict[str, Any]]:
    data = services_config(tmp_path)
    data["station"]["id"] = STATION
    data["api"]["port"] = free_port()
    if sync:
        data["sync"] = sync
    path = tmp_path / "station.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path, data


def db_path(data: dict[str, Any]) -> Path:
    return Path(data["station"]["data_dir"]) / "station.db"


def a_station_database(path: Path, events: int = 300) -> None:
    """A real station database (every schema) with a few hundred events in it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    store = Store(path, SystemClock(), schemas=SERVICE_SCHEMAS)
    add_staff(store, STAFF_NO, "Staff S001", STAFF_PIN)
    store.write_now(
        lambda tx: [tx.append("note", actor="test", payload={"n": i}) for i in range(events)]
    )
    store.close()


def station_command(*args: str) -> subprocess.CompletedProcess[str]:
    """`station ARGS...` as a technician runs it."""
    return subprocess.run(
        [sys.executable, "-m", "launcher.main", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def run_daemon(config: Path) -> subprocess.CompletedProcess[str]:
    return station_command("run", "--config", str(config))


def overwrite(path: Path, offset: int, size: int) -> None:
    with path.open("r+b") as f:
        f.seek(offset)
        f.write(os.urandom(size))


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        ("zero length", "is empty (0 bytes): the station's database was lost"),
        ("corrupt header", "does not start with SQLite's header"),
        ("overwritten pages", "is damaged"),
    ],
)
def test_a_damaged_database_stops_the_daemon_with_what_is_wrong_and_how_to_restore(
    tmp_path: Path, damage: str, said: str
) -> None:
    config, data = station_config(tmp_path)
    db = db_path(data)
    a_station_database(db)
    (db.parent / "backups").mkdir()
    (db.parent / "backups" / "station-20261201-030000.db").write_bytes(db.read_bytes())
    size = db.stat().st_size
    if damage == "zero length":
        db.write_bytes(b"")
    elif damage == "corrupt header":
        overwrite(db, 0, 100)
    else:
        page = 4096
        overwrite(db, 2 * page, size - 3 * page)  # every page but the first two and the last

    run = run_daemon(config)

    assert run.returncode == 3, run.stderr
    assert "Traceback" not in run.stderr
    assert said in run.stderr, run.stderr
    assert "station restore --from-central" in run.stderr
    assert "backups/station-20261201-030000.db" in run.stderr
    assert db.stat().st_size == (0 if damage == "zero length" else size)  # left as it was
    with pytest.raises(StoreDamaged):
        Store(db, SystemClock(), schemas=SERVICE_SCHEMAS)


# --- kill -9 and a deleted -wal ------------------------------------------------------------------


@contextlib.contextmanager
def daemon(config: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "launcher.main", "run", "--config", str(config)],
            cwd=ROOT,
            stdout=out,
            stderr=out,
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)


def wait_for(check: Any, what: str, within: float = 60.0) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            got = check()
            if got:
                return got
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def newest(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return int(conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0])


MEMBER, MEMBER_PIN = "13900001111", "246813"


@dataclass
class Central:
    url: str
    token: str
    storage: SQLiteStorage

    def acked(self) -> int:
        record = self.storage.station(STATION)
        return record.acked_seq if record else -1


@contextlib.contextmanager
def central_server(tmp_path: Path) -> Iterator[Central]:
    """A real central server on loopback that keeps station backups, STATION registered."""
    storage = SQLiteStorage(tmp_path / "central.db")
    token = new_token()
    storage.add_station(STATION, "test", token_hash(token), time.time())
    settings = CentralSettings(backup_dir=str(tmp_path / "central-backups"))
    try:
        with BackgroundServer(create_app(storage, settings)) as server:
            yield Central(server.url, token, storage)
    finally:
        storage.close()


def staff_session(url: str) -> dict[str, str]:
    r = httpx.post(
        f"{url}/api/v1/staff/login",
        json={"staff_no": STAFF_NO, "pin": STAFF_PIN},
        headers={"Authorization": f"Bearer {TOKENS['kiosk']}"},
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


@pytest.mark.timeout(300)  # three daemon starts, a backup and a restore, as child processes
def test_after_kill_9_and_a_deleted_wal_the_station_serves_staff_only_until_restored(
    tmp_path: Path,
) -> None:
    with central_server(tmp_path) as central:
        config, data = station_config(
            tmp_path, url=central.url, token=central.token, interval_s=0.2, heartbeat_s=0.5
        )
        db = db_path(data)
        a_station_database(db, events=50)
        url = f"http://127.0.0.1:{data['api']['port']}"
        kiosk = {"Authorization": f"Bearer {TOKENS['kiosk']}"}
        log = tmp_path / "daemon.log"

        with daemon(config, log) as proc:
            wait_for(lambda: httpx.get(f"{url}/healthz").status_code == 200, "the daemon")
            staff = staff_session(url)
            r = httpx.post(
                f"{url}/api/v1/members",
                json={"phone": MEMBER, "pin": MEMBER_PIN, "kind": "resident"},
                headers=staff,
            )
            assert r.status_code == 201, r.text
            wait_for(lambda: central.acked() >= newest(db), "central to acknowledge")
            # The nightly backup, uploaded to central (what restore --from-central fetches).
            backup = station_command("backup", "--auto", "--config", str(config))
            assert backup.returncode == 0, backup.stdout + backup.stderr
            # The card's file holds everything so far; what follows lives only in the -wal.
            with contextlib.closing(sqlite3.connect(db)) as conn:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            checkpointed = newest(db)
            for _ in range(3):  # staff logins: events central acknowledges
                r = httpx.post(
                    f"{url}/api/v1/staff/login",
                    json={"staff_no": STAFF_NO, "pin": STAFF_PIN},
                    headers=kiosk,
                )
                assert r.status_code == 200, r.text
            wait_for(lambda: central.acked() >= newest(db) > checkpointed, "the logins acked")
            acked = central.acked()
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        Path(f"{db}-wal").unlink()
        Path(f"{db}-shm").unlink(missing_ok=True)
        left = newest(db)
        assert left < acked

        with daemon(config, log):
            health = wait_for(lambda: httpx.get(f"{url}/healthz").json(), "the daemon again")
            assert health["status"] == "degraded"
            staff = staff_session(url)
            alarms = httpx.get(f"{url}/api/v1/alarms", headers=staff).json()
            behind = [a for a in alarms if a["type"] == "database_behind"]
            assert behind, alarms
            said = re.search(r"central acknowledged events up to seq (\d+)", behind[0]["detail"])
            # What the station last heard from central before the kill (the mark beside the db).
            assert said and left < int(said.group(1)) <= acked, behind[0]["detail"]
            assert f"this database ends at seq {left}" in behind[0]["detail"]
            assert "station restore --from-central" in behind[0]["detail"]
            # A resident's flow is refused; staff still open a door.
            r = httpx.post(
                f"{url}/api/v1/members/identify",
                json={"phone": MEMBER, "pin": MEMBER_PIN},
                headers=kiosk,
            )
            assert r.status_code == 200, r.text
            session = {**kiosk, "X-Member-Session": r.json()["session"]}
            r = httpx.post(f"{url}/api/v1/deposits", json={"kind": "bag"}, headers=session)
            assert r.status_code == 503 and r.json()["code"] == "station_restoring", r.text
            opened = httpx.post(
                f"{url}/api/v1/lockers/A02/open", json={"reason": "check"}, headers=staff
            )
            assert opened.status_code in (200, 202), opened.text
        assert "Traceback" not in log.read_text(errors="replace")
        assert "central acknowledged events up to seq" in log.read_text()

        restore = station_command("restore", "--from-central", "--config", str(config))
        assert restore.returncode == 0, restore.stdout + restore.stderr
        assert newest(db) >= acked
        with daemon(config, log):
            health = wait_for(lambda: httpx.get(f"{url}/healthz").json(), "the restored daemon")
            assert health["status"] == "ok", health


# --- a kill inside `station restore` -------------------------------------------------------------

KILLER = """
import os, signal, sys
from pathlib import Path
import station.ops.backup as backup

calls = 0
stop_at = int(sys.argv[3])

class Killing:
    def __getattr__(self, name):
        real = getattr(os, name)
        if name not in ("replace", "unlink", "fsync", "rename"):
            return real
        def call(*args, **kwargs):
            global calls
            calls += 1
            if calls == stop_at:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(*args, **kwargs)
        return call

backup.os = Killing()
backup.restore(Path(sys.argv[1]), Path(sys.argv[2]))
print("finished")
"""


def events_in(db: Path) -> int:
    """The events the database holds as the daemon would open it (its -wal replayed)."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])


def test_a_kill_at_any_step_of_restore_leaves_the_old_data_or_the_restored_data(
    tmp_path: Path,
) -> None:
    source = tmp_path / "backup.db"
    a_station_database(source, events=40)
    restored = check_station_database(source)
    step = 0
    while True:
        step += 1
        data_dir = tmp_path / f"run{step}"
        db = data_dir / "station.db"
        a_station_database(db, events=120)
        # The old database's newest events still in its -wal, as a stopped daemon leaves them.
        conn = sqlite3.connect(db)
        conn.execute("PRAGMA wal_autocheckpoint=0")
        conn.executemany(
            "INSERT INTO events (id, type, ts, mono, boot_id, clock_synced, actor, payload)"
            " VALUES (?, 'note', 0, 0, 'b', 1, 'test', '{}')",
            [(f"wal-{i}",) for i in range(30)],
        )
        conn.commit()
        # Leave the -wal behind: copy the files as they are while the connection is open.
        snapshot = {s: Path(f"{db}{s}").read_bytes() for s in ("", "-wal")}
        conn.close()
        for suffix, content in snapshot.items():
            Path(f"{db}{suffix}").write_bytes(content)
        assert Path(f"{db}-wal").stat().st_size > 0
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as peek:
            old = int(peek.execute("SELECT count(*) FROM events").fetchone()[0])
        assert old > restored

        run = subprocess.run(
            [sys.executable, "-c", KILLER, str(data_dir), str(source), str(step)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            check=False,
        )
        killed = run.returncode == -signal.SIGKILL
        assert killed or run.returncode == 0, run.stderr
        found = events_in(db)
        assert found in (old, restored), (step, found)
        if not killed:
            assert found == restored
            break
        assert step < 40, "restore never finished"
    assert step > 3  # it was killed at each of its steps before finishing
