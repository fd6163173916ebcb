"""Run every benchmark once, at base size and (where the data grows) at 10x, and write results.md.

Each figure is measured beside its comparison in the same run (this machine is shared and noisy,
so ratios matter more than absolute values), and checked against what a Raspberry Pi station
needs: door overhead at most 20 ms, daemon at most 80 MB, sync catch-up at least 2 000 events/s,
central ingest on PostgreSQL at least 20 000 events/s. Sizes are reduced where the full run
would not fit in ten minutes; the command column says how to run each at full size.

    python bench/run_all.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import door_latency, footprint, sync, ui_taps, usage_log  # noqa: E402


@dataclass
class Row:
    figure: str
    value: str
    comparison: str
    ratio: str
    command: str
    verdict: str = ""


def door(opens: int) -> list[Row]:
    r = asyncio.run(door_latency.measure(opens, 9600, 100))
    wire = door_latency.wire_ms(9600)
    own = r["median"] - wire
    cmd = f"python bench/door_latency.py --opens {opens}"
    return [
        Row(
            f"door: API call to door_opened, {opens} opens (median / p99)",
            f"{r['median']:.1f} / {r['p99']:.1f} ms",
            f"wire time of the frames at 9600 baud {wire:.1f} ms",
            f"{r['median'] / wire:.1f}x",
            cmd,
        ),
        Row(
            "door: software's own share of the median (limit 20 ms)",
            f"{own:.1f} ms",
            "limit 20 ms",
            f"{own / 20:.2f} of limit",
            cmd,
            "pass" if own <= 20 else "FAIL",
        ),
    ]


def usage(loans: int, prefill: int) -> list[Row]:
    rows: list[Row] = []
    for scale in (1, 10):
        r = usage_log.measure(loans, prefill, scale)
        cmd = f"python bench/usage_log.py --loans {loans} --prefill {prefill} --scale {scale}"
        if scale == 1:
            rows.append(
                Row(
                    "usage log: loan steps/s via Store, real clock, empty log (target >= 0.8)",
                    f"{r['store']:,.0f}/s",
                    f"raw sqlite3 same rows, WAL+FULL, foreign keys on: {r['raw']:,.0f}/s",
                    f"{r['store'] / r['raw']:.2f}",
                    cmd,
                    "pass" if r["store"] / r["raw"] >= 0.8 else "FAIL",
                )
            )
        rows.append(
            Row(
                f"usage log: loan steps/s via Store, {r['prefilled']:,.0f} events in log (>= 0.8)",
                f"{r['store_full']:,.0f}/s",
                f"raw sqlite3: {r['raw_full']:,.0f}/s",
                f"{r['store_full'] / r['raw_full']:.2f}",
                cmd,
                "pass" if r["store_full"] / r["raw_full"] >= 0.8 else "FAIL",
            )
        )
    return rows


def syncing(events: int) -> list[Row]:
    rows: list[Row] = []
    for stations in (10, 100):
        r = sync.measure(events, stations=stations, share=events // 10, say=lambda *_: None)
        cmd = f"python bench/sync.py --events {events} --stations {stations} --share {events // 10}"
        if stations == 10:
            for name in ("SQLite", "PostgreSQL"):
                key = f"catch_up_{name}"
                if key not in r:
                    continue
                rows.append(
                    Row(
                        f"sync: catch-up of {events:,} events, central on {name} (min 2 000/s)",
                        f"{r[key]:,.0f} events/s",
                        f"plain HTTP POST of the same bodies {r['plain_post']:,.0f} events/s",
                        f"{r[key] / r['plain_post']:.3f}",
                        cmd,
                        "pass" if r[key] >= 2000 else "FAIL",
                    )
                )
            rows.append(
                Row(
                    "central ingest, SQLite, 1 station",
                    f"{r['ingest_SQLite']:,.0f} events/s",
                    f"executemany into a bare table {r['bare_SQLite']:,.0f} events/s",
                    f"{r['ingest_SQLite'] / r['bare_SQLite']:.2f}",
                    cmd,
                )
            )
            if "ingest_PostgreSQL" in r:
                pg = r["ingest_PostgreSQL"]
                rows.append(
                    Row(
                        "central ingest, PostgreSQL, 1 station (min 20 000/s)",
                        f"{pg:,.0f} events/s",
                        f"COPY into a bare table {r['copy_PostgreSQL']:,.0f} events/s",
                        f"{pg / r['copy_PostgreSQL']:.2f}",
                        cmd,
                        "pass" if pg >= 20_000 else "FAIL",
                    )
                )
        for name, floor in (("SQLite", "bare_SQLite"), ("PostgreSQL", "copy_PostgreSQL")):
            key = f"ingest_{name}_fleet"
            if key not in r:
                continue
            rows.append(
                Row(
                    f"central ingest, {name}, {stations} stations x {events // 10:,} events"
                    + (" (min 20 000/s)" if name == "PostgreSQL" else ""),
                    f"{r[key]:,.0f} events/s",
                    f"bare table, 1 station {r[floor]:,.0f} events/s",
                    f"{r[key] / r[floor]:.2f}",
                    cmd,
                    ("pass" if r[key] >= 20_000 else "FAIL") if name == "PostgreSQL" else "",
                )
            )
    return rows


def foot(ops: int) -> list[Row]:
    r = footprint.measure(ops)
    cmd = f"python bench/footprint.py --ops {ops}"
    rss = r["daemon_rss_ops"]
    return [
        Row(
            "daemon: start to READY=1 (systemd notify)",
            f"{r['daemon_ready_s']:.2f} s",
            f"bare `python -c pass` {r['bare_python_s']:.3f} s",
            f"{r['daemon_ready_s'] / r['bare_python_s']:.0f}x",
            cmd,
        ),
        Row(
            "daemon: RSS after start",
            f"{r['daemon_rss_start']:.1f} MB",
            "limit 80 MB",
            f"{r['daemon_rss_start'] / 80:.2f} of limit",
            cmd,
            "pass" if r["daemon_rss_start"] <= 80 else "FAIL",
        ),
        Row(
            f"daemon: RSS after {ops:,} API operations (1 in 10 a door opening)",
            f"{rss:.1f} MB",
            f"limit 80 MB; Pi Zero 2 W 512 MB ({rss / 512:.0%} of it)",
            f"{rss / 80:.2f} of limit",
            cmd,
            "pass" if rss <= 80 else "FAIL",
        ),
        Row(
            "UI: spawn to Home screen drawn (headless, against the daemon)",
            f"{r['ui_screen_s']:.2f} s",
            f"bare Textual app {r['bare_textual_s']:.2f} s",
            f"{r['ui_screen_s'] / r['bare_textual_s']:.1f}x",
            cmd,
        ),
        Row(
            "UI: RSS at Home screen",
            f"{r['ui_rss']:.1f} MB",
            f"bare Textual app {r['bare_textual_rss']:.1f} MB",
            f"{r['ui_rss'] / r['bare_textual_rss']:.1f}x",
            cmd,
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
        "| figure | value | comparison | ratio | pass/fail | command |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r.figure} | {r.value} | {r.comparison} | {r.ratio} | {r.verdict or '-'} "
            f"| `{r.command}` |"
        )
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes, to check the scripts run")
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("results.md"))
    args = ap.parse_args()
    q = args.quick
    started = time.perf_counter()
    rows: list[Row] = []
    steps = [
        ("door", lambda: door(20 if q else 200)),
        ("usage log", lambda: usage(60 if q else 300, 2_000 if q else 100_000)),
        ("sync", lambda: syncing(5_000 if q else 100_000)),
        ("footprint", lambda: foot(500 if q else 10_000)),
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
        f"One run of `python bench/run_all.py` on {platform.node() or 'this machine'} "
        f"({platform.machine()}, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}), {total:.0f} s in all. "
        "Each comparison is measured in the same run; the machine is shared, so read ratios "
        "before absolute values. pass/fail is against what a Raspberry Pi station needs "
        "(door overhead <= 20 ms, daemon <= 80 MB, sync catch-up >= 2 000 events/s, central "
        "ingest on PostgreSQL >= 20 000 events/s).\n\n" + table(rows) + "\n"
    )
    args.out.write_text(text)
    print(f"wrote {args.out} ({total:.0f} s)")
    return 1 if any(r.verdict == "FAIL" for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
