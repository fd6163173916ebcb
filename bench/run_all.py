"""Run every benchmark once, at base size and (where the data grows) at 10x, and write results.md.

Each figure is measured beside its floor in the same run (this machine is shared and noisy, so
ratios matter more than absolute values) and checked against its target (issue 21); the exit
status is 1 when any target fails. Sizes are reduced where the full run would take too long;
the command column says how to run each alone.

    python bench/run_all.py [--quick] [--scale-sizes 1000000,10000000]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import (  # noqa: E402
    central_scale,
    door_latency,
    footprint,
    sync,
    ui_taps,
    usage_log,
)


@dataclass
class Row:
    figure: str
    value: str
    comparison: str
    ratio: str
    command: str
    verdict: str = ""
    target: str = "-"


def check(ok: bool) -> str:
    return "pass" if ok else "FAIL"


def door(opens: int) -> list[Row]:
    case = door_latency.CASES[0]  # cu-ack: the commonest board, unlock acknowledged, then read
    floor = door_latency.measure_floor(opens, 100)
    r = door_latency.measure(case, opens, 100)
    cmd = f"python bench/door_latency.py --opens {opens} --case {case.name}"
    what = (
        f"{case.name}, {case.baud} baud, daemon/simulator/client in 3 processes, random phases, "
        f"{r['behind_poll']:.0%} behind a poll on the wire, "
        f"{r['behind_read_after_post']:.1%} behind a read begun after the POST"
    )
    bare = (
        f"bare FastAPI POST committing an audit row and writing the frame: "
        f"{floor['median']:.1f} / {floor['p99']:.1f} ms (its durable commit alone "
        f"{floor['commit_median']:.1f} / {floor['commit_p99']:.1f} ms; the bare app with no "
        f"audit {floor['frame_only_median']:.1f} / {floor['frame_only_p99']:.1f} ms)"
    )
    return [
        Row(
            f"door: POST written to unlock frame heard, software's share, {opens} opens (median)",
            f"{r['frame_median']:.1f} ms",
            bare,
            f"{r['frame_median'] / floor['median']:.2f}x floor; {r['frame_median'] / 5:.2f} of "
            "target",
            cmd,
            check(r["frame_median"] <= 5),
            "<= 5 ms",
        ),
        Row(
            f"door: POST written to unlock frame heard, software's share, {opens} opens (p99)",
            f"{r['frame_p99']:.1f} ms",
            bare,
            f"{r['frame_p99'] / floor['p99']:.2f}x floor; {r['frame_p99'] / 10:.2f} of target",
            cmd,
            check(r["frame_p99"] <= 10),
            "<= 10 ms",
        ),
        Row(
            f"door: POST written to door_opened on the live stream, software's share ({what}), "
            "median / p99",
            f"{r['readback_median']:.1f} / {r['readback_p99']:.1f} ms",
            f"wire time {r['wire_ms']:.1f} ms subtracted; {bare}",
            f"{r['readback_median'] / floor['median']:.2f}x floor median",
            cmd,
        ),
    ]


def usage(loans: int, prefill: int) -> list[Row]:
    rows: list[Row] = []
    for scale in (1, 10):
        r = usage_log.measure(loans, prefill, scale)
        cmd = f"python bench/usage_log.py --loans {loans} --prefill {prefill} --scale {scale}"
        how = f"median of {r['blocks']:.0f} paired rounds of {usage_log.BLOCK} steps"
        if scale == 1:
            rows.append(
                Row(
                    "usage log: loan steps/s via Store, real clock, empty log",
                    f"{r['store']:,.0f}/s",
                    f"raw sqlite3 same rows, WAL+FULL, foreign keys on: {r['raw']:,.0f}/s "
                    f"({1e6 / r['raw']:,.0f} us a step); {how}",
                    f"{r['ratio']:.2f}",
                    cmd,
                    check(r["ratio"] >= 0.8),
                    ">= 0.8",
                )
            )
        rows.append(
            Row(
                f"usage log: loan steps/s via Store, {r['prefilled']:,.0f} events in log",
                f"{r['store_full']:,.0f}/s",
                f"raw sqlite3: {r['raw_full']:,.0f}/s ({1e6 / r['raw_full']:,.0f} us a step); "
                f"{how}",
                f"{r['ratio_full']:.2f}",
                cmd,
                check(r["ratio_full"] >= 0.8),
                ">= 0.8",
            )
        )
    return rows


def syncing(events: int) -> list[Row]:
    rows: list[Row] = []
    r = sync.measure(events, stations=10, share=events // 10, say=lambda *_: None)
    cmd = f"python bench/sync.py --events {events} --stations 10 --share {events // 10}"
    ingest = r["ingest_SQLite"]
    for name in ("SQLite", "PostgreSQL"):
        key = f"catch_up_{name}"
        if key not in r:
            continue
        rows.append(
            Row(
                f"sync: catch-up of {events:,} events, central on {name}",
                f"{r[key]:,.0f} events/s",
                f"central's SQLite ingest alone, same batches {ingest:,.0f} events/s",
                f"{r[key] / ingest:.2f}",
                cmd,
                check(r[key] >= 30_000 and r[key] / ingest >= 0.5) if name == "SQLite" else "",
                ">= 30 000/s and >= 0.5" if name == "SQLite" else "-",
            )
        )
    if "catch_up_cpu_SQLite" in r:
        cu, alone = r["catch_up_cpu_SQLite"], r["ingest_cpu_SQLite"]
        rows.append(
            Row(
                "sync: catch-up, central on SQLite, per CPU second of the process (station, "
                "HTTP and central in one process; what the machine's other load takes does "
                "not count)",
                f"{cu:,.0f} events/CPU-s",
                f"storage.ingest alone {alone:,.0f} events/CPU-s; with the folds "
                f"{r['ingest_fold_cpu_SQLite']:,.0f}",
                f"{cu / alone:.2f} / {cu / r['ingest_fold_cpu_SQLite']:.2f}",
                cmd,
            )
        )
    if "ingest_fold_SQLite" in r:
        folded = r["ingest_fold_SQLite"]
        rows.append(
            Row(
                "sync: catch-up, central on SQLite, against all of central's storing "
                "(ingest + the fleet's history and report folds the route runs per batch)",
                f"{r['catch_up_SQLite']:,.0f} events/s",
                f"storage.ingest + Fleet.ingested alone, same batches {folded:,.0f} events/s",
                f"{r['catch_up_SQLite'] / folded:.2f}",
                cmd,
            )
        )
    rows.append(
        Row(
            "central ingest, SQLite, 1 station",
            f"{ingest:,.0f} events/s",
            f"executemany into a bare table {r['bare_SQLite']:,.0f} events/s",
            f"{ingest / r['bare_SQLite']:.2f}",
            cmd,
        )
    )
    if "ingest_PostgreSQL" in r:
        pg, schema, bare = r["ingest_PostgreSQL"], r["copy_schema_PostgreSQL"], r["copy_PostgreSQL"]
        rows += [
            Row(
                "central ingest, PostgreSQL, 1 station, against the same schema",
                f"{pg:,.0f} events/s",
                f"COPY into the same schema and indexes {schema:,.0f} events/s",
                f"{pg / schema:.2f}",
                cmd,
                check(pg / schema >= 0.6),
                ">= 0.6",
            ),
            Row(
                "central ingest, PostgreSQL, 1 station, against a bare table",
                f"{pg:,.0f} events/s",
                f"COPY into a bare table {bare:,.0f} events/s",
                f"{pg / bare:.2f}",
                cmd,
                check(pg / bare >= 0.45),
                ">= 0.45",
            ),
        ]
    for name, floor in (("SQLite", "bare_SQLite"), ("PostgreSQL", "copy_PostgreSQL")):
        key = f"ingest_{name}_fleet"
        if key in r:
            rows.append(
                Row(
                    f"central ingest, {name}, 10 stations x {events // 10:,} events",
                    f"{r[key]:,.0f} events/s",
                    f"bare table, 1 station {r[floor]:,.0f} events/s",
                    f"{r[key] / r[floor]:.2f}",
                    cmd,
                )
            )
    return rows


def scale(sizes: list[int]) -> list[Row]:
    r = central_scale.measure(sizes, say=lambda *_: None)
    small, big = min(sizes), max(sizes)
    cmd = f"python bench/central_scale.py --sizes {small},{big}"
    rows = []
    for backend, by in r.items():
        for key, value in by[big].items():
            if key in ("load_rate", "db_bytes"):
                continue
            low = by[small][key]
            ratio = low / value if key == "ingest" else value / low
            unit = "events/s" if key == "ingest" else "ms"
            first = key.endswith(" first")  # a pick's first run: the cache's share, no target
            name = f"{key.removesuffix(' first')} (first touch)" if first else key
            rows.append(
                Row(
                    f"central at scale, {backend}: {name} at {big:,} events, 100 stations",
                    f"{value:,.1f} {unit}",
                    f"the same at {small:,} events: {low:,.1f} {unit}",
                    f"{ratio:.2f}x",
                    cmd,
                    "-" if first else check(ratio <= 2),
                    "-" if first else "<= 2x",
                )
            )
    return rows


def foot(ops: int, starts: int = 5) -> list[Row]:
    r = footprint.measure(ops, starts)
    cmd = f"python bench/footprint.py --ops {ops} --starts {starts}"
    rss = r["daemon_rss_ops"]
    ready = r["daemon_ready_ratio"]  # the median of each start's ratio to the floor beside it
    ui_start = r["ui_screen_ratio"]
    return [
        Row(
            f"daemon: restart (database there, as at every boot) to READY=1 (systemd notify), "
            f"median of {starts}",
            f"{r['daemon_ready_s']:.2f} s",
            f"bare FastAPI + uvicorn, spawn to first answer {r['bare_api_s']:.2f} s",
            f"{ready:.2f}x",
            cmd,
            check(ready <= 1.5),
            "<= 1.5x",
        ),
        Row(
            f"daemon: restart to READY=1, CPU seconds of its process by then (what the "
            f"machine's other load hardly moves), median of {starts}",
            f"{r['daemon_ready_cpu_s']:.2f} CPU-s",
            f"bare FastAPI + uvicorn to first answer {r['bare_api_cpu_s']:.2f} CPU-s",
            f"{r['daemon_ready_cpu_ratio']:.2f}x",
            cmd,
        ),
        Row(
            f"daemon: restart to READY=1 against FastAPI + uvicorn with the daemon's API shape "
            f"({r['api_routes']:.0f} routes, {r['api_bodies']:.0f} request bodies, "
            f"{r['api_responses']:.0f} response models; synthetic models), median of {starts}",
            f"{r['daemon_ready_s']:.2f} s",
            f"that app, spawn to first answer {r['shaped_api_s']:.2f} s "
            f"({r['shaped_api_s'] / r['bare_api_s']:.2f}x the bare app, "
            f"{r['shaped_api_rss']:.1f} MB)",
            f"{r['daemon_ready_shaped_ratio']:.2f}x",
            cmd,
        ),
        Row(
            "daemon: first start (creating the database) to READY=1",
            f"{r['daemon_first_ready_s']:.2f} s",
            f"bare FastAPI + uvicorn, spawn to first answer {r['bare_api_s']:.2f} s",
            f"{r['daemon_first_ready_s'] / r['bare_api_s']:.2f}x",
            cmd,
        ),
        Row(
            "daemon: RSS after start",
            f"{r['daemon_rss_start']:.1f} MB",
            f"bare FastAPI + uvicorn {r['bare_api_rss']:.1f} MB",
            f"{r['daemon_rss_start'] / r['bare_api_rss']:.2f}x",
            cmd,
        ),
        Row(
            f"daemon: RSS after {ops:,} API operations (1 in 10 a door opening)",
            f"{rss:.1f} MB",
            f"bare FastAPI + uvicorn {r['bare_api_rss']:.1f} MB; Pi Zero 2 W 512 MB",
            f"{rss / 55:.2f} of target",
            cmd,
            check(rss <= 55),
            "<= 55 MB",
        ),
        Row(
            f"UI: spawn to Home screen drawn (the UI process alone, loading what `station ui` "
            f"loads, against the daemon), median of {starts}",
            f"{r['ui_screen_s']:.2f} s",
            f"bare Textual app {r['bare_textual_s']:.2f} s",
            f"{ui_start:.2f}x",
            cmd,
            check(ui_start <= 2),
            "<= 2x",
        ),
        Row(
            "UI: RSS at Home screen",
            f"{r['ui_rss']:.1f} MB",
            f"bare Textual app {r['bare_textual_rss']:.1f} MB",
            f"{r['ui_rss'] / 45:.2f} of target",
            cmd,
            check(r["ui_rss"] <= 45),
            "<= 45 MB",
        ),
    ]


def taps(rounds: int) -> list[Row]:
    r = ui_taps.measure(rounds)
    return [
        Row(
            f"UI: tap to next screen drawn, {r['taps']} taps (median / p95)",
            f"{r['median']:.0f} / {r['p95']:.0f} ms",
            f"bare Textual switch via Pilot.click {r['bare_median']:.0f} / {r['bare_p95']:.0f} ms",
            f"{r['median'] / r['bare_median']:.2f}",
            f"python bench/ui_taps.py --rounds {rounds}",
        )
    ]


def table(rows: list[Row]) -> str:
    out = [
        "| figure | value | floor (same run) | ratio | target | pass/fail | command |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r.figure} | {r.value} | {r.comparison} | {r.ratio} | {r.target} "
            f"| {r.verdict or '-'} | `{r.command}` |"
        )
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes, to check the scripts run")
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("results.md"))
    ap.add_argument(
        "--scale-sizes",
        type=lambda v: [int(x) for x in v.split(",")],
        default=[1_000_000, 10_000_000],
        help="event counts for bench/central_scale.py (the full run takes about an hour here)",
    )
    args = ap.parse_args()
    q = args.quick
    started = time.perf_counter()
    rows: list[Row] = []
    steps = [
        ("door", lambda: door(20 if q else 1000)),  # a p99 of 200 is the 3rd slowest
        ("usage log", lambda: usage(60 if q else 300, 2_000 if q else 100_000)),
        ("sync", lambda: syncing(5_000 if q else 100_000)),
        ("scale", lambda: scale([20_000, 200_000] if q else args.scale_sizes)),
        ("footprint", lambda: foot(500 if q else 10_000, 2 if q else 5)),
        ("ui taps", lambda: taps(2 if q else 20)),
    ]
    for name, step in steps:
        t = time.perf_counter()
        got = step()
        rows.extend(got)
        print(f"{name}: {time.perf_counter() - t:.1f} s", flush=True)
        for r in got:
            print(f"  {r.figure}: {r.value} | {r.comparison} | {r.ratio} {r.verdict}", flush=True)
    total = time.perf_counter() - started
    text = (
        "# Benchmark results\n\n"
        f"One run of `python bench/run_all.py{' --quick' if q else ''}` on "
        f"{platform.node() or 'this machine'} "
        f"({platform.machine()}, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}), {total:.0f} s in all. "
        "Each floor is measured in the same run; the machine is shared, so read ratios "
        "before absolute values. Targets are issue 21's; docs/benchmarks.md says why each "
        "floor is the fair one."
        + (
            " --quick runs tiny sizes to check the scripts: its figures are not the targets' "
            "measure."
            if q
            else ""
        )
        + f" Machine load average at the end: {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores.\n\n" + table(rows) + "\n"
    )
    args.out.write_text(text)
    print(f"wrote {args.out} ({total:.0f} s)")
    return 1 if any(r.verdict == "FAIL" for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
