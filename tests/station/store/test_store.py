"""The store: versioned migrations, one-transaction writes, an append-only durable log."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from station.clock import FakeClock
from station.store import Schema, Store, StoreError, StoreFull


def test_events_are_numbered_and_read_back(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db", FakeClock(synced=False))
    store.write_now(lambda tx: tx.append("a", actor="system", payload={"名": 1}))
    store.write_now(lambda tx: tx.append("b", actor="staff:S1", locker="A01"))
    events = store.events_after(0)
    assert [e.seq for e in events] == [1, 2]
    assert events[0].payload == {"名": 1}
    assert events[0].clock_synced is False
    assert events[1].actor == "staff:S1" and events[1].locker == "A01"
    assert [e.type for e in store.events_after(1)] == ["b"]
    store.close()


def test_wal_and_full_sync(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db", FakeClock())
    assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    store.close()


def test_failed_transaction_writes_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db", FakeClock())

    def half(tx):
        tx.append("a", actor="system")
        raise ValueError("boom")

    with pytest.raises(ValueError):
        store.write_now(half)
    assert store.events_after(0) == []
    store.close()


def test_log_is_append_only(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db", FakeClock())
    store.write_now(lambda tx: tx.append("a", actor="system"))
    with pytest.raises(StoreError, match="append-only"):
        store.write_now(lambda tx: tx.conn.execute("UPDATE events SET actor = 'x'"))
    store.write_now(lambda tx: tx.conn.execute("UPDATE events SET ts_corrected = 5"))
    assert store.events_after(0)[0].ts_corrected == 5
    store.close()


def test_event_needs_actor(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db", FakeClock())
    with pytest.raises(ValueError, match="actor"):
        store.write_now(lambda tx: tx.append("a", actor=""))
    store.close()


def test_component_migrations_are_versioned(tmp_path: Path) -> None:
    v1 = Schema("extra", ["CREATE TABLE things (id INTEGER PRIMARY KEY)"])
    store = Store(tmp_path / "s.db", FakeClock(), [v1])
    assert store.versions == {"core": 1, "extra": 1}
    store.close()
    v2 = Schema("extra", [*v1.steps, "ALTER TABLE things ADD COLUMN name TEXT"])
    store = Store(tmp_path / "s.db", FakeClock(), [v2])
    assert store.versions["extra"] == 2
    store.write_now(lambda tx: tx.conn.execute("INSERT INTO things (name) VALUES ('x')"))
    store.close()
    with pytest.raises(RuntimeError, match="newer release"):
        Store(tmp_path / "s.db", FakeClock(), [v1])


def test_committed_event_survives_a_killed_process(tmp_path: Path) -> None:
    """A write acknowledged to the caller is on disk even if the process dies right after."""
    import subprocess
    import sys

    script = (
        "import os, sys; from pathlib import Path; from station.store import Store;"
        "from station.clock import FakeClock;"
        f"s = Store(Path({str(tmp_path / 's.db')!r}), FakeClock());"
        "s.write_now(lambda tx: tx.append('x', actor='system'));"
        "print('acked', flush=True); os._exit(9)"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert "acked" in out.stdout
    conn = sqlite3.connect(tmp_path / "s.db")
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 1


def test_full_disk_is_a_clear_error(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db", FakeClock())
    page = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count = {page + 1}")
    big = "x" * 100_000
    with pytest.raises(StoreFull, match="Free space"):
        store.write_now(lambda tx: tx.append("a", actor="system", payload={"b": big}))
    assert store.events_after(0) == []
    store.close()
