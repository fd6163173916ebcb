"""Central at fleet scale: ingest and every office query at 1M and at 10M events, 100 stations.

The usage log is bulk-loaded straight into central's own schema (COPY on PostgreSQL, one
executemany per chunk on SQLite; not through HTTP: a year of a fleet would take hours that way
and measure nothing new), each station at the same pace (one event every 5 minutes), so 10x the
events is 10x the history, as a fleet that has run ten times longer. Then the hourly figures
are folded (central's own rollup) and, at each size, measured with central's own code:

- ingest: `storage.ingest` of 1 000-event batches continuing stations' logs, plus the folds
  (`Fleet.ingested`, as the ingest route calls it);
- event pages (`storage.events`, what GET /api/v1/events runs): the whole log from a middle
  gid, one station from a middle gid, one station and a rare type, one station's last week;
- fleet overview, one station's page (summary + 7 days of history), 30 days of fleet history
  (`central.fleet.Fleet`, what the dashboard's API calls run);
- the office report of the last full month by day, for the fleet and for one station
  (`central.reports.api.make_report`, what GET /api/v1/reports runs).

Each query figure is the median over several picks (a random station, a random point in the
log), each run twice: the second run is the figure, the first ("first") the same with the
page's first read from wherever it lies, shown beside it. The target is the 10M figure within
2x of the 1M one (what an index buys: cost that follows the page, not the table).

    python bench/central_scale.py [--sizes 1000000,10000000] [--backend sqlite|postgres|both]
        [--plans]

--plans also shows, at each size, every query's plan and a cProfile of one ingest + fold (one
size alone, e.g. --sizes 10000000, loads straight to it and is the quicker way to look).

Data lives in a temporary directory under --dir (default /tmp) and is deleted at the end.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from central.auth import new_token, token_hash  # noqa: E402
from central.fleet import Fleet  # noqa: E402
from central.reports.api import last_full_month, make_report  # noqa: E402
from central.reports.build import ReportRequest  # noqa: E402
from central.settings import CentralSettings  # noqa: E402
from central.storage.base import EVENT_COLUMNS, EventQuery, Storage  # noqa: E402
from central.storage.pg_cluster import ClusterUnavailable, ThrowawayCluster  # noqa: E402
from central.storage.sqlite import SQLiteStorage  # noqa: E402
from wire.event import IncomingEvent  # noqa: E402

START = 1_735_660_800.0  # 2025-01-01 00:00 Asia/Shanghai
EVERY_S = 300.0
"""Each station's pace: one event every 5 minutes, ~105 000 a year."""
TYPES = (
    ("door_opened", 30),
    ("door_closed", 30),
    ("door_unlocked", 20),
    ("loan_started", 6),
    ("tool_returned", 6),
    ("occupancy_session", 6),
    ("supply_taken", 1.5),
    ("alarm_raised", 0.5),
)
RARE = "supply_taken"
"""The station+type page's type: 1.5% of events, 150 a station at 1M, so its page of 100 is
full at both sizes. Alarms (0.5%) are 50 a station at 1M: their page would hold 50 rows at 1M
and 100 at 10M, a figure that doubles with the page, not with the table."""
BATCH = 1_000


def station_ids(n: int) -> list[str]:
    return [f"ST-{k:04d}" for k in range(n)]


def _kinds(count: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    names = [t for t, _ in TYPES]
    weights = [w for _, w in TYPES]
    return rnd.choices(names, weights, k=count)


def _payload(kind: str, seq: int, ts: float) -> str:
    if kind == "occupancy_session":
        return json.dumps({"started_at": ts - 600, "ended_at": ts, "source": "radar"})
    if kind in ("loan_started", "tool_returned"):
        return json.dumps({"tool": f"T-{seq % 40:03d}", "loan": seq}, ensure_ascii=False)
    return json.dumps({"reason": "借用工具"}, ensure_ascii=False)


_TYPE_OF_H = (
    "CASE WHEN h < 60 THEN 'door_opened' WHEN h < 120 THEN 'door_closed'"
    " WHEN h < 160 THEN 'door_unlocked' WHEN h < 172 THEN 'loan_started'"
    " WHEN h < 184 THEN 'tool_returned' WHEN h < 196 THEN 'occupancy_session'"
    " WHEN h < 199 THEN 'supply_taken' ELSE 'alarm_raised' END"
)
"""The type mix (per 200): doors 80%, loans and returns 6% each, occupancy 6%, alarms 0.5%."""
_COLUMNS = ", ".join(EVENT_COLUMNS)
_GENERATE = {
    "sqlite": f"""
    WITH RECURSIVE s(seq) AS (SELECT ? UNION ALL SELECT seq + 1 FROM s WHERE seq < ?),
    st(k, id) AS (SELECT row_number() OVER (ORDER BY id) - 1, id FROM stations)
    INSERT INTO events ({_COLUMNS})
    SELECT id, seq, id || '-' || seq, t, ts, NULL, ts, 'measured', seq, 'boot-1', 1,
        'member:' || ((seq * 7 + k) % 997), 'A' || printf('%02d', (seq + k) % 24 + 1),
        CASE t WHEN 'occupancy_session' THEN json_object('started_at', ts - 600, 'ended_at', ts)
               WHEN 'loan_started' THEN json_object('tool', 'T-' || (seq % 40), 'loan', seq)
               ELSE '{{"reason":"借用工具"}}' END,
        ts + 5
    FROM (SELECT id, k, seq, ts, {_TYPE_OF_H} AS t
          FROM (SELECT st.id, st.k, s.seq, ? + s.seq * ? + st.k AS ts,
                       (s.seq * 31 + st.k * 17) % 200 AS h FROM s CROSS JOIN st))
    """,
    "postgres": f"""
    INSERT INTO events ({_COLUMNS})
    SELECT id, seq, id || '-' || seq, t, ts, NULL, ts, 'measured', seq, 'boot-1', true,
        'member:' || ((seq * 7 + k) %% 997), 'A' || lpad(((seq + k) %% 24 + 1)::text, 2, '0'),
        CASE t WHEN 'occupancy_session'
                    THEN jsonb_build_object('started_at', ts - 600, 'ended_at', ts)
               WHEN 'loan_started' THEN jsonb_build_object('tool', 'T-' || (seq %% 40), 'loan', seq)
               ELSE '{{"reason":"借用工具"}}'::jsonb END,
        ts + 5
    FROM (SELECT id, k, seq, ts, {_TYPE_OF_H} AS t
          FROM (SELECT st.id, st.k, s.seq, %s + s.seq * %s + st.k AS ts,
                       (s.seq * 31 + st.k * 17) %% 200 AS h
                FROM generate_series(%s::bigint, %s::bigint) AS s(seq)
                CROSS JOIN (SELECT row_number() OVER (ORDER BY id) - 1 AS k, id FROM stations) st
                ORDER BY s.seq, st.k) x) y
    """,
}
"""Events first..last of every station, made by the database itself (a Python loop would spend
an hour on 10M rows here), in time order across the fleet as they would arrive."""


def event(station: str, seq: int) -> IncomingEvent:
    ts = START + seq * EVERY_S
    kind = _kinds(1, seq)[0]
    return IncomingEvent(
        seq, f"{station}-{seq:09d}", kind, ts, None, float(seq), "boot-1", True,
        "member:1", "A01", _payload(kind, seq, ts),
    )  # fmt: skip


class Loader:
    """Bulk-loads events into a backend's own events table, outside Storage (history, not the
    figure), then sets what ingest would have: acknowledged sequence and the hourly fold."""

    def __init__(self, storage: Storage, stations: list[str], conninfo: str | None) -> None:
        self.storage = storage
        self.stations = stations
        self.conninfo = conninfo
        self.per_station = 0

    def load_to(self, total: int, say: Callable[[str], None]) -> float:
        target = total // len(self.stations)
        first, self.per_station = self.per_station + 1, target
        started = time.perf_counter()
        chunk = max(1, 1_000_000 // len(self.stations))
        # Indexes are built once after the load (a sort), not row by row: what pg_restore and
        # any bulk load do. The keys (gid, station+seq) stay, so the rows are checked as usual.
        indexes = self._secondary_indexes()
        self._run([f"DROP INDEX {name}" for name, _ in indexes])
        for a in range(first, target + 1, chunk):
            b = min(target, a + chunk - 1)
            self._load(a, b)
            say(f"    loaded {b * len(self.stations):,} events")
        self._run([sql for _, sql in indexes])
        self._acked(target)
        loaded = time.perf_counter() - started
        fold = time.perf_counter()
        # Both folds central runs after each batch (Fleet.ingested): the hourly history and
        # the reports. Left behind, the first batch measured would fold the station's whole
        # history, a figure of the bench's own making that grows with the table.
        for station in self.stations:
            while self.storage.rollup(station) == 50_000:
                pass
            while self.storage.fold_reports(station) == 50_000:
                pass
        say(f"    folded hourly figures and reports in {time.perf_counter() - fold:.0f} s")
        self._analyze()
        return loaded

    def _load(self, first: int, last: int) -> None:
        if self.conninfo is None:
            assert isinstance(self.storage, SQLiteStorage)
            conn = self.storage._conn
            conn.execute("BEGIN")
            conn.execute(_GENERATE["sqlite"], (first, last, START, EVERY_S))
            conn.execute("COMMIT")
            return
        import psycopg

        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            conn.execute(_GENERATE["postgres"], (START, EVERY_S, first, last))

    def _secondary_indexes(self) -> list[tuple[str, str]]:
        """(name, definition) of the events table's indexes but its keys (primary, unique)."""
        if self.conninfo is None:
            assert isinstance(self.storage, SQLiteStorage)
            found = self.storage._conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
                " AND tbl_name = 'events' AND sql IS NOT NULL"
            ).fetchall()
            return [(r[0], r[1]) for r in found]
        import psycopg

        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            found = conn.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = 'events'"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
            ).fetchall()
            return [(r[0], r[1]) for r in found]

    def _run(self, statements: list[str]) -> None:
        if self.conninfo is None:
            assert isinstance(self.storage, SQLiteStorage)
            for statement in statements:
                self.storage._conn.execute(statement)
            return
        import psycopg

        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)

    def _acked(self, seq: int) -> None:
        sql = "UPDATE stations SET acked_seq = ?"
        if self.conninfo is None:
            assert isinstance(self.storage, SQLiteStorage)
            self.storage._conn.execute(sql, (seq,))
            return
        import psycopg

        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            conn.execute(sql.replace("?", "%s"), (seq,))

    def _analyze(self) -> None:
        """PostgreSQL's autovacuum analyzes a table this size soon after a load; do it now
        rather than wait. SQLite central never runs ANALYZE, so neither does the bench. Then
        the load's writes go to disk before anything is measured (a CHECKPOINT; SQLite's WAL
        folded back into the file): flushing gigabytes of history is the load's cost, not
        the next query's."""
        if self.conninfo is None:
            assert isinstance(self.storage, SQLiteStorage)
            self.storage._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return
        import psycopg

        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE events")
            conn.execute("CHECKPOINT")


def median_ms(fn: Callable[[int], Any], repeats: int) -> tuple[float, float]:
    """(median of the second run of each pick, median of its first run) in milliseconds.

    Each pick (a random station, a random point in the log) is run twice: the first run reads
    what that page needs from wherever it is (PostgreSQL's shared buffers, the OS cache or the
    disk: at 10M events the table is 38x PostgreSQL's default shared buffers), the second is
    the query's own work. The target is on the second, where an index shows or its absence
    does (a scan is as slow warm); the first is reported beside it, the cache's share."""
    warm, first = [], []
    for i in range(repeats):
        for times in (first, warm):
            t = time.perf_counter()
            fn(i)
            times.append((time.perf_counter() - t) * 1000)
    return statistics.median(warm), statistics.median(first)


def explain(storage: Storage, fn: Callable[[], Any], say: Callable[[str], None]) -> None:
    """Run `fn` once with every SELECT it makes shown with its plan first: EXPLAIN (ANALYZE,
    BUFFERS) on PostgreSQL, EXPLAIN QUERY PLAN on SQLite (which has no ANALYZE of a plan)."""
    sqlite = isinstance(storage, SQLiteStorage)
    prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, BUFFERS) "
    plain = storage._exec

    def shown(conn: Any, statement: str, params: Any = ()) -> Any:
        if statement.lstrip().upper().startswith("SELECT"):
            rows = conn.execute(storage._sql(prefix + statement), params).fetchall()
            say(f"      {' '.join(statement.split())[:160]}")
            for row in rows:
                line = row[3] if sqlite else next(iter(dict(row).values()))
                say(f"        {line}")
        return plain(conn, statement, params)

    storage._exec = shown  # type: ignore[method-assign]
    try:
        fn()
    finally:
        del storage._exec  # type: ignore[attr-defined]


def profile(fn: Callable[[], Any], say: Callable[[str], None], top: int = 14) -> None:
    """Run `fn` once under cProfile and show the functions that took the most time."""
    import cProfile
    import io
    import pstats

    prof = cProfile.Profile()
    prof.runcall(fn)
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(top)
    for line in out.getvalue().splitlines():
        if line.strip():
            say(f"      {line}")


def figures(
    storage: Storage,
    stations: list[str],
    per_station: int,
    repeats: int,
    plans: bool = False,
    say: Callable[[str], None] = print,
) -> dict[str, float]:
    """Every office query and ingest at the current size (milliseconds; ingest in events/s)."""
    rnd = random.Random(per_station)
    end = START + per_station * EVERY_S
    settings = CentralSettings()
    fleet = Fleet(storage, settings, lambda: end + 60)
    # The office's report of the last full month, by day: the whole fleet, and one station.
    first_day, last_day = last_full_month(end + 60, ZoneInfo(settings.timezone))
    month = ReportRequest("day", first_day, last_day)
    total = per_station * len(stations)
    picks = [rnd.choice(stations) for _ in range(repeats)]
    middles = [rnd.randrange(1, total) for _ in range(repeats)]
    out: dict[str, float] = {}
    queries: dict[str, Callable[[int], Any]] = {
        "page_all": lambda i: storage.events(EventQuery(after=middles[i])),
        "page_station": lambda i: storage.events(EventQuery(station=picks[i], after=middles[i])),
        "page_station_type": lambda i: storage.events(EventQuery(station=picks[i], type=RARE)),
        "page_station_week": lambda i: storage.events(
            EventQuery(station=picks[i], since=end - 7 * 86_400)
        ),
        "fleet_overview": lambda i: fleet.overview(),
        "station_page": lambda i: fleet.station(picks[i], days=7),
        "fleet_history_30d": lambda i: fleet.history(30),
        "report_month": lambda i: make_report(storage, settings, month),
        "report_station_month": lambda i: make_report(
            storage, settings, replace(month, stations=(picks[i],))
        ),
    }
    for name, fn in queries.items():
        out[name], out[f"{name} first"] = median_ms(fn, repeats)
        if plans:
            say(f"    {name}: plans")
            explain(storage, lambda fn=fn: fn(1), say)

    # Ingest: fresh batches continuing the log of a few stations, each followed by the fold.
    def batch_of(station: str) -> Callable[[], None]:
        batch = [event(station, s) for s in range(per_station + 1, per_station + BATCH + 1)]

        def one() -> None:
            # What the ingest route runs (central/app.py): a batch stored whole is folded
            # from the events in hand.
            result = storage.ingest(station, per_station, batch, None, end)
            whole = (per_station, batch) if result.stored == len(batch) else None
            fleet.ingested(station, None, whole)

        return one

    if plans:
        behind = stations[-2]
        _set_folds(storage, behind, 0, states=("report_state",))
        say(f"    ingest + fold of {BATCH} events, reports fold behind (the bench before the fix):")
        profile(batch_of(behind), say)
        say(f"    ingest + fold of {BATCH} events, both folds level:")
        profile(batch_of(stations[-1]), say)
        for station in stations[-2:]:
            _trim(storage, station, per_station)
        say("    the fold's statements (a batch of a station not measured):")
        explain(storage, batch_of(stations[-1]), say)
        _trim(storage, stations[-1], per_station)
    rates = []
    for station in stations[:repeats]:
        one = batch_of(station)
        t = time.perf_counter()
        one()
        rates.append(BATCH / (time.perf_counter() - t))
    # Put those stations back where the others are, so the next load continues them all alike.
    for station in stations[:repeats]:
        _trim(storage, station, per_station)
    out["ingest"] = statistics.median(rates)
    return out


def _trim(storage: Storage, station: str, seq: int) -> None:
    """Undo the ingest figure's batch (a bench-only step: central never deletes events)."""
    with storage._tx() as conn:  # type: ignore[attr-defined]
        storage._exec(  # type: ignore[attr-defined]
            conn, "DELETE FROM events WHERE station = ? AND seq > ?", (station, seq)
        )
        storage._exec(  # type: ignore[attr-defined]
            conn, "UPDATE stations SET acked_seq = ? WHERE id = ?", (seq, station)
        )
    _set_folds(storage, station, seq)


def _set_folds(
    storage: Storage,
    station: str,
    seq: int,
    states: tuple[str, ...] = ("rollup_state", "report_state"),
) -> None:
    """Put the folds' positions (history, reports) at `seq` (bench-only)."""
    with storage._tx() as conn:  # type: ignore[attr-defined]
        for state in states:
            storage._exec(  # type: ignore[attr-defined]
                conn, f"UPDATE {state} SET rolled_seq = ? WHERE station = ?", (seq, station)
            )


def measure(
    sizes: list[int],
    stations: int = 100,
    backends: tuple[str, ...] = ("sqlite", "postgres"),
    repeats: int = 15,
    base: Path = Path("/tmp"),
    say: Callable[[str], None] = print,
    plans: bool = False,
) -> dict[str, dict[int, dict[str, float]]]:
    """{backend: {size: {figure: value}}}; sizes ascending, loaded one on top of the other."""
    out: dict[str, dict[int, dict[str, float]]] = {}
    names = station_ids(stations)
    tmp = Path(tempfile.mkdtemp(prefix="bench-scale-", dir=base))
    try:
        for backend in backends:
            cluster: ThrowawayCluster | None = None
            conninfo: str | None = None
            if backend == "postgres":
                try:
                    cluster = ThrowawayCluster(durable=True).start()
                except ClusterUnavailable as exc:
                    say(f"PostgreSQL skipped: {exc}")
                    continue
                from central.storage.postgres import PostgresStorage

                conninfo = cluster.create_database("scale")
                storage: Storage = PostgresStorage(conninfo)
            else:
                storage = SQLiteStorage(tmp / "central.db")
            try:
                for name in names:
                    storage.add_station(name, name, token_hash(new_token()), START)
                loader = Loader(storage, names, conninfo)
                out[backend] = {}
                for size in sorted(sizes):
                    say(f"{backend}: loading to {size:,} events")
                    load_s = loader.load_to(size, say)
                    got = figures(storage, names, loader.per_station, repeats, plans, say)
                    got["load_rate"] = (size - sum(s for s in out[backend] if s < size)) / max(
                        load_s, 1e-9
                    )
                    got["db_bytes"] = float(_size(tmp, cluster))
                    out[backend][size] = got
                    shown = ", ".join(_fmt(k, v) for k, v in got.items())
                    say(f"  {backend} at {size:,}: {shown}")
            finally:
                storage.close()
                if cluster is not None:
                    cluster.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def _size(tmp: Path, cluster: ThrowawayCluster | None) -> int:
    root = cluster.dir if cluster is not None else tmp
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def _fmt(key: str, value: float) -> str:
    if key in ("ingest", "load_rate"):
        return f"{key} {value:,.0f}/s"
    if key == "db_bytes":
        return f"{value / 1e9:.2f} GB"
    return f"{key} {value:.1f} ms"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000000,10000000")
    ap.add_argument("--stations", type=int, default=100)
    ap.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--dir", type=Path, default=Path("/tmp"))
    ap.add_argument(
        "--plans",
        action="store_true",
        help="show each query's plan (EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL, EXPLAIN QUERY"
        " PLAN on SQLite) and a cProfile of one ingest + fold at each size",
    )
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    r = measure(sizes, args.stations, backends, args.repeats, args.dir, plans=args.plans)
    small, big = min(sizes), max(sizes)
    worst = 0.0
    for backend, by_size in r.items():
        print(f"\n{backend}: {big:,} against {small:,} events (target: each within 2x)")
        for key, value in by_size[big].items():
            if key in ("load_rate", "db_bytes"):
                continue
            ratio = by_size[small][key] / value if key == "ingest" else value / by_size[small][key]
            if not key.endswith(" first"):  # the cache's share: shown, not the target
                worst = max(worst, ratio)
            print(f"  {key:<20} {_fmt(key, by_size[small][key]):>28} -> {_fmt(key, value):>28}"
                  f"  {ratio:.2f}x")  # fmt: skip
    return 0 if worst <= 2 else 1


if __name__ == "__main__":
    raise SystemExit(main())
