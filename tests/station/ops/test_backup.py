"""`station backup` / `station restore` on real SQLite files next to a running daemon."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path

import pytest
import tomli_w

from launcher.main import main
from station.clock import FakeClock
from station.config import parse_config
from station.ops.backup import BackupError, backup, check_station_database, database_path, restore
from station.ops.cli import run_restore
from station.store import Store
from tests.simstation import running_station, sim_config_data


def events_in(path: Path) -> list[int]:
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute("SELECT seq FROM events ORDER BY seq")]
    finally:
        conn.close()


async def write_events(store: Store, count: int) -> None:
    for i in range(count):
        await store.write(lambda tx, i=i: tx.append("test.note", actor="test", payload={"i": i}))


async def test_backup_while_the_daemon_writes_is_consistent(tmp_path: Path) -> None:
    out = tmp_path / "copy.db"
    async with running_station(sim_config_data(tmp_path)) as st:
        assert st.daemon.station is not None
        store = st.daemon.station.store
        data_dir = st.config.station.data_dir
        writer = asyncio.create_task(write_events(store, 300))
        await asyncio.sleep(0.05)
        copied = await asyncio.to_thread(backup, data_dir, out)
        await writer
        total = len(events_in(database_path(data_dir)))
    seqs = events_in(out)
    assert copied == len(seqs) > 0
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # no holes: one moment in time
    assert len(seqs) <= total
    assert check_station_database(out) == len(seqs)


def test_backup_refuses_to_overwrite_and_needs_a_database(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="no station database"):
        backup(tmp_path / "empty", tmp_path / "x.db")
    (tmp_path / "data").mkdir()
    Store(database_path(tmp_path / "data"), clock=FakeClock(), schemas=[]).close()
    (tmp_path / "taken.db").write_bytes(b"keep me")
    with pytest.raises(BackupError, match="exists already"):
        backup(tmp_path / "data", tmp_path / "taken.db")
    assert (tmp_path / "taken.db").read_bytes() == b"keep me"


def test_restore_refuses_a_file_that_is_not_sqlite(tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("this is not a database\n" * 10, encoding="utf-8")
    with pytest.raises(BackupError, match="not an SQLite database"):
        restore(tmp_path / "data", junk)
    assert not (tmp_path / "data" / "station.db").exists()


def test_restore_refuses_a_foreign_sqlite_database(tmp_path: Path) -> None:
    foreign = tmp_path / "other.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE events (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(BackupError, match="not a station database"):
        restore(tmp_path / "data", foreign)

    no_events = tmp_path / "half.db"
    conn = sqlite3.connect(no_events)
    conn.execute("CREATE TABLE schema_versions (component TEXT, version INTEGER)")
    conn.execute("INSERT INTO schema_versions VALUES ('core', 1)")
    conn.commit()
    conn.close()
    with pytest.raises(BackupError, match="no events table"):
        restore(tmp_path / "data", no_events)


async def test_restore_refuses_while_the_daemon_runs_then_round_trips(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = sim_config_data(tmp_path)
    snapshot = tmp_path / "snapshot.db"
    async with running_station(data) as st:
        assert st.daemon.station is not None
        await write_events(st.daemon.station.store, 5)
        await asyncio.to_thread(backup, st.config.station.data_dir, snapshot)
        await write_events(st.daemon.station.store, 7)
        refused = await asyncio.to_thread(
            run_restore, st.config, snapshot, force=False, daemon_url=st.url
        )
        assert refused == 1
        assert "daemon is running" in capsys.readouterr().err
    config = parse_config(data)
    db = database_path(config.station.data_dir)
    later = events_in(db)
    saved = events_in(snapshot)
    assert len(later) >= len(saved) + 7

    code = await asyncio.to_thread(
        run_restore, config, snapshot, force=False, daemon_url="http://127.0.0.1:9"
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "previous database is kept" in out
    assert events_in(db) == saved
    kept = list(config.station.data_dir.glob("station.db.before-restore-*"))
    assert len(kept) == 1 and events_in(kept[0]) == later
    assert not any(config.station.data_dir.glob(".station.db.*"))

    # The daemon starts on the restored database and carries on after its last event.
    async with running_station(data) as st:
        assert st.daemon.station is not None
        await write_events(st.daemon.station.store, 1)
    after = events_in(db)
    assert after[: len(saved)] == saved and len(after) > len(saved)


def test_command_line_backup_and_restore(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = sim_config_data(tmp_path)
    data["api"]["port"] = 9  # nothing answers there: no daemon
    config_file = tmp_path / "station.toml"
    config_file.write_text(tomli_w.dumps(data), encoding="utf-8")
    data_dir = Path(data["station"]["data_dir"])
    data_dir.mkdir(parents=True)
    store = Store(database_path(data_dir), FakeClock(), [])
    store.write_now(lambda tx: tx.append("test.note", actor="test"))
    store.close()

    copy = tmp_path / "copy.db"
    assert main(["backup", "--config", str(config_file), str(copy)]) == 0
    assert "(1 events)" in capsys.readouterr().out
    assert main(["restore", "--config", str(config_file), str(config_file)]) == 1
    assert "restore refused" in capsys.readouterr().err
    assert main(["restore", "--config", str(config_file), str(copy)]) == 0
    assert "previous database is kept" in capsys.readouterr().out


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_restore_as_root_keeps_the_daemons_owner_and_mode(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    Store(database_path(data_dir), FakeClock(), []).close()
    db = database_path(data_dir)
    os.chown(db, 4321, 4321)
    os.chmod(db, 0o640)
    copy = tmp_path / "copy.db"
    backup(data_dir, copy)  # written by root, owned by root
    restore(data_dir, copy)
    st = db.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (4321, 4321, 0o640)
