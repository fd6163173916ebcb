"""`station ui`: the touchscreen app, a client of the daemon's API and live stream.

The app owns what outlives a screen: the API client and live stream, what the station looks
like now (LiveState), who is identified (a member or staff session), the language, and the
idle timers. Screens own one step each. The app never touches hardware or the database, so it
can crash, restart, or be served to a browser (`--web`) without a door being touched twice.
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from textual.app import App

from ui.client import ApiError, DaemonUnreachable, LiveStream, StationClient
from ui.i18n import Translator
from ui.messages import FlowUpdate, LiveEvent, LockersChanged, OccupancyChanged
from ui.settings import UiConfig
from ui.state import LiveState
from ui.voice import Player, SilentPlayer, Voice

if TYPE_CHECKING:
    from station.config import StationConfig
    from ui.settings import KioskConfig

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class MemberSession:
    """A resident or courier who identified with phone and PIN; forgotten on idle."""

    token: str
    member: dict[str, Any]

    @property
    def masked(self) -> str:
        return str(self.member.get("masked", ""))


@dataclass
class StaffSession:
    token: str
    staff_no: str
    name: str


@dataclass(frozen=True)
class StationInfo:
    """What the UI shows about its own station (from the shared config file)."""

    name_zh: str
    name_en: str
    help_phone: str
    locker_ids: tuple[str, ...] = field(default_factory=tuple)
    """The config's lockers in order: the order of the maintenance door grid."""
    has_reader: bool = False
    """The station has a card reader ([reader]): the identify screens also wait for a card."""


class StationApp(App[None]):
    CSS_PATH = "theme.tcss"
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [
        (0, "-tiny"),
        (16, "-short"),
        (24, "-tall"),
    ]
    """Screen classes by rows: -tiny is the 7 inch panel's 13 rows, -short the 10 inch's 18;
    theme.tcss collapses what is not essential there instead of pushing buttons off."""
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (80, "-wide")]

    def action_help_quit(self) -> None:
        """Ctrl-C quits, as a person at a terminal (the demo) expects. Textual's own answer is
        an English hint to press ctrl+q; the kiosk has no keyboard and its unit restarts the UI."""
        self.exit()

    def __init__(
        self,
        client: StationClient,
        stream: LiveStream,
        ui: UiConfig,
        info: StationInfo,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        idle_check_s: float = 0.5,
        player: Player | None = None,
    ) -> None:
        super().__init__()
        self.wall = wall
        """Wall-clock time, only to pick the notices that apply now."""
        self.client = client
        self.stream = stream
        self.ui = ui
        self.info = info
        self.i18n = Translator(ui.language, ui.timezone)
        self.voice = Voice(player or SilentPlayer("no player given"), self.i18n)
        """Spoken prompts and key clicks (ui/voice); silent unless a player is given."""
        self.live = LiveState()
        self.member: MemberSession | None = None
        self.staff: StaffSession | None = None
        self.connected = False
        self._monotonic = monotonic
        self._last_touch = monotonic()
        self._idle_check_s = idle_check_s
        self._refreshing = False
        self._daemon_run: object = None
        """The `daemon` id of the stream's last snapshot: a new one means the daemon restarted."""

    # --- life ---------------------------------------------------------------------------------

    def on_mount(self) -> None:
        """The app starts on "the station is restarting" until the daemon answers; Home is
        built then (`go_home`), not under it now: a Home built at start was styled again when
        the restarting screen left it, and composed while nothing could be shown yet."""
        from ui.screens.restarting import RestartingScreen

        self.title = self.i18n.t("app.title")
        self.push_screen(RestartingScreen())
        self.run_worker(self.stream.run(self._stream_message, self._stream_state), group="stream")
        self.set_interval(self._idle_check_s, self._check_idle)

    async def on_unmount(self) -> None:
        self.voice.close()
        await self.client.aclose()

    @property
    def showing(self) -> bool:
        """Whether there is a screen to show news on. While the app shuts down its screens are
        closed before its workers are cancelled: a stream callback or an API worker finishing
        in that gap must do nothing rather than fail on an empty screen stack."""
        return self.is_running and bool(self.screen_stack)

    def now(self) -> float:
        """The app's monotonic clock (the idle timers' and the door reminders')."""
        return self._monotonic()

    @property
    def tick_s(self) -> float:
        """How often timers that read `now()` look at it."""
        return self._idle_check_s

    # --- the live stream ----------------------------------------------------------------------

    def _stream_message(self, message: dict[str, Any]) -> None:
        if not self.showing:
            return
        event = self.live.apply(message)
        kind = message.get("kind")
        if kind == "snapshot":
            run = message.get("daemon")
            if self._daemon_run is not None and run != self._daemon_run:
                # The stream came back from a daemon that restarted in between: every
                # session it held is gone, so start again as after any restart.
                self.daemon_lost()
            self._daemon_run = run
            self._station_facts(message.get("station"))
            self._tell(LockersChanged())
        elif kind == "station":
            self._station_facts(message)
        elif kind == "flow" and isinstance(message.get("flow"), dict):
            self._tell(FlowUpdate(message["flow"]))
        elif kind == "occupancy" and self.live.occupancy is not None:
            self._tell(OccupancyChanged(self.live.occupancy))
        if event is not None:
            self._tell(LiveEvent(event))
        if self.live.stale and not self._refreshing:
            self._refreshing = True
            self.run_worker(self._refresh_lockers(), group="lockers")

    def _station_facts(self, facts: Any) -> None:
        """The help phone as the daemon has it now (the office may change it remotely)."""
        phone = facts.get("help_phone") if isinstance(facts, dict) else None
        if isinstance(phone, str) and phone != self.info.help_phone:
            self.info = replace(self.info, help_phone=phone)

    def _tell(self, message: LiveEvent | LockersChanged | FlowUpdate | OccupancyChanged) -> None:
        """Live news goes to the screen on top; screens below catch up when resumed. Under the
        idle prompt, the screen it covers keeps following its door."""
        from ui.screens.still_there import StillThereScreen

        if not self.showing:
            return
        self.screen.post_message(message)
        if isinstance(self.screen, StillThereScreen) and len(self.screen_stack) > 1:
            self.screen_stack[-2].post_message(message)

    async def _refresh_lockers(self) -> None:
        """Read the locker list until no event asked for a newer one while it was read."""
        try:
            while self.live.stale:
                self.live.stale = False
                try:
                    lockers = await self.client.lockers()
                except (DaemonUnreachable, ApiError) as exc:
                    log.info("could not re-read lockers: %s", exc)
                    return
                self.live.load_lockers(lockers)
                self._tell(LockersChanged())
        finally:
            self._refreshing = False

    def _stream_state(self, up: bool) -> None:
        from ui.screens.restarting import RestartingScreen

        self.connected = up
        if not self.showing:
            return
        if not up and not isinstance(self.screen, RestartingScreen):
            self.daemon_lost()
        elif up and isinstance(self.screen, RestartingScreen):
            self.screen.check_now()

    def daemon_lost(self) -> None:
        """Show "the station is restarting" until the daemon answers again."""
        from ui.screens.restarting import RestartingScreen

        self.member = None
        self.staff = None
        if self.showing and not isinstance(self.screen, RestartingScreen):
            self.push_screen(RestartingScreen())

    def recovered(self) -> None:
        """The daemon is back: start again from Home, forgetting any half-done flow."""
        self.go_home(reset_language=False)

    # --- API calls from screens ---------------------------------------------------------------

    async def api(self, call: Awaitable[T]) -> T:
        """Await one API call; an unreachable daemon switches to the restarting screen.

        `DaemonUnreachable` is re-raised after that so the calling worker stops; screens
        handle `ApiError` (refusals) themselves.
        """
        try:
            return await call
        except DaemonUnreachable as exc:
            log.warning("daemon unreachable: %s", exc)
            self.daemon_lost()
            raise

    def show_refusal(self, exc: ApiError, on_retry: Callable[[], None] | None = None) -> None:
        """A refusal from the daemon as a full-screen error in plain words."""
        from ui.screens.errors import ErrorScreen, refusal

        if exc.status == 401 and self.staff is not None:
            self.staff = None
        self.push_screen(ErrorScreen(refusal(exc, self.info.help_phone), on_retry=on_retry))

    # --- who is at the screen -----------------------------------------------------------------

    def forget_member(self) -> None:
        session, self.member = self.member, None
        if session is not None:
            self.run_worker(self._logout_member(session.token), group="logout")

    async def _logout_member(self, token: str) -> None:
        try:
            await self.client.request(
                "POST", "/api/v1/members/logout", headers={"X-Member-Session": token}
            )
        except (DaemonUnreachable, ApiError) as exc:
            log.info("member logout not confirmed: %s", exc)

    def forget_staff(self) -> None:
        session, self.staff = self.staff, None
        if session is not None:
            self.run_worker(self._logout_staff(session.token), group="logout")

    async def _logout_staff(self, token: str) -> None:
        try:
            await self.client.request("POST", "/api/v1/staff/logout", token=token)
        except (DaemonUnreachable, ApiError) as exc:
            log.info("staff logout not confirmed: %s", exc)

    # --- navigation, language, idle -----------------------------------------------------------

    def go_home(self, *, reset_language: bool = False) -> None:
        """Back to Home, forgetting who was identified (member and staff)."""
        from ui.screens.home import HomeScreen

        self.forget_member()
        self.forget_staff()
        self.voice.hush()
        if reset_language and self.i18n.language != self.ui.language:
            self.i18n.language = self.ui.language
            self._retranslate_all()
        if not self.showing:
            return
        if not any(isinstance(s, HomeScreen) for s in self.screen_stack):
            # The first time (at start): Home takes the place of the screen above Textual's
            # own default one, so nothing below it is shown again on the way.
            while len(self.screen_stack) > 2:
                self.pop_screen()
            if len(self.screen_stack) == 2:
                self.switch_screen(HomeScreen())
            else:
                self.push_screen(HomeScreen())
            return
        while not isinstance(self.screen, HomeScreen):
            self.pop_screen()

    def toggle_language(self) -> None:
        self.i18n.toggle()
        self._retranslate_all()

    def _retranslate_all(self) -> None:
        from ui.screens.base import KioskScreen

        for screen in self.screen_stack:
            if isinstance(screen, KioskScreen):
                screen.retranslate()

    def touched(self) -> None:
        """Any tap on any screen: restarts the idle timers."""
        self._last_touch = self._monotonic()

    def idle_for(self) -> float:
        return self._monotonic() - self._last_touch

    def _check_idle(self) -> None:
        """After the idle time, ask whether more time is needed (15 s); then Home, never away
        from an open door or a running door flow (the person is busy at the locker)."""
        from ui.screens.home import HomeScreen
        from ui.screens.restarting import RestartingScreen
        from ui.screens.still_there import PROMPT_S, StillThereScreen

        if not self.showing or isinstance(self.screen, RestartingScreen):
            return  # closing down (no screen left), or waiting for the daemon
        idle = self.idle_for()
        timeout = self.ui.staff_idle_timeout_s if self.staff is not None else self.ui.idle_timeout_s
        at_home = isinstance(self.screen, HomeScreen) and self.member is None
        if at_home and self.staff is None:
            if idle >= timeout and self.i18n.language != self.ui.language:
                self.go_home(reset_language=True)
            return
        if idle < timeout:
            if isinstance(self.screen, StillThereScreen):
                self.screen.dismiss()  # the idle time began again (a receipt appeared)
            return
        prompt = self.screen if isinstance(self.screen, StillThereScreen) else None
        if prompt is None:
            prompt = StillThereScreen(PROMPT_S)
            self.push_screen(prompt)
        if idle < timeout + PROMPT_S:
            if prompt.is_mounted:
                prompt.show_left(timeout + PROMPT_S - idle)
            return
        if self._person_busy():
            prompt.dismiss()
            self.touched()
            return
        self.go_home(reset_language=True)

    def _person_busy(self) -> bool:
        """A screen below the prompt follows an open door or a door flow still running."""
        from ui.screens.base import KioskScreen

        return any(
            isinstance(s, KioskScreen) and s.holds_person() for s in self.screen_stack
        ) or any(lk.get("door") == "open" for lk in self._my_doors())

    def _my_doors(self) -> list[dict[str, Any]]:
        from ui.screens.door import FlowScreen

        lockers = {s.locker for s in self.screen_stack if isinstance(s, FlowScreen)}
        return [self.live.lockers[lid] for lid in lockers if lid in self.live.lockers]

    def on_event(self, event: Any) -> Awaitable[None]:
        from textual import events

        if isinstance(event, events.MouseDown | events.Key):
            self.touched()
        return super().on_event(event)


def build_app(config: StationConfig | KioskConfig, *, silent: bool = False) -> StationApp:
    """The app exactly as `station ui` runs it, for the station this config describes;
    `silent` leaves the voice out (the web mode's tabs, see `web_server`)."""
    from ui.settings import connection_of
    from ui.voice import open_player

    conn = connection_of(config)
    info = StationInfo(
        name_zh=config.station.name,
        name_en=config.station.name_en,
        help_phone=config.station.help_phone,
        locker_ids=tuple(lk.id for lk in config.lockers),
        has_reader=config.reader is not None,
    )
    return StationApp(
        StationClient(conn.base_url, conn.token),
        LiveStream(conn.base_url, conn.token, reconnect_max_s=config.ui.reconnect_max_s),
        config.ui,
        info,
        player=SilentPlayer("--silent") if silent else open_player(config.ui),
    )


class MissingExtra(RuntimeError):
    """A feature whose optional dependencies are not installed; the message says how to add them."""


def web_server(config_path: str, ui: UiConfig) -> Any:
    """The textual-serve server for `--web`: every browser tab runs `python -m ui` itself.

    textual-serve is the `[web]` extra: a station's kiosk runs the terminal UI and never needs
    it, so the base install leaves it out. The tabs' apps are `--silent`: a prompt would come
    out of this machine's speaker, not the browser's, once per open tab.
    """
    try:
        from textual_serve.server import Server
    except ImportError as exc:
        raise MissingExtra(
            "`--web` needs textual-serve, which this install leaves out: install the project "
            "with its web extra (pip install 'gongxiang-yizhan[web]', or deploy/install.sh "
            "--with-web)"
        ) from exc

    command = shlex.join(
        [sys.executable, "-m", "ui", "--silent", "--config", str(Path(config_path).resolve())]
    )
    title = Translator(ui.language).t("app.title")
    return Server(command, host=ui.web_bind, port=ui.web_port, title=title)


def main(config_path: str, web: bool = False, silent: bool = False) -> int:
    """Entry point for `station ui [--web] --config FILE` (and `python -m ui`).

    With `web`, the same app is served to browsers by textual-serve (for a Chromium kiosk or
    staff on a laptop): each browser tab gets its own app process with the same config file.
    A config the UI cannot use stops it with exit code 2 and the reason, before any screen.
    The config is read as the kiosk reads it (ui/settings.py: the sections the UI uses, no
    pydantic); the daemon's secrets are left out unread.
    """
    from ui.settings import NoKioskToken, UiConfigError, read_kiosk_config

    try:
        config = read_kiosk_config(config_path)
        app = build_app(config, silent=silent or web)
    except (UiConfigError, NoKioskToken) as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    if web:
        try:
            server = web_server(config_path, config.ui)
        except MissingExtra as exc:
            print(f"station ui: {exc}", file=sys.stderr)
            return 2
        server.serve()
    else:
        app.run()
    return 0


def cli(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ui", description="the station touchscreen")
    from station.config_paths import default_config_path

    parser.add_argument("--config", default=str(default_config_path()))
    parser.add_argument("--web", action="store_true", help="serve the UI to browsers")
    parser.add_argument(
        "--silent", action="store_true", help="no spoken prompts or key clicks (as [ui] mute)"
    )
    args = parser.parse_args(argv)
    return main(args.config, web=args.web, silent=args.silent)


__all__ = ["MemberSession", "StaffSession", "StationApp", "StationInfo", "build_app", "main"]
