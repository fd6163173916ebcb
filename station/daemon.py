"""The composition root: the one place that builds drivers and services from the config.

`Daemon.start()` opens the store, builds the boards, reconciles every door with what the boards
report, and serves the API; `Daemon.stop()` undoes it in reverse. Tests and the CLI use the same
class, so what the tests start is what runs on a Pi.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

import uvicorn
from fastapi import FastAPI

from station.alarms import AlarmService
from station.api.app import create_app
from station.clock import Clock, SystemClock
from station.config import StationConfig
from station.doors.boards import BoardSet, build_boards
from station.doors.lockers import LockerService
from station.live import LiveHub
from station.occupancy.assembly import build_occupancy
from station.occupancy.schema import OCCUPANCY_SCHEMA
from station.ops import systemd
from station.ops.disk_watch import DiskWatch
from station.ops.host_health import HostProbe
from station.ops.log_ring import LogRing
from station.people.card_desk import build_reader
from station.people.from_central import apply_people
from station.remote import settings as remote_settings
from station.remote.runner import RemoteCommands
from station.remote.schema import REMOTE_SCHEMA
from station.runtime import Station
from station.services.lending.from_central import tools_applier
from station.services.registry import SERVICE_SCHEMAS, build_services
from station.store import Store
from station.sync.service import SYNC_SCHEMA, SyncService
from station.telemetry.service import TelemetryService

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the daemon owns SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self):  # type: ignore[override]
        yield


class Daemon:
    def __init__(
        self,
        config: StationConfig,
        *,
        clock: Clock | None = None,
        pin_factory: Any = None,
        port: int | None = None,
    ) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self._pin_factory = pin_factory
        self._port = config.api.port if port is None else port
        self._closers: list[Callable[[], Awaitable[None]]] = []
        self._tasks: list[asyncio.Task[Any]] = []
        self._server: _Server | None = None
        self.station: Station | None = None
        self.boards: BoardSet | None = None
        self.app: FastAPI | None = None
        self.disk_watch: DiskWatch | None = None

    @property
    def url(self) -> str:
        return f"http://{self.config.api.bind}:{self.bound_port}"

    @property
    def bound_port(self) -> int:
        if self._server and self._server.servers:
            return self._server.servers[0].sockets[0].getsockname()[1]
        return self._port

    async def start(self) -> Station:
        data_dir = self.config.station.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        store = Store(
            data_dir / "station.db",
            self.clock,
            schemas=[*SERVICE_SCHEMAS, OCCUPANCY_SCHEMA, SYNC_SCHEMA, REMOTE_SCHEMA],
        )
        self._closers.append(_async(store.close))
        # The office's remote settings over the file's (checked by the same rules).
        self.config = cfg = remote_settings.with_stored(self.config, store)
        ring = LogRing()
        logging.getLogger().addHandler(ring)
        self._closers.append(_async(lambda: logging.getLogger().removeHandler(ring)))
        await store.write(lambda tx: _record_start(tx, cfg))
        self.boards = await build_boards(cfg, pin_factory=self._pin_factory)
        self._closers.append(self.boards.close)
        alarms = AlarmService(store)
        if store.behind is not None:
            behind = store.behind.message(store.path)
            log.error("%s", behind)
            await store.write(lambda tx: alarms.raise_alarm(tx, "database_behind", "store", behind))
        live = LiveHub(help_phone=cfg.station.help_phone)
        store.subscribe(live.publish_events)
        lockers = LockerService(cfg, store, alarms, self.boards.drivers, self.clock)
        await lockers.start()
        self._closers.append(lockers.stop)
        occupancy = build_occupancy(
            cfg.occupancy,
            store=store,
            clock=self.clock,
            alarms=alarms,
            pin_factory=self._pin_factory,
        )
        self._closers.append(occupancy.aclose)
        await occupancy.start()
        self._tasks.append(asyncio.create_task(occupancy.run(), name="occupancy"))
        occupancy.subscribe(
            lambda snap: live.publish({"kind": "occupancy", "occupancy": snap.to_dict()})
        )
        reader = build_reader(cfg.reader) if cfg.reader else None
        services = build_services(cfg, store, alarms, lockers, live, self.clock, reader=reader)
        await services.start()
        self._closers.append(services.stop)

        async def diagnostics(lines: int) -> dict[str, Any]:
            # The doctor is a tool (and talks HTTP): loaded when central asks for it.
            from station.ops.doctor import DoctorOptions, diagnose_config

            checks = await diagnose_config(cfg, DoctorOptions(daemon_url=self.url))
            return {"doctor": [asdict(c) for c in checks], "log": ring.lines(lines)}

        def apply_live(new: StationConfig) -> None:
            """The office's settings (apply_settings) into the running parts at once."""
            lockers.retime(new.timeouts)
            services.flows.retime(new.timeouts.open_window_s)
            services.lockout.reconfigure(new.people)
            services.members.retime(new.people)
            services.staff.retime(new.people)
            occupancy.retune(new.occupancy)
            telemetry.use_config(new)
            live.set_facts(help_phone=new.station.help_phone)

        remote = RemoteCommands(
            store,
            self.clock,
            cfg,
            lockers,
            services.members,
            services.staff,
            diagnostics=diagnostics,
            apply_live=apply_live,
        )
        await remote.recover()
        # Each sync batch carries a compact telemetry snapshot taken at send time, and the
        # telemetry reports sync's status: the callable closes the loop without a second phase.
        sync = SyncService(
            store,
            cfg.sync,
            cfg.station.id,
            self.clock,
            telemetry=lambda: telemetry.compact(),
            bundle_appliers=[apply_people, tools_applier(lockers)],
            alarms=alarms,
            commands=remote,
        )
        self._closers.append(sync.aclose)
        telemetry = TelemetryService(
            config=cfg,
            clock=self.clock,
            store=store,
            lockers=lockers,
            occupancy=occupancy,
            sync=sync,
        )
        self._closers.append(_async(telemetry.close))
        self._tasks.append(asyncio.create_task(sync.run(), name="sync"))
        self.disk_watch = DiskWatch(store, alarms, HostProbe(data_dir))
        self._tasks.append(asyncio.create_task(self.disk_watch.run(), name="disk-watch"))
        self.station = Station(
            config=cfg,
            clock=self.clock,
            store=store,
            alarms=alarms,
            lockers=lockers,
            live=live,
            services=services,
            occupancy=occupancy,
            sync=sync,
            telemetry=telemetry,
        )
        self.app = create_app(self.station)
        await self._serve_http(self.app)
        interval = systemd.watchdog_interval()
        if interval:
            self._tasks.append(asyncio.create_task(self._watchdog(interval), name="watchdog"))
        systemd.notify("READY=1\nSTATUS=serving")
        log.info("station %s ready on %s", cfg.station.id, self.url)
        return self.station

    async def _serve_http(self, app: FastAPI) -> None:
        cfg = uvicorn.Config(
            app,
            host=self.config.api.bind,
            port=self._port,
            log_level="warning",
            log_config=None,  # uvicorn's lines go through the root handler (journald priorities)
            lifespan="off",
            ws_ping_interval=20,
            # Longer than the touchscreen keeps an idle connection (ui/client.py): a server
            # that closes it first races the UI's next request, which then fails as if the
            # daemon had gone.
            timeout_keep_alive=15,
            # The live stream's events are small and go over loopback or the LAN to the
            # panel: compressing each one costs the loop more than the bytes it saves.
            ws_per_message_deflate=False,
        )
        self._server = _Server(cfg)
        task = asyncio.create_task(self._server.serve(), name="http")
        self._tasks.append(task)
        while not self._server.started:
            if task.done():
                task.result()
                raise RuntimeError("the API server stopped while starting")
            await asyncio.sleep(0.01)

    async def _watchdog(self, interval: float) -> None:
        """Ping systemd only while the event loop turns: a stuck loop gets the daemon restarted."""
        while True:
            systemd.notify("WATCHDOG=1")
            await asyncio.sleep(interval)

    async def stop(self) -> None:
        systemd.notify("STOPPING=1")
        if self.station is not None:
            with contextlib.suppress(Exception):
                await self.station.store.write(
                    lambda tx: tx.append("station_stopped", actor="system")
                )
        if self._server:
            self._server.should_exit = True
        for task in self._tasks:
            if task.get_name() != "http":
                task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, timeout=5)
        self._tasks.clear()
        while self._closers:
            closer = self._closers.pop()
            try:
                await closer()
            except Exception:
                log.exception("error while shutting down")


def _async(fn: Callable[[], None]) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        await asyncio.get_running_loop().run_in_executor(None, fn)

    return run


def _settle_heap() -> None:
    """Once started: collect the start's garbage, then freeze what is left out of the garbage
    collector's reach. The ~80 000 objects imports and start leave (modules, classes, the app)
    live as long as the daemon; a full collection walks them all (66 ms here), and one comes
    at a moment the collector picks, e.g. in the middle of a door opening. Frozen, the full
    collections that follow walk only what was made since. Here, not in Daemon.start: a test
    process that starts many daemons would freeze every one's objects for good."""
    gc.collect()
    gc.freeze()


def _record_start(tx: Any, cfg: StationConfig) -> None:
    tx.conn.execute(
        "INSERT INTO meta(key, value) VALUES ('station_id', ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (cfg.station.id,),
    )
    tx.append(
        "station_started",
        actor="system",
        payload={"boards": len(cfg.boards), "lockers": len(cfg.lockers)},
    )


async def run(config: StationConfig) -> int:
    """Run until SIGTERM or SIGINT, then shut down cleanly."""
    daemon = Daemon(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await daemon.start()
    except Exception:
        await daemon.stop()
        raise
    _settle_heap()
    await stop.wait()
    log.info("stopping")
    await daemon.stop()
    return 0
