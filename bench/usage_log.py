"""Usage log: loans per second through the Store, against raw sqlite3 with the same durability.

A loan step is one business transaction: the `loan_started` (or `loan_returned`) event
appended to the usage log, the loan row inserted (or closed) and the tool's row updated,
committed durably (WAL, synchronous=FULL, foreign keys on) by the Store's one writer, with the
real system clock (it asks the kernel whether NTP has synchronised on every append, as on a
station). The comparison writes the very same rows with plain sqlite3 and the same pragmas, one
transaction each, reading `time.time()`, so the ratio is the Store's own cost (Tx, event
objects, the clock question, the writer thread), not the disk's. The two take turns two steps
at a time and the figure is the median of the paired rounds' ratios (this machine's fsync
swings from 0.2 to 8 ms within seconds: blocks run one after the other measured the disk).
Both are measured again after the events table was pre-filled with `--prefill * --scale`
events (a year of usage log at scale 10) to show how the cost grows with the log.

    python bench/usage_log.py [--loans 300] [--prefill 100000] [--scale 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
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


INSERT_TOOL = (
    "INSERT INTO tools (id, name_zh, name_en, category, loan_period, loan_unit, locker,"
    " status, created_at, updated_at) VALUES (:id, :name_zh, :name_en, :category,"
    " :loan_period, :loan_unit, :locker, :status, :created_at, :updated_at)"
)


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
    # Shared with the worker thread of the diagnostic series, one caller at a time.
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
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


def settle(*conns: sqlite3.Connection) -> None:
    """After a bulk load: fold each WAL into its database and flush the disk, so the first
    block measured does not pay for the load's writeback (a fresh run starts the same way)."""
    for conn in conns:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    os.sync()


BLOCK = 2
"""Loan steps in one block: a borrow and its return. The sides take turns block by block, so
each Store block is paired with a raw block run within milliseconds of it."""


async def _alternate(
    store: Store, raw: sqlite3.Connection, rounds: int, first: int, boot_id: str
) -> dict[str, list[float]]:
    """Seconds of each block per side, the order rotating every round (no side always runs
    right after another's WAL checkpoint). One event loop throughout, as the daemon has."""
    loop = asyncio.get_running_loop()
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="raw-writer")
    took: dict[str, list[float]] = {"store": [], "raw": [], "inline": [], "thread": []}
    sides = ("store", "raw", "inline", "thread")
    for k in range(rounds):
        n = first + k * BLOCK
        for side in sides[k % 4 :] + sides[: k % 4]:
            t = time.perf_counter()
            for m in range(n, n + BLOCK):
                if side == "store":  # as the daemon writes: awaited, on the writer thread
                    await store.write(store_loan(m))
                elif side == "raw":
                    raw_loan(raw, m, boot_id)
                elif side == "inline":  # the Store's code on this thread, no writer thread
                    store.write_sync(store_loan(m + 1_000_000))
                else:  # raw sqlite3 on one awaited worker thread
                    await loop.run_in_executor(pool, raw_loan, raw, m + 1_000_000, boot_id)
            took[side].append(time.perf_counter() - t)
    pool.shutdown()
    return took


def interleaved(
    store: Store, raw: sqlite3.Connection, loans: int, first: int, boot_id: str
) -> dict[str, float]:
    """`loans` loan steps each for the Store and raw sqlite3, taking turns a block (a borrow
    and its return) at a time, with two diagnostic series beside them: the Store called inline
    (its code without its writer thread) and raw sqlite3 on one awaited worker thread (what
    any asyncio daemon that keeps fsyncs off its loop pays). The figure is the median over
    rounds of raw's block time over the Store's: a disk that stalls stalls both sides of a
    round alike, and a stall that hits one side of one round moves a median not at all. The
    rates are loans over each side's median block time."""
    rounds = max(10, loans // BLOCK)
    took = asyncio.run(_alternate(store, raw, rounds, first, boot_id))
    med = statistics.median
    s, r, i, t = took["store"], took["raw"], took["inline"], took["thread"]

    def ratio(a: list[float], b: list[float]) -> float:
        return med(y / x for x, y in zip(a, b, strict=True))

    return {
        "store": BLOCK / med(s),
        "raw": BLOCK / med(r),
        "inline": BLOCK / med(i),
        "raw_thread": BLOCK / med(t),
        "ratio": ratio(s, r),
        "ratio_inline": ratio(i, r),
        "ratio_thread": ratio(s, t),
        # What the Store adds to a step, in microseconds, paired the same way.
        "extra_us": med((x - y) * 1e6 / BLOCK for x, y in zip(s, r, strict=True)),
        "extra_inline_us": med((x - y) * 1e6 / BLOCK for x, y in zip(i, r, strict=True)),
        "spread": pct_ratio(r),
        "blocks": float(rounds),
        "next": float(first + rounds * BLOCK),
    }


def pct_ratio(values: list[float]) -> float:
    """How much raw's block time varies in the run: its 90th percentile over its 10th."""
    ordered = sorted(values)
    return ordered[len(ordered) * 9 // 10] / ordered[len(ordered) // 10]


def measure(loans: int = 300, prefill_events: int = 100_000, scale: int = 1) -> dict[str, float]:
    """Loans/s for the Store and raw sqlite3, on an empty log and after the pre-fill."""
    clock = SystemClock()  # the station's own clock: the kernel is asked on every append
    boot_id = read_boot_id()
    with tempfile.TemporaryDirectory(prefix="bench-usage-") as tmp:
        store = Store(Path(tmp) / "station.db", clock, [LENDING_SCHEMA])
        store.write_now(lambda tx: tx.conn.executemany(INSERT_TOOL, tool_rows(clock.wall())))
        raw = open_raw(Path(tmp) / "raw.db", store.path)
        raw.executemany(
            INSERT_TOOL,
            tool_rows(clock.wall()),
        )
        settle(store._conn, raw)
        out: dict[str, float] = {}
        empty = interleaved(store, raw, loans, 0, boot_id)
        out.update(empty)
        count = prefill_events * scale
        t = time.perf_counter()
        history = FakeClock(wall=time.time())
        prefill(store._conn, count, history)
        prefill(raw, count, history)
        settle(store._conn, raw)
        out["prefill_s"] = time.perf_counter() - t
        out["prefilled"] = float(count)
        full = interleaved(store, raw, loans, int(empty["next"]), boot_id)
        out.update({f"{k}_full": v for k, v in full.items()})
        raw.close()
        store.close()
    return out


def report(r: dict[str, float], suffix: str) -> str:
    s, raw, inline = r[f"store{suffix}"], r[f"raw{suffix}"], r[f"inline{suffix}"]
    return (
        f"Store {s:8.0f} loans/s   raw sqlite3 {raw:8.0f} loans/s   "
        f"ratio {r[f'ratio{suffix}']:.2f} (median of {r[f'blocks{suffix}']:.0f} paired rounds;"
        f" raw's p90/p10 step time {r[f'spread{suffix}']:.1f}x)\n"
        f"               per step (paired medians): raw {1e6 / raw:,.0f} us; the Store adds "
        f"{r[f'extra_us{suffix}']:+,.0f} us, of which its code "
        f"{r[f'extra_inline_us{suffix}']:+,.0f} us (called inline: {inline:.0f}/s, ratio "
        f"{r[f'ratio_inline{suffix}']:.2f})\n"
        f"               raw sqlite3 on one worker thread, awaited: "
        f"{r[f'raw_thread{suffix}']:.0f}/s; Store/that {r[f'ratio_thread{suffix}']:.2f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loans", type=int, default=300)
    ap.add_argument("--prefill", type=int, default=100_000)
    ap.add_argument("--scale", type=int, default=1)
    args = ap.parse_args()
    r = measure(args.loans, args.prefill, args.scale)
    print(
        f"usage log: loan steps (event + loan row + tool row, durable commit), {args.loans} "
        f"each side, taking turns {BLOCK} steps at a time"
    )
    print(f"  empty log:   {report(r, '')}")
    print(f"  after {r['prefilled']:,.0f} events pre-filled ({r['prefill_s']:.1f} s):")
    print(f"               {report(r, '_full')}")
    print(f"FIGURES {json.dumps(r)}")


if __name__ == "__main__":
    main()
