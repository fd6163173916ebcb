"""Usage log: loans per second through the Store, against raw sqlite3 with the same durability.

A loan step is one business transaction: the `loan_started` (or `loan_returned`) event
appended to the usage log, the loan row inserted (or closed) and the tool's row updated,
committed durably (WAL, synchronous=FULL, foreign keys on) by the Store's one writer, with the
real system clock (it asks the kernel whether NTP has synchronised on every append, as on a
station). The comparison writes the very same rows with plain sqlite3 and the same pragmas, one
transaction each, reading `time.time()`, so the ratio is the Store's own cost (Tx, event
objects, the clock question, the writer thread), not the disk's. Both
are measured again after the events table was pre-filled with `--prefill * --scale` events (a
year of usage log at scale 10) to show how the cost grows with the log.

    python bench/usage_log.py [--loans 300] [--prefill 100000] [--scale 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from station.clock import FakeClock, SystemClock, read_boot_id  # noqa: E402
from station.services.lending.schema import LENDING_SCHEMA  # noqa: E402
from station.store import Store  # noqa: E402
from station.store.events import Tx  # noqa: E402

TOOLS = 40
EVENT_SQL = (
    "INSERT INTO events (id, type, ts, mono, boot_id, clock_synced, actor, locker, payload)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
LOAN_SQL = (
    "INSERT INTO loans (tool_id, member_id, member_label, member_masked, locker, started_at,"
    " due_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
TOOL_SQL = "UPDATE tools SET status = ?, updated_at = ? WHERE id = ?"
RETURN_SQL = (
    "UPDATE loans SET returned_at = ?, returned_by = ?, return_condition = 'works'"
    " WHERE tool_id = ? AND returned_at IS NULL"
)


def loan_statements(
    conn: sqlite3.Connection, n: int, now: float, loan: tuple[Any, ...], tool: str
) -> str:
    """Even n borrow tool n//2, odd n bring it back: the state rows of one loan step."""
    if n % 2 == 0:
        conn.execute(LOAN_SQL, loan)
        conn.execute(TOOL_SQL, ("on_loan", now, tool))
        return "loan_started"
    conn.execute(RETURN_SQL, (now, loan[2], tool))
    conn.execute(TOOL_SQL, ("available", now, tool))
    return "loan_returned"


def tool_rows(now: float) -> list[dict[str, Any]]:
    return [
        {
            "id": f"T-{i:03d}",
            "name_zh": "电钻",
            "name_en": "Drill",
            "category": "power",
            "loan_period": 2,
            "loan_unit": "days",
            "locker": f"A{i + 1:02d}",
            "status": "available",
            "created_at": now,
            "updated_at": now,
        }
        for i in range(TOOLS)
    ]


def loan_rows(n: int, now: float) -> tuple[str, str, dict[str, Any], tuple[Any, ...]]:
    tool = f"T-{n // 2 % TOOLS:03d}"
    locker = f"A{n // 2 % TOOLS + 1:02d}"
    actor = f"member:{n % 997}/5678"
    payload = {"tool": tool, "loan": n, "due_at": now + 172800}
    loan = (tool, f"m{n % 997}", actor, "138****5678", locker, now, now + 172800)
    return tool, locker, payload, loan


def store_loan(n: int) -> Any:
    def fn(tx: Tx) -> None:
        now = tx.now()
        tool, locker, payload, loan = loan_rows(n, now)
        kind = loan_statements(tx.conn, n, now, loan, tool)
        tx.append(kind, actor=loan[2], locker=locker, payload=payload)

    return fn


def raw_loan(conn: sqlite3.Connection, n: int, boot_id: str) -> None:
    now = time.time()
    tool, locker, payload, loan = loan_rows(n, now)
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    conn.execute("BEGIN IMMEDIATE")
    kind = loan_statements(conn, n, now, loan, tool)
    conn.execute(
        EVENT_SQL,
        (
            uuid.uuid4().hex,
            kind,
            now,
            time.monotonic(),
            boot_id,
            1,
            loan[2],
            locker,
            body,
        ),
    )
    conn.execute("COMMIT")


def prefill(conn: sqlite3.Connection, count: int, clock: FakeClock) -> None:
    """Bulk-load old usage log quickly (one transaction, executemany): history, not the test."""
    chunk = 50_000
    now = clock.wall()
    conn.execute("BEGIN")
    for start in range(0, count, chunk):
        conn.executemany(
            EVENT_SQL,
            (
                (
                    uuid.uuid4().hex,
                    "door_opened" if i % 3 else "loan_started",
                    now - (count - i) * 30,
                    float(i),
                    clock.boot_id,
                    1,
                    f"member:{i % 997}",
                    f"A{i % 16 + 1:02d}",
                    '{"reason":"借用工具"}',
                )
                for i in range(start, min(count, start + chunk))
            ),
        )
    conn.execute("COMMIT")


def open_raw(path: Path, store_path: Path) -> sqlite3.Connection:
    """A bare database with the Store's own schema (copied), opened with the Store's pragmas."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    src = sqlite3.connect(store_path)
    for (sql,) in src.execute(
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'"
        " AND name != '_schema_versions' ORDER BY rowid"
    ):
        conn.execute(sql)
    src.close()
    return conn


async def store_rate(store: Store, loans: int, first: int) -> float:
    started = time.perf_counter()
    for n in range(first, first + loans):
        await store.write(store_loan(n))
    return loans / (time.perf_counter() - started)


def raw_rate(conn: sqlite3.Connection, loans: int, first: int, boot_id: str) -> float:
    started = time.perf_counter()
    for n in range(first, first + loans):
        raw_loan(conn, n, boot_id)
    return loans / (time.perf_counter() - started)


def measure(loans: int = 300, prefill_events: int = 100_000, scale: int = 1) -> dict[str, float]:
    """Loans/s for the Store and raw sqlite3, on an empty log and after the pre-fill."""
    clock = SystemClock()  # the station's own clock: the kernel is asked on every append
    boot_id = read_boot_id()
    with tempfile.TemporaryDirectory(prefix="bench-usage-") as tmp:
        store = Store(Path(tmp) / "station.db", clock, [LENDING_SCHEMA])
        store.write_now(lambda tx: tx.db["tools"].insert_all(tool_rows(clock.wall())))
        raw = open_raw(Path(tmp) / "raw.db", store.path)
        raw.executemany(
            "INSERT INTO tools (id, name_zh, name_en, category, loan_period, loan_unit, locker,"
            " status, created_at, updated_at) VALUES (:id, :name_zh, :name_en, :category,"
            " :loan_period, :loan_unit, :locker, :status, :created_at, :updated_at)",
            tool_rows(clock.wall()),
        )
        out: dict[str, float] = {}
        # Alternate the two so a noisy neighbour hurts both alike; keep the median of 3.
        per = max(2, loans // 3 // 2 * 2)  # even: every borrow in a run is brought back
        s_runs, r_runs = [], []
        for rep in range(3):
            s_runs.append(asyncio.run(store_rate(store, per, rep * per)))
            r_runs.append(raw_rate(raw, per, rep * per, boot_id))
        out["store"], out["raw"] = sorted(s_runs)[1], sorted(r_runs)[1]
        count = prefill_events * scale
        t = time.perf_counter()
        history = FakeClock(wall=time.time())
        prefill(store._conn, count, history)
        prefill(raw, count, history)
        out["prefill_s"] = time.perf_counter() - t
        out["prefilled"] = float(count)
        s_runs, r_runs = [], []
        for rep in range(3, 6):
            s_runs.append(asyncio.run(store_rate(store, per, rep * per)))
            r_runs.append(raw_rate(raw, per, rep * per, boot_id))
        out["store_full"], out["raw_full"] = sorted(s_runs)[1], sorted(r_runs)[1]
        raw.close()
        store.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loans", type=int, default=300)
    ap.add_argument("--prefill", type=int, default=100_000)
    ap.add_argument("--scale", type=int, default=1)
    args = ap.parse_args()
    r = measure(args.loans, args.prefill, args.scale)
    print(f"usage log: loans (event + loan row + tool row, durable commit), {args.loans} each")
    print(f"  empty log:   Store {r['store']:8.0f} loans/s   raw sqlite3 {r['raw']:8.0f} loans/s")
    print(f"               ratio Store/raw {r['store'] / r['raw']:.2f}")
    print(f"  after {r['prefilled']:,.0f} events pre-filled ({r['prefill_s']:.1f} s):")
    print(
        f"               Store {r['store_full']:8.0f} loans/s   "
        f"raw sqlite3 {r['raw_full']:8.0f} loans/s   ratio {r['store_full'] / r['raw_full']:.2f}"
    )


if __name__ == "__main__":
    main()
