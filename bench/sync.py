"""Sync benchmark: how fast a 100 000-event backlog reaches central, against what HTTP alone costs.

Run: .venv/bin/python bench/sync.py [--events 100000] [--batch 5000] [--no-postgres]
     [--stations 100] [--share 10000] [--index-costs]

Prints, from one run on this machine:
- catch-up of a station's backlog to a real central server (uvicorn on loopback), events/s,
  with central on SQLite and (if installed) on PostgreSQL;
- a plain HTTP POST of the very same gzipped batch bodies to a do-nothing endpoint of the same
  uvicorn, as the floor set by HTTP, gzip transfer and the event loop;
- central's storage ingest alone (storage.ingest of the decoded rows), events/s, on SQLite and
  PostgreSQL, beside the plain bulk load of the same rows into a bare table (executemany on
  SQLite, COPY on PostgreSQL) as the floor set by the database; on SQLite also storage.ingest
  with the fleet's folds (history and report figures) that the ingest route runs per batch.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request, Response

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from central.app import create_app  # noqa: E402
from central.auth import new_token, token_hash  # noqa: E402
from central.fleet import Fleet  # noqa: E402
from central.server import BackgroundServer  # noqa: E402
from central.settings import CentralSettings  # noqa: E402
from central.storage.base import EVENT_COLUMNS, Storage, row_tuple  # noqa: E402
from central.storage.pg_cluster import ClusterUnavailable, ThrowawayCluster  # noqa: E402
from central.storage.sqlite import SQLiteStorage  # noqa: E402
from station.clock import FakeClock  # noqa: E402
from station.store import Store  # noqa: E402
from station.sync.config import SyncConfig  # noqa: E402
from station.sync.service import SYNC_SCHEMA, SyncService  # noqa: E402
from station.sync.uplink import EVENT_SELECT  # noqa: E402
from wire.batch import decode_batch, encode_batch  # noqa: E402
from wire.event import IncomingEvent  # noqa: E402

STATION = "BENCH-1"


def make_backlog(path: Path, n: int) -> Store:
    clock = FakeClock(wall=time.time())
    store = Store(path, clock, [SYNC_SCHEMA])

    def write(tx: Any) -> None:
        for i in range(n):
            tx.append(
                "door_opened" if i % 3 else "loan_started",
                actor=f"member:{i % 997}",
                locker=f"A{i % 24 + 1:02d}",
                payload={"reason": "借用工具", "tool": f"t{i % 40}", "n": i},
            )

    store.write_now(write)
    return store


def batch_bodies(store: Store, max_events: int, max_bytes: int) -> list[tuple[int, bytes]]:
    """The gzipped bodies sync sends for this backlog, cut the same way (count, bytes)."""
    bodies: list[tuple[int, bytes]] = []
    cursor = 0
    while True:
        rows = [tuple(r.values()) for r in store.query(EVENT_SELECT, (cursor, max_events))]
        if not rows:
            return bodies
        batch = encode_batch(STATION, cursor, rows, max_bytes, None)
        bodies.append((batch.count, batch.body))
        cursor = batch.last_seq


CPU: dict[str, float] = {}
"""Process CPU seconds of the last catch_up and ingest_rate (every thread of this process)."""


async def catch_up(store: Store, url: str, token: str, batch: int) -> float:
    config = SyncConfig(url=url, token=token, batch_max_events=batch, heartbeat_s=3600)
    sync = SyncService(store, config, STATION, store.clock)
    started, cpu = time.perf_counter(), time.process_time()
    outcome = await sync.catch_up()
    elapsed = time.perf_counter() - started
    CPU["catch_up"] = time.process_time() - cpu
    await sync.aclose()
    if not outcome.ok or sync.status()["pending"]:
        raise SystemExit(f"catch-up failed: {outcome}")
    return elapsed


async def plain_posts(url: str, bodies: list[tuple[int, bytes]]) -> float:
    async with httpx.AsyncClient(base_url=url) as client:
        started = time.perf_counter()
        for _, body in bodies:
            r = await client.post(
                "/sink",
                content=body,
                headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
            )
            r.raise_for_status()
        return time.perf_counter() - started


def sink_app() -> FastAPI:
    app = FastAPI()

    @app.post("/sink")
    async def sink(request: Request) -> Response:
        await request.body()
        return Response(b'{"ok":true}', media_type="application/json")

    return app


def decoded(bodies: list[tuple[int, bytes]]) -> list[tuple[int, list[IncomingEvent]]]:
    out = []
    for _, body in bodies:
        parsed, events = decode_batch(gzip.decompress(body))
        out.append((parsed.after, events))
    return out


def ingest_rate(
    storage: Storage,
    batches: list[tuple[int, list[IncomingEvent]]],
    stations: int = 1,
    fold: bool = False,
) -> float:
    """Events/s of storage.ingest; with stations > 1 each station sends the same batches,
    interleaved batch by batch the way many stations' uploads arrive at central. With `fold`,
    each batch is also folded into the fleet history and report figures as the ingest route
    does (Fleet.ingested): all of central's storing work for a batch."""
    names = [STATION] if stations == 1 else [f"{STATION}-{k:03d}" for k in range(stations)]
    for name in names:
        storage.add_station(name, "bench", token_hash(new_token()), time.time())
    fleet = Fleet(storage, CentralSettings(), time.time)
    n = sum(len(evs) for _, evs in batches) * len(names)
    started, cpu = time.perf_counter(), time.process_time()
    for after, events in batches:
        for name in names:
            result = storage.ingest(name, after, events, None, time.time())
            if fold:
                whole = (after, events) if result.stored == len(events) else None
                fleet.ingested(name, None, whole)
    elapsed = time.perf_counter() - started
    CPU["ingest"] = time.process_time() - cpu
    return n / elapsed


def sqlite_bare_rate(path: Path, batches: list[tuple[int, list[IncomingEvent]]]) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(f"CREATE TABLE bare ({', '.join(EVENT_COLUMNS)})")
    sql = f"INSERT INTO bare VALUES ({', '.join('?' * len(EVENT_COLUMNS))})"
    n = sum(len(evs) for _, evs in batches)
    started = time.perf_counter()
    for _, events in batches:
        conn.execute("BEGIN")
        conn.executemany(sql, [row_tuple(STATION, e, 0.0) for e in events])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return n / elapsed


def pg_copy_rate(conninfo: str, batches: list[tuple[int, list[IncomingEvent]]]) -> float:
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE bare (station TEXT, seq BIGINT, id TEXT, type TEXT, ts FLOAT8,"
            " ts_corrected FLOAT8, time FLOAT8, time_source TEXT, mono FLOAT8, boot_id TEXT,"
            " clock_synced BOOLEAN, actor TEXT, locker TEXT, payload JSONB, received_at FLOAT8)"
        )
        n = sum(len(evs) for _, evs in batches)
        statement = f"COPY bare ({', '.join(EVENT_COLUMNS)}) FROM STDIN"
        started = time.perf_counter()
        for _, events in batches:
            with conn.transaction(), conn.cursor() as cur, cur.copy(statement) as copy:
                for e in events:
                    copy.write_row(row_tuple(STATION, e, 0.0))
        return n / (time.perf_counter() - started)


def pg_copy_schema_rate(conninfo: str, batches: list[tuple[int, list[IncomingEvent]]]) -> float:
    """COPY into central's own events table (same schema, every index), one transaction per
    batch: the fair floor for storage.ingest, which must also write what a bare COPY skips."""
    import psycopg

    from central.storage.postgres import PostgresStorage

    PostgresStorage(conninfo).close()  # the schema, every index included
    with psycopg.connect(conninfo, autocommit=True) as conn:
        n = sum(len(evs) for _, evs in batches)
        statement = f"COPY events ({', '.join(EVENT_COLUMNS)}) FROM STDIN"
        started = time.perf_counter()
        for _, events in batches:
            with conn.transaction(), conn.cursor() as cur, cur.copy(statement) as copy:
                for e in events:
                    copy.write_row(row_tuple(STATION, e, 0.0))
        return n / (time.perf_counter() - started)


def pg_index_costs(
    cluster: ThrowawayCluster, batches: list[tuple[int, list[IncomingEvent]]]
) -> dict[str, float]:
    """COPY of the same batches into a copy of the events table's columns and defaults with
    one of its indexes at a time: what each index costs a COPY, against the same table with
    none (which still draws `gid` from its sequence) and with all of them.

    The bare-table target (>= 0.45) is bounded by COPY into the same schema; this says which
    index takes how much of the difference."""
    import psycopg

    from central.storage.postgres import PostgresStorage

    conninfo = cluster.create_database("index_costs")
    PostgresStorage(conninfo).close()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'events'"
            " ORDER BY indexname"
        ).fetchall()
        n = sum(len(evs) for _, evs in batches)
        statement = f"COPY {{table}} ({', '.join(EVENT_COLUMNS)}) FROM STDIN"
        cases: list[tuple[str, list[str]]] = [("no index (gid from its sequence)", [])]
        cases += [(name, [definition]) for name, definition in indexes]
        cases.append(("every index", [d for _, d in indexes]))
        out: dict[str, float] = {}
        for number, (label, definitions) in enumerate(cases):
            table = f"events_case_{number}"
            conn.execute(f"CREATE TABLE {table} (LIKE events INCLUDING DEFAULTS)")
            for definition in definitions:
                name = definition.split(" INDEX ", 1)[1].split(" ON ", 1)[0]
                conn.execute(
                    definition.replace(f" {name} ON ", f" {name}_{number} ON ", 1).replace(
                        " public.events ", f" public.{table} ", 1
                    )
                )
            started = time.perf_counter()
            for _, events in batches:
                with (
                    conn.transaction(),
                    conn.cursor() as cur,
                    cur.copy(statement.format(table=table)) as copy,
                ):
                    for e in events:
                        copy.write_row(row_tuple(STATION, e, 0.0))
            out[label] = n / (time.perf_counter() - started)
            conn.execute(f"DROP TABLE {table}")
    return out


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>10,.0f} events/s  ({seconds:6.2f} s)"


def measure(
    events: int = 100_000,
    batch: int = SyncConfig().batch_max_events,
    postgres: bool = True,
    stations: int = 1,
    share: int = 10_000,
    say: Any = print,
    index_costs: bool = False,
) -> dict[str, float]:
    """Every figure of this benchmark, keyed by name (events/s); `say` hears the progress.

    With stations > 1, central ingest is measured again with that many stations each sending
    `share` events, to show how ingest grows with the fleet (10 -> 100 stations is 10x data)."""
    out: dict[str, float] = {}
    max_bytes = SyncConfig().batch_max_bytes
    tmp = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    cluster: ThrowawayCluster | None = None
    if postgres:
        try:
            cluster = ThrowawayCluster(durable=True).start()
        except ClusterUnavailable as exc:
            say(f"PostgreSQL skipped: {exc}")
    try:
        t = time.perf_counter()
        backlog = tmp / "station.db"
        store = make_backlog(backlog, events)
        say(f"backlog: {events:,} events written in {time.perf_counter() - t:.1f} s")
        bodies = batch_bodies(store, batch, max_bytes)
        gz = sum(len(b) for _, b in bodies)
        raw = sum(len(gzip.decompress(b)) for _, b in bodies)
        say(
            f"batches: {len(bodies)} of up to {batch} events; "
            f"{raw / 1e6:.1f} MB JSON, {gz / 1e6:.2f} MB gzipped"
        )
        store.close()

        backends: list[tuple[str, Any]] = [("SQLite", lambda: SQLiteStorage(tmp / "c.db"))]
        if cluster is not None:
            from central.storage.postgres import PostgresStorage

            backends.append(("PostgreSQL", lambda: PostgresStorage(cluster.create_database("c"))))
        say("\nstation -> central over HTTP (uvicorn on 127.0.0.1), same run:")
        for name, open_storage in backends:
            storage = open_storage()
            token = new_token()
            storage.add_station(STATION, "bench", token_hash(token), time.time())
            copy = tmp / f"station-{name}.db"
            copy.write_bytes(backlog.read_bytes())
            station = Store(copy, FakeClock(wall=time.time()), [SYNC_SCHEMA])
            with BackgroundServer(create_app(storage)) as server:
                seconds = asyncio.run(catch_up(station, server.url, token, batch))
            station.close()
            assert storage.count_events(STATION) == events
            out[f"catch_up_{name}"] = events / seconds
            out[f"catch_up_cpu_{name}"] = events / CPU["catch_up"]
            say(f"  sync catch-up, central on {name:<10} {rate(events, seconds)}")
            storage.close()
        with BackgroundServer(sink_app()) as sink:
            seconds = asyncio.run(plain_posts(sink.url, bodies))
        out["plain_post"] = events / seconds
        say(f"  plain HTTP POST of the same bodies  {rate(events, seconds)}")

        batches = decoded(bodies)
        say("\ncentral storage ingest alone (decoded batches, one transaction each):")
        out["ingest_SQLite"] = ingest_rate(SQLiteStorage(tmp / "ingest.db"), batches)
        out["ingest_cpu_SQLite"] = events / CPU["ingest"]
        say(f"  SQLite storage.ingest               {out['ingest_SQLite']:>10,.0f} events/s")
        out["ingest_fold_SQLite"] = ingest_rate(
            SQLiteStorage(tmp / "ingest-fold.db"), batches, fold=True
        )
        out["ingest_fold_cpu_SQLite"] = events / CPU["ingest"]
        say(f"  SQLite storage.ingest + the folds   {out['ingest_fold_SQLite']:>10,.0f} events/s")
        cu, ing, fold = (
            out["catch_up_cpu_SQLite"],
            out["ingest_cpu_SQLite"],
            out["ingest_fold_cpu_SQLite"],
        )
        say(
            "  per CPU second (this process, every thread; the machine's other load does not"
            f" count):\n    catch-up {cu:,.0f}, storage.ingest {ing:,.0f}, + the folds"
            f" {fold:,.0f} events/CPU-s: catch-up at {cu / ing:.2f} / {cu / fold:.2f} of them"
        )
        out["bare_SQLite"] = sqlite_bare_rate(tmp / "bare.db", batches)
        say(f"  SQLite plain executemany, bare table {out['bare_SQLite']:>9,.0f} events/s")
        if stations > 1:
            small = decoded(batch_bodies_of(backlog, min(share, events), batch, max_bytes))
            out["stations"] = float(stations)
            out["ingest_SQLite_fleet"] = ingest_rate(
                SQLiteStorage(tmp / "fleet.db"), small, stations
            )
            say(
                f"  SQLite storage.ingest, {stations} stations  "
                f"{out['ingest_SQLite_fleet']:>10,.0f} events/s"
            )
        if cluster is not None:
            from central.storage.postgres import PostgresStorage

            pg = PostgresStorage(cluster.create_database("ingest"))
            out["ingest_PostgreSQL"] = ingest_rate(pg, batches)
            pg.close()
            say(
                f"  PostgreSQL storage.ingest           {out['ingest_PostgreSQL']:>10,.0f} events/s"
            )
            out["copy_PostgreSQL"] = pg_copy_rate(cluster.create_database("bare"), batches)
            pg_copy = out["copy_PostgreSQL"]
            say(f"  PostgreSQL plain COPY, bare table   {pg_copy:>10,.0f} events/s")
            out["copy_schema_PostgreSQL"] = pg_copy_schema_rate(
                cluster.create_database("schema"), batches
            )
            say(
                "  PostgreSQL plain COPY, same schema  "
                f"{out['copy_schema_PostgreSQL']:>10,.0f} events/s"
            )
            if index_costs:
                say("  PostgreSQL COPY with one of the events table's indexes at a time:")
                for label, value in pg_index_costs(cluster, batches).items():
                    out[f"copy_index_PostgreSQL {label}"] = value
                    say(
                        f"    {label:<36} {value:>10,.0f} events/s,"
                        f" {value / pg_copy:.2f} of the bare COPY"
                    )
            if stations > 1:
                pg = PostgresStorage(cluster.create_database("fleet"))
                out["ingest_PostgreSQL_fleet"] = ingest_rate(pg, small, stations)
                pg.close()
                say(
                    f"  PostgreSQL storage.ingest, {stations} stations "
                    f"{out['ingest_PostgreSQL_fleet']:>10,.0f} events/s"
                )
    finally:
        if cluster is not None:
            cluster.stop()
    return out


def batch_bodies_of(backlog: Path, n: int, batch: int, max_bytes: int) -> list[tuple[int, bytes]]:
    """The bodies of the first n events of the backlog (one station's share of a fleet)."""
    store = Store(backlog, FakeClock(wall=time.time()), [SYNC_SCHEMA])
    try:
        bodies: list[tuple[int, bytes]] = []
        cursor = 0
        while cursor < n:
            rows = [
                tuple(r.values())
                for r in store.query(EVENT_SELECT, (cursor, min(batch, n - cursor)))
            ]
            if not rows:
                break
            b = encode_batch(STATION, cursor, rows, max_bytes, None)
            bodies.append((b.count, b.body))
            cursor = b.last_seq
        return bodies
    finally:
        store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=SyncConfig().batch_max_events)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument(
        "--stations", type=int, default=1, help="also ingest as this many stations at central"
    )
    parser.add_argument("--share", type=int, default=10_000, help="events per fleet station")
    parser.add_argument(
        "--index-costs",
        action="store_true",
        help="also COPY into the events table's columns with one of its indexes at a time",
    )
    args = parser.parse_args()
    measure(
        args.events,
        args.batch,
        not args.no_postgres,
        args.stations,
        args.share,
        index_costs=args.index_costs,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
