"""Helpers for sync tests: a station-side kit, and a flaky proxy to put in front of central.

The flaky proxy is a small HTTP/1.1 proxy on its own asyncio loop and thread. Per request it
picks a fate: pass it on; drop the connection unanswered; answer 500 itself; pass it on and
then withhold the answer until the station times out (processed but unacknowledged); answer
200 with an HTML page (a captive portal); or first replay an old request to central. The
reliability suite adds: refuse the connection with a reset before reading it (central down);
pass it on and then reset the connection; pass it on and cut the answer short; answer 200 as
plain text or as JSON that is not an acknowledgement; pass it on and answer only after the
station's timeout (slow). `pattern`, if given, replaces the random draw with a fixed cycle of
fates (flapping), and `weights` may be replaced while the proxy runs (central going down and
coming back).
"""

from __future__ import annotations

import asyncio
import random
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from central.app import create_app
from central.auth import new_token, token_hash
from central.bundles import bundle_body
from central.server import BackgroundServer
from central.storage.base import EventQuery
from central.storage.sqlite import SQLiteStorage
from station.clock import FakeClock
from station.store import Store
from station.sync.config import SyncConfig
from station.sync.service import SyncService
from wire.bundle import parse_bundle

STATION = "S001"


class StepClock(FakeClock):
    """A FakeClock whose wall time can be stepped (as NTP steps a Pi's clock) and rebooted."""

    def step(self, seconds: float) -> None:
        self._wall += seconds

    def reboot(self, boot_id: str, wall: float, synced: bool) -> None:
        self.boot_id = boot_id
        self._wall = wall
        self._mono = 5.0
        self.is_synced = synced


@dataclass
class Central:
    url: str
    storage: SQLiteStorage
    token: str

    def events(self, station: str = STATION) -> list[dict[str, Any]]:
        return self.storage.events(EventQuery(station=station, limit=10_000_000))

    def publish(self, document: dict[str, Any]) -> int:
        body, digest = bundle_body(parse_bundle(document))
        return self.storage.publish_bundle(body, digest, [], time.time())

    def acked(self, station: str = STATION) -> int:
        record = self.storage.station(station)
        return record.acked_seq if record else -1


@contextmanager
def central_server(db: Path) -> Iterator[Central]:
    """A real central server on loopback with STATION registered (the `central` fixture)."""
    storage = SQLiteStorage(db)
    token = new_token()
    storage.add_station(STATION, "test station", token_hash(token), time.time())
    try:
        with BackgroundServer(create_app(storage)) as server:
            yield Central(server.url, storage, token)
    finally:
        storage.close()


def sync_config(url: str, token: str, **over: Any) -> SyncConfig:
    base: dict[str, Any] = {
        "url": url,
        "token": token,
        "interval_s": 0.05,
        "heartbeat_s": 0.05,
        "backoff_base_s": 0.01,
        "backoff_cap_s": 0.05,
        "timeout_s": 5.0,
        "connect_timeout_s": 2.0,
    }
    base.update(over)
    return SyncConfig(**base)


def service(store: Store, url: str, token: str, **over: Any) -> SyncService:
    telemetry = over.pop("telemetry", None)
    appliers = over.pop("bundle_appliers", ())
    return SyncService(
        store,
        sync_config(url, token, **over),
        STATION,
        store.clock,
        telemetry=telemetry,
        bundle_appliers=appliers,
        rng=random.Random(1),
    )


def fill(store: Store, n: int, kind: str = "door_opened") -> None:
    def write(tx: Any) -> None:
        for i in range(n):
            tx.append(kind, actor="member:42", locker="A01", payload={"i": i, "why": "借还"})

    store.write_now(write)


def station_log(store: Store) -> list[tuple[int, str]]:
    return [(r["seq"], r["id"]) for r in store.query("SELECT seq, id FROM events ORDER BY seq")]


# --- the flaky proxy ---------------------------------------------------------------------------

FATES = (
    "pass",
    "drop",
    "error500",
    "hang",
    "garbage",
    "replay",
    "refuse",
    "reset",
    "truncated",
    "wrongtype",
    "nonsense",
    "slow",
)
NONSENSE = (
    b"null",
    b"[]",
    b'{"ok":true}',
    b'{"station":"S001","acked_seq":"12"}',
    b'{"station":"S001","acked_seq":-1}',
    b'{"station":"S002","acked_seq":1}',
    b'{"station":"S001","acked_se',
    b"\xff\xfe\x00garbage",
)
"""200 answers with a JSON content type that are not an acknowledgement."""


@dataclass
class FlakyProxy:
    upstream: str
    weights: dict[str, float]
    hang_s: float = 1.5
    seed: int = 5
    counts: Counter[str] = field(default_factory=Counter)
    history: list[bytes] = field(default_factory=list)
    pattern: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        host, port = self.upstream.removeprefix("http://").split(":")
        self._up = (host, int(port))
        self._rng = random.Random(self.seed)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FlakyProxy:
        self._thread.start()
        assert self._ready.wait(10), "proxy did not start"
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout=10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._main())
        self._loop.close()

    async def _main(self) -> None:
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stopping.wait()
        server.close()
        handlers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)

    def _fate(self) -> str:
        if self.pattern:
            return self.pattern[sum(self.counts.values()) % len(self.pattern)]
        names = list(self.weights)
        return self._rng.choices(names, [self.weights[n] for n in names])[0]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if self.pattern or "refuse" in self.weights:
                fate = self._fate()
                if fate == "refuse":
                    self.counts[fate] += 1
                    _reset(writer)
                    return
            request = await _read_request(reader)
            if request is None:
                return
            fate = self._fate()
            self.counts[fate] += 1
            if fate == "drop":
                return
            if fate in ("wrongtype", "nonsense"):
                body = b"OK" if fate == "wrongtype" else self._rng.choice(NONSENSE)
                kind = b"text/plain" if fate == "wrongtype" else b"application/json"
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: "
                    + kind
                    + b"\r\n"
                    + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
                return
            if fate == "error500":
                body = b'{"detail":"proxy says 500"}'
                writer.write(
                    b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
                return
            if fate == "garbage":
                page = b"<html><body>Welcome to free WiFi</body></html>"
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                    + f"Content-Length: {len(page)}\r\nConnection: close\r\n\r\n".encode()
                    + page
                )
                await writer.drain()
                return
            if fate == "replay" and self.history:
                await self._forward(self._rng.choice(self.history))
            response = await self._forward(request)
            if request.startswith(b"POST"):
                self.history.append(request)
            if fate == "hang":
                await asyncio.sleep(self.hang_s)
                return
            if fate == "reset":
                _reset(writer)
                return
            if fate == "truncated":
                response = response[: max(1, len(response) - 20)]
            if fate == "slow":
                await asyncio.sleep(self.hang_s)
            writer.write(response)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _forward(self, request: bytes) -> bytes:
        r, w = await asyncio.open_connection(*self._up)
        try:
            w.write(request)
            await w.drain()
            return await r.read()
        finally:
            w.close()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (what a crashed server or a dropped NAT entry looks like)."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _read_request(reader: asyncio.StreamReader) -> bytes | None:
    """One HTTP/1.1 request, rewritten to close its connection after the answer."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    length = 0
    kept = [lines[0]]
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
        if name.strip().lower() == "connection":
            continue
        kept.append(line)
    kept.append("Connection: close")
    body = await reader.readexactly(length) if length else b""
    return ("\r\n".join(kept) + "\r\n\r\n").encode("latin-1") + body
