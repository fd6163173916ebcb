"""Door latency, three processes as on a station: the daemon, the board, the client.

The daemon is `station run` in a process of its own (started as systemd starts it, timed to
its READY=1); the lock board is the simulator (`python -m drivers.sim`) in another, on a pty
driven by the daemon's real pyserial driver, its answers taking their wire time at the
case's baud; this process is the client. Each opening waits a random part of the poll period
first (so openings land at random phases of the board's polling), POSTs the open, and notes:

- when the POST was sent: just before its bytes are written to the socket (a request built
  in advance on one keep-alive connection), so no client library's own work is in the
  figure (`--client httpx` times `httpx.AsyncClient.post` instead, as earlier runs did);
- when the simulator heard the unlock frame (its own clock: CLOCK_MONOTONIC is one clock for
  every process of the machine), and
- when the live stream (what the touchscreen sees) reported `door_opened`.

The software's own share of each figure is its time minus the wire time in it: the frames the
opening needs, and the rest of a status read that was already on the wire when the POST came
(a frame on the wire cannot be called back; a read still waiting for the bus goes after the
unlock). The pty carries the request bytes at once; the simulator adds each exchange's whole
wire time (request and answer) before its answer, so that is what is subtracted.

    python bench/door_latency.py [--opens 1000] [--poll-ms 100] [--case cu-ack ...]
        [--client raw|httpx]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import tomli_w
import websockets

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from drivers.lockboard import cu, dip8, modbus  # noqa: E402
from drivers.lockboard.spec import wire_time_s  # noqa: E402
from launcher.demo import demo_config  # noqa: E402

TOKEN = "staff-token-for-the-door-bench-01"
MODBUS_WRITE = 8  # slave, function, address, value, CRC; the echo is the same length
MODBUS_READ = 8
MODBUS_BITS_ANSWER = 5 + 2  # slave, function, byte count, 2 bytes of 16 inputs, CRC


@dataclass(frozen=True)
class Case:
    name: str
    protocol: str
    baud: int
    sim_args: tuple[str, ...]
    board: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    @property
    def status_bytes(self) -> int:
        """Request + answer of one status read: the wire time of a poll on this bus."""
        return {
            "cu": cu.COMMAND_LENGTH + cu.STATUS_ANSWER_LENGTH,
            "dip8": dip8.COMMAND_LENGTH + 4 + 2,
            "modbus": MODBUS_READ + MODBUS_BITS_ANSWER,
        }[self.protocol]

    @property
    def unlock_bytes(self) -> int:
        """Request + answer of the unlock itself (what is on the wire before it is done)."""
        if self.protocol == "cu":
            answer = self.board.get("unlock_answer", "ack")
            return (
                cu.COMMAND_LENGTH
                + {
                    "ack": cu.UNLOCK_ANSWER_LENGTH,
                    "status": cu.STATUS_ANSWER_LENGTH,
                    "none": 0,
                }[answer]
            )
        if self.protocol == "dip8":
            return dip8.COMMAND_LENGTH + dip8.UNLOCK_ANSWER_LENGTH
        return MODBUS_WRITE * 2

    @property
    def readback_bytes(self) -> int:
        """Everything on the wire from the POST to the reading that shows the door open."""
        if self.protocol == "cu" and self.board.get("unlock_answer") == "status":
            return self.unlock_bytes
        if self.protocol == "modbus":
            return self.unlock_bytes + self.status_bytes
        return self.unlock_bytes + self.status_bytes


CASES = [
    Case(
        "cu-ack",
        "cu",
        19200,
        ("--unlock-answer", "ack"),
        {"unlock_answer": "ack"},
        note="the common KR-CU16: acknowledges, then its doors are read",
    ),
    Case(
        "cu-status",
        "cu",
        19200,
        ("--unlock-answer", "status"),
        {"unlock_answer": "status"},
        note="the unlock's answer is the reading",
    ),
    Case(
        "cu-none",
        "cu",
        19200,
        ("--unlock-answer", "none"),
        {"unlock_answer": "none"},
        note="configured none: no wait at all",
    ),
    Case("dip8", "dip8", 9600, (), note="acknowledges; 9600 baud"),
    Case(
        "modbus-coil",
        "modbus",
        9600,
        (),
        {"address": 1, "modbus_unlock": "coil"},
        note="coil on, the door read during the pulse",
    ),
]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sim:
    """The simulator process, driven by its console (one command a line)."""

    def __init__(self, case: Case, link: Path, auto_close_s: float = 0.0) -> None:
        address = str(case.board.get("address", 0))
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "drivers.sim",
                "--protocol",
                case.protocol,
                "--boards",
                address,
                "--auto-close",
                str(auto_close_s),
                "--link",
                str(link),
                "--wire-baud",
                str(case.baud),
                *case.sim_args,
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        self.path = self.proc.stdout.readline().strip()

    def command(self, line: str) -> None:
        """Send one console line and wait for its `ok`."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        got = self.proc.stdout.readline()
        if got.strip() != "ok":
            raise RuntimeError(f"the simulator said {got!r} to {line!r}")

    def heard(self) -> list[tuple[float, str]]:
        """(monotonic time, command) of every command the board heard, in order."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("heard\necho-end\n")
        self.proc.stdin.flush()
        rows: list[tuple[float, str]] = []
        while True:
            got = self.proc.stdout.readline()
            if not got or got.startswith("unknown command 'echo-end'"):
                return rows
            at, _, what = got.strip().partition(" ")
            rows.append((float(at), what))

    def stop(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)


def station_config(tmp: Path, case: Case, sim_path: str, poll_ms: int, api_port: int) -> Path:
    data = demo_config(tmp)
    data["station"]["id"] = "BENCH-0001"
    data["api"]["port"] = api_port
    data["api"]["tokens"] = [{"name": "bench", "role": "staff", "token": TOKEN}]
    data.pop("occupancy", None)
    data.pop("reader", None)
    data["timeouts"].update({"poll_ms": poll_ms, "quiet_ms": 20})
    board = {
        "id": data["boards"][0]["id"],
        "protocol": case.protocol,
        "port": sim_path,
        "baud": case.baud,
        "address": 0,
        "channels": 16,
        **case.board,
    }
    data["boards"] = [board]
    for locker in data["lockers"]:
        locker["board"] = board["id"]
    if case.protocol == "modbus":
        data["boards"][0]["pulse_ms"] = 300
    path = tmp / "station.toml"
    path.write_text(tomli_w.dumps(data))
    return path


BARE_CHILD = """
import sqlite3, sys, time
import serial
import uvicorn
from fastapi import FastAPI
from drivers.lockboard import cu
port, path, db, audit = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4] == "audit"
ser = serial.Serial(path, 19200, timeout=0.05)
conn = sqlite3.connect(db, isolation_level=None)
for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
    conn.execute("PRAGMA " + pragma)
conn.execute("CREATE TABLE audit (seq INTEGER PRIMARY KEY, channel INTEGER, reason TEXT)")
commits = []
app = FastAPI()
@app.post("/open/{channel}")
async def open_door(channel: int):
    if audit:
        t = time.monotonic()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO audit (channel, reason) VALUES (?, 'bench')", (channel,))
        conn.execute("COMMIT")
        commits.append(time.monotonic() - t)
    ser.write(cu.encode_unlock(0, channel))
    return {"ok": True}
@app.get("/commits")
async def commit_times():
    return commits
uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
"""
"""The floor: a bare FastAPI + uvicorn process whose POST commits one audit row durably
(WAL, synchronous=FULL, as the station's store) and writes the unlock frame to the same
simulated board through pyserial, all on its event loop: the least any software that audits
an opening before its frame can do, with what this machine's scheduler, HTTP, fsync and a
pty cost at this load."""


def measure_floor(
    opens: int, poll_ms: int, seed: int = 21, client: str = "raw"
) -> dict[str, float]:
    """POST to unlock frame heard for the bare app, at the same random pacing; and what of it
    is the durable commit alone (timed inside the app) and what the same app costs with no
    audit at all (HTTP, the loop and the pty: the frame only)."""
    out: dict[str, float] = {}
    for variant in ("audit", "frame"):
        lags, commits = _bare_run(variant, opens, poll_ms, seed, client)
        key = "" if variant == "audit" else "frame_only_"
        out[f"{key}median"] = statistics.median(lags)
        out[f"{key}p99"] = pct(lags, 99)
        if commits:
            out["commit_median"] = statistics.median(commits)
            out["commit_p99"] = pct(commits, 99)
    return out


def _bare_run(
    variant: str, opens: int, poll_ms: int, seed: int, client: str
) -> tuple[list[float], list[float]]:
    with tempfile.TemporaryDirectory(prefix="bench-door-floor-") as tmp_name:
        sim = Sim(CASES[0], Path(tmp_name) / "board")
        port = free_port()
        db = str(Path(tmp_name) / "audit.db")
        proc = subprocess.Popen(
            [sys.executable, "-c", BARE_CHILD, str(port), sim.path, db, variant], cwd=ROOT
        )
        try:
            sent, commits = asyncio.run(
                post_bare(f"http://127.0.0.1:{port}", proc, opens, poll_ms, seed, client)
            )
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        heard = [at for at, what in sim.heard() if is_unlock(what)]
        sim.stop()
    lags = [(h - t0) * 1000 for t0, h in zip(sent, heard[-len(sent) :], strict=True)]
    return lags, [c * 1000 for c in commits]


async def post_bare(
    url: str, proc: subprocess.Popen[bytes], opens: int, poll_ms: int, seed: int, client: str
) -> tuple[list[float], list[float]]:
    rng = random.Random(seed)
    sent: list[float] = []
    async with httpx.AsyncClient(base_url=url, timeout=30) as c:
        while True:
            try:
                (await c.get("/docs")).raise_for_status()
                break
            except httpx.TransportError:
                if proc.poll() is not None:
                    raise RuntimeError("the bare app exited") from None
                await asyncio.sleep(0.02)
        async with poster(client, url, {}) as post:
            for n in range(opens):
                await asyncio.sleep(rng.uniform(0, poll_ms / 1000))
                sent.append(await post(f"/open/{n % 16 + 1}", None))
        commits = (await c.get("/commits")).json()
    return sent, commits


Post = Callable[[str, "dict[str, Any] | None"], Awaitable[float]]
CLIENTS = ("raw", "httpx")


@contextlib.asynccontextmanager
async def poster(client: str, url: str, headers: dict[str, str]) -> AsyncIterator[Post]:
    """A POST that returns when it was sent (monotonic seconds) and raises unless answered 2xx.

    `raw` (the default) writes a request built in advance on one keep-alive connection and
    takes the time just before the write: the moment the request leaves the client, so the
    figure holds nothing but the daemon, the loopback and the board. `httpx` takes the time
    before `AsyncClient.post`, so it also holds httpx's own work of building and sending the
    request (about 1.2 ms a request here): the figure a Python client library sees, kept to
    compare with earlier runs. Either client times the daemon and the floor alike."""
    if client == "httpx":
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as c:

            async def post_httpx(path: str, body: dict[str, Any] | None) -> float:
                t0 = time.monotonic()
                (await c.post(path, json=body)).raise_for_status()
                return t0

            yield post_httpx
        return
    host, _, port = url.removeprefix("http://").partition(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    fixed = "".join(f"{k}: {v}\r\n" for k, v in {"Host": host, **headers}.items())

    async def post_raw(path: str, body: dict[str, Any] | None) -> float:
        data = json.dumps(body).encode() if body is not None else b""
        request = (
            f"POST {path} HTTP/1.1\r\n{fixed}Content-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n"
        ).encode() + data
        t0 = time.monotonic()
        writer.write(request)
        await writer.drain()
        status, *lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        length = next(
            (
                int(v)
                for k, _, v in (h.partition(":") for h in lines)
                if k.lower() == "content-length"
            ),
            0,
        )
        answer = await reader.readexactly(length)
        if not status.split(" ")[1].startswith("2"):
            raise RuntimeError(f"POST {path}: {status}: {answer[:200]!r}")
        return t0

    try:
        yield post_raw
    finally:
        writer.close()
        await writer.wait_closed()


def start_daemon(
    config: Path, tmp: Path, profile: str | None = None
) -> tuple[subprocess.Popen[bytes], float]:
    """The daemon as systemd starts it; (process, seconds to READY=1). With `profile`, under
    `py-spy record` writing collapsed stacks (all threads, idle excluded) there."""
    wrap: list[str] = []
    if profile:
        wrap = ["py-spy", "record", "--format", "raw", "--rate", "500", "-o", profile, "--"]
    notify = str(tmp / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(notify)
        sock.settimeout(120)
        t = time.perf_counter()
        proc = subprocess.Popen(
            [*wrap, sys.executable, "-m", "launcher.main", "run", "--config", str(config)],
            env=dict(os.environ, NOTIFY_SOCKET=notify),
            cwd=ROOT,
            stderr=subprocess.DEVNULL,
        )
        while not sock.recv(256).decode().startswith("READY=1"):
            pass
        return proc, time.perf_counter() - t


async def stream_until(ws: Any, kind: str, locker: str) -> float:
    while True:
        msg = json.loads(await ws.recv())
        ev = msg.get("event") or {}
        if ev.get("type") == kind and ev.get("locker") == locker:
            return time.monotonic()


async def open_doors(
    url: str, sim: Sim, opens: int, poll_ms: int, seed: int, client: str
) -> list[tuple[float, float]]:
    """(POST sent, door_opened on the stream) per opening, in monotonic seconds."""
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    lockers = [f"A{i:02d}" for i in range(1, 17)]
    ws_url = url.replace("http://", "ws://") + f"/api/v1/stream?token={TOKEN}"
    out: list[tuple[float, float]] = []
    async with (
        poster(client, url, headers) as post,
        websockets.connect(ws_url, max_size=None) as ws,
    ):
        await ws.recv()
        for n in range(opens):
            locker = lockers[n % len(lockers)]
            await asyncio.sleep(rng.uniform(0, poll_ms / 1000))  # a random phase of the poll
            t0 = await post(f"/api/v1/lockers/{locker}/open", {"reason": "bench"})
            seen = await stream_until(ws, "door_opened", locker)
            out.append((t0, seen))
            await asyncio.to_thread(sim.command, f"close {int(locker[1:])}")
            await stream_until(ws, "door_closed", locker)
    return out


def on_wire_before(t0: float, until: float, reads: list[float], read_s: float) -> float:
    """How much of [t0, until] a status read already on the wire at t0 still held the bus."""
    busy = 0.0
    for at in reads:
        if at <= t0 < at + read_s:
            busy += min(at + read_s, until) - t0
    return busy


def measure(
    case: Case,
    opens: int,
    poll_ms: int,
    seed: int = 21,
    profile: str | None = None,
    client: str = "raw",
) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-door-") as tmp_name:
        tmp = Path(tmp_name)
        sim = Sim(case, tmp / "board")
        try:
            api_port = free_port()
            config = station_config(tmp, case, sim.path, poll_ms, api_port)
            proc, ready_s = start_daemon(config, tmp, profile)
            try:
                timings = asyncio.run(
                    open_doors(f"http://127.0.0.1:{api_port}", sim, opens, poll_ms, seed, client)
                )
            finally:
                proc.send_signal(signal.SIGINT if profile else signal.SIGTERM)
                proc.wait(timeout=60)
            heard = sim.heard()
        finally:
            sim.stop()
    unlocks = [at for at, what in heard if is_unlock(what)]
    reads = [at for at, what in heard if not is_unlock(what)]
    unlocks = unlocks[-len(timings) :]  # the start's reconcile sends no unlock; safety only
    read_s = wire_time_s(case.status_bytes, case.baud)
    command_s = wire_time_s(
        {"cu": cu.COMMAND_LENGTH, "dip8": dip8.COMMAND_LENGTH, "modbus": MODBUS_WRITE}[
            case.protocol
        ],
        case.baud,
    )
    to_frame: list[float] = []
    to_frame_raw: list[float] = []
    readback: list[float] = []
    readback_raw: list[float] = []
    behind_poll = 0
    behind_late_read = 0
    for (t0, seen), heard_at in zip(timings, unlocks, strict=True):
        # The pty passes the request at once (the simulator charges its wire time with the
        # answer), so the frame is "on the wire" when heard: nothing of its own to subtract.
        waited = on_wire_before(t0, heard_at, reads, read_s)
        behind_poll += waited > 0
        # A read that went on the wire after the POST was sent and before the unlock: begun
        # before the daemon had the request (the daemon holds back reads not yet started once
        # it has), or the daemon's own failure to; counted in the software's share.
        behind_late_read += any(t0 < at < heard_at for at in reads)
        to_frame_raw.append((heard_at - t0) * 1000)
        to_frame.append((heard_at - t0 - waited) * 1000)
        wire = wire_time_s(case.readback_bytes, case.baud)
        readback_raw.append((seen - t0) * 1000)
        readback.append((seen - t0 - waited - wire) * 1000)
    return {
        "ready_s": ready_s,
        "frame_median": statistics.median(to_frame),
        "frame_p99": pct(to_frame, 99),
        "frame_raw_median": statistics.median(to_frame_raw),
        "frame_raw_p99": pct(to_frame_raw, 99),
        "readback_median": statistics.median(readback),
        "readback_p99": pct(readback, 99),
        "readback_raw_median": statistics.median(readback_raw),
        "readback_raw_p99": pct(readback_raw, 99),
        "wire_ms": wire_time_s(case.readback_bytes, case.baud) * 1000,
        "command_ms": command_s * 1000,
        "behind_poll": behind_poll / len(timings),
        "behind_read_after_post": behind_late_read / len(timings),
        "opens": len(timings),
    }


def is_unlock(command: str) -> bool:
    """The simulator's `heard` names each command by its record type. A Modbus coil unlock is
    two writes, the coil on and, after the pulse, off: only the first opens the door."""
    if command.startswith("WriteSingle"):
        coil_off = f"function={modbus.FC_WRITE_COIL}," in command and command.endswith(
            f"value={modbus.COIL_OFF})"
        )
        return not coil_off
    return command.startswith("UnlockCommand")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--opens",
        type=int,
        default=1000,
        help="door openings per case (a p99 of 1 000 is the 10th slowest)",
    )
    ap.add_argument("--poll-ms", type=int, default=100)
    ap.add_argument("--case", action="append", choices=[c.name for c in CASES])
    ap.add_argument("--profile", metavar="FILE", help="py-spy the daemon (first case) into FILE")
    ap.add_argument(
        "--client",
        choices=CLIENTS,
        default="raw",
        help="raw: time a prebuilt request's write (default); httpx: time AsyncClient.post",
    )
    args = ap.parse_args()
    cases = [c for c in CASES if not args.case or c.name in args.case]
    floor = measure_floor(args.opens, args.poll_ms, client=args.client)
    print(
        f"floor: bare FastAPI + uvicorn POST committing an audit row and writing the frame, "
        f"POST to frame heard: median "
        f"{floor['median']:.1f} ms, p99 {floor['p99']:.1f} ms; of which the durable commit "
        f"alone {floor['commit_median']:.1f} / {floor['commit_p99']:.1f} ms; the same app "
        f"writing the frame with no audit {floor['frame_only_median']:.1f} / "
        f"{floor['frame_only_p99']:.1f} ms"
    )
    print(f"FLOOR {json.dumps(floor)}", flush=True)
    print(
        f"door latency: daemon, board simulator and client in 3 processes; {args.opens} opens "
        f"a case at random phases of a {args.poll_ms} ms poll. Software's own share (wire time "
        "subtracted), median / p99 ms"
    )
    print(
        f"{'case':12} {'baud':>6} {'POST->unlock frame':>19} {'raw':>13} "
        f"{'POST->door_opened':>18} {'raw':>13} {'wire':>6} {'behind poll':>11} "
        f"{'read after POST':>15}  note"
    )
    for n, case in enumerate(cases):
        r = measure(
            case,
            args.opens,
            args.poll_ms,
            profile=args.profile if n == 0 else None,
            client=args.client,
        )
        print(
            f"{case.name:12} {case.baud:>6} "
            f"{r['frame_median']:>9.1f} / {r['frame_p99']:>6.1f} "
            f"{r['frame_raw_median']:>5.1f} / {r['frame_raw_p99']:>5.1f} "
            f"{r['readback_median']:>8.1f} / {r['readback_p99']:>6.1f} "
            f"{r['readback_raw_median']:>5.1f} / {r['readback_raw_p99']:>5.1f} "
            f"{r['wire_ms']:>6.1f} {r['behind_poll']:>10.0%} "
            f"{r['behind_read_after_post']:>15.1%}  {case.note}"
        )
        print(f"FIGURES {case.name} {json.dumps(r)}", flush=True)


if __name__ == "__main__":
    main()
