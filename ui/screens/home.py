"""Home: four large service tiles and a live strip (rest area, supplies, notices).

Everything on the strip comes from the daemon and is read again when anything changes on the
live stream, so Home never shows a state older than the last event. Notices from the central
office take turns on the last line, highest priority first; each turn looks at the clock again,
so a notice whose time is over disappears by itself. A tap on it shows it in full. Home counts
how often it showed each notice and reports the counts to the daemon every few minutes (one
`notice_shown` event per notice and report, which the office's reports count).
"""

from __future__ import annotations

import contextlib
from collections import Counter
from typing import Any

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.timer import Timer
from textual.widgets import Button

from ui.client import ApiError
from ui.i18n import Translator
from ui.messages import LiveEvent, LockersChanged, OccupancyChanged
from ui.screens.base import KioskScreen
from ui.screens.tiles import home_tiles
from ui.widgets.text import DataButton, DataLabel, Labeller, TLabel

REFRESH_DELAY_S = 0.3
SHOWS_REPORT_S = 300.0
"""How often Home reports the showings it counted (a restart loses at most this much)."""


def tile_label(title: str, hint: str) -> Labeller:
    return lambda i18n: f"{i18n.t(title)}\n{i18n.t(hint)}"


def rest_text(occupancy: dict[str, Any] | None) -> Labeller:
    state = (occupancy or {}).get("state")
    key = {"occupied": "home.rest.occupied", "vacant": "home.rest.vacant"}.get(
        str(state), "home.rest.unknown"
    )
    return lambda i18n: i18n.t(key)


def supplies_text(supplies: list[dict[str, Any]] | None, charging_free: int | None) -> Labeller:
    def label(i18n: Translator) -> str:
        parts: list[str] = []
        for s in supplies or []:
            if s.get("count") is None:
                continue  # never counted: say nothing rather than guess
            name = i18n.pick(s.get("name"), s.get("name_en"))
            count = int(s["count"])
            key = "home.supply.out" if count <= 0 else "home.supply.low" if s.get("low") else None
            parts.append(i18n.t(key or "home.supply.in", name=name))
        if charging_free is not None:
            key = "home.charging.free" if charging_free > 0 else "home.charging.none"
            parts.append(i18n.t(key))
        if not parts:
            return i18n.t("home.supplies.none")
        return i18n.t("home.supplies.list", items=" · ".join(parts))

    return label


def notice_text(notice: dict[str, Any] | None) -> Labeller:
    if not notice:
        return lambda i18n: ""

    def label(i18n: Translator) -> str:
        text = i18n.pick(notice.get("text"), notice.get("text_en"))
        merchant = notice.get("merchant")
        if merchant:
            return i18n.t("home.promo", merchant=merchant, text=text)
        return i18n.t("home.notice", text=text)

    return label


def current_notices(notices: list[Any], now: float) -> list[dict[str, Any]]:
    """Notices whose time window (if any) includes now, in the order central sent them."""
    return [
        n
        for n in notices
        if isinstance(n, dict)
        and (n.get("starts_at") is None or n["starts_at"] <= now)
        and (n.get("ends_at") is None or now < n["ends_at"])
    ]


class HomeScreen(KioskScreen):
    CSS_PATH = None
    """All it uses is in ui/theme.tcss: the start does not load the flows' stylesheet."""
    SHOW_BACK = False
    SHOW_STAFF = True

    def __init__(self) -> None:
        super().__init__()
        self._all_notices: list[dict[str, Any]] = []
        self._notices: list[dict[str, Any]] = []
        self._notice_index = 0
        self._shown: dict[str, Any] | None = None
        self._shows: Counter[str] = Counter()
        self._refresh_timer: Timer | None = None

    def title_widget(self) -> DataLabel:
        info = self.kiosk.info
        return DataLabel(lambda i18n: i18n.pick(info.name_zh, info.name_en), id="title")

    def body(self) -> ComposeResult:
        yield TLabel("home.welcome", id="welcome", classes="lead")
        with Grid(id="tiles"):
            for tile in home_tiles():
                yield DataButton(
                    tile_label(tile.title, tile.hint),
                    tile.name,
                    id=f"tile-{tile.name}",
                    classes="tile",
                )
        with Vertical(id="live-strip"):
            # On the panels' small grids the two status lines share one row and the notice
            # keeps a row of its own (theme.tcss), so the office's notices are still seen.
            with Vertical(id="status-line"):
                yield DataLabel(rest_text(None), id="rest", classes="strip")
                yield DataLabel(supplies_text(None, None), id="supplies", classes="strip")
            yield DataLabel(notice_text(None), id="notice", classes="strip notice")

    def on_mount(self) -> None:
        self.set_interval(self.kiosk.ui.notice_cycle_s, self._next_notice)
        self.set_interval(SHOWS_REPORT_S, self.report_shows)

    def on_click(self, event: events.Click) -> None:
        """A tap on the notice line opens it in full."""
        if event.widget is not None and event.widget.id == "notice" and self._shown:
            from ui.screens.notice import NoticeScreen

            event.stop()
            self.app.push_screen(NoticeScreen(self._shown))

    def on_screen_resume(self) -> None:
        # Whoever backed out to Home is done: the next person must identify again.
        self.kiosk.forget_member()
        self.refresh_strip()

    @on(Button.Pressed, ".tile")
    def _tile(self, event: Button.Pressed) -> None:
        event.stop()
        button = event.button
        if isinstance(button, DataButton):
            tile = next(t for t in home_tiles() if t.name == button.value)
            self.app.push_screen(tile.opens())

    @on(Button.Pressed, "#staff")
    def _staff(self, event: Button.Pressed) -> None:
        from ui.screens.maintenance import StaffNumberScreen

        event.stop()
        self.app.push_screen(StaffNumberScreen())

    # --- the live strip --------------------------------------------------------------------

    def on_live_event(self, _: LiveEvent) -> None:
        self._schedule_refresh()

    def on_lockers_changed(self, _: LockersChanged) -> None:
        self._schedule_refresh()

    def on_occupancy_changed(self, message: OccupancyChanged) -> None:
        self.query_one("#rest", DataLabel).relabel(rest_text(message.occupancy))

    def _schedule_refresh(self) -> None:
        """Many events come in bursts (a door opening is three events): read once after."""
        if self._refresh_timer is None:
            self._refresh_timer = self.set_timer(REFRESH_DELAY_S, self.refresh_strip)

    def refresh_strip(self) -> None:
        self._refresh_timer = None
        if self.kiosk.connected:
            self.call(
                self._read_strip, done=self._show_strip, refused=_ignore, busy=False, group="strip"
            )

    async def _read_strip(self) -> dict[str, Any]:
        client = self.kiosk.client
        return {
            "occupancy": await _optional(client.occupancy()),
            "supplies": await _optional(client.supplies()),
            "notices": await _optional(client.notices()),
            "pickups": await _optional(client.pickup_lockers()),
        }

    def _show_strip(self, data: dict[str, Any]) -> None:
        self.query_one("#rest", DataLabel).relabel(rest_text(data["occupancy"]))
        self.query_one("#supplies", DataLabel).relabel(
            supplies_text(data["supplies"], self._charging_free(data["pickups"]))
        )
        self._all_notices = data["notices"] or []
        self._notices = current_notices(self._all_notices, self.kiosk.wall())
        self._notice_index %= max(1, len(self._notices))
        self._show_notice()

    def _charging_free(self, pickups: list[dict[str, Any]] | None) -> int | None:
        """Storage lockers a phone could go into now: usable, shut and holding nothing."""
        if pickups is None:
            return None
        held = {p.get("locker") for p in pickups}
        live = self.kiosk.live
        return sum(
            1
            for lid, lk in live.lockers.items()
            if lk.get("purpose") == "storage"
            and live.usable(lid)
            and lk.get("door") == "closed"
            and lid not in held
        )

    def _next_notice(self) -> None:
        """The next notice's turn; the list is cut to those whose time is now, each turn."""
        was = self._shown
        self._notices = current_notices(self._all_notices, self.kiosk.wall())
        if not self._notices:
            self._notice_index = 0
            if was is not None:
                self._show_notice()
            return
        if len(self._notices) > 1 or was not in self._notices:
            step = 1 if was in self._notices else 0
            self._notice_index = (self._notice_index + step) % len(self._notices)
            self._show_notice()

    def _show_notice(self) -> None:
        notice = self._notices[self._notice_index] if self._notices else None
        self._shown = notice
        if notice is not None and self.is_current:
            self._shows[str(notice.get("id"))] += 1
        self.query_one("#notice", DataLabel).relabel(notice_text(notice))

    def report_shows(self) -> None:
        """Hand the counted showings to the daemon (one report per notice)."""
        if not self._shows or not self.kiosk.connected:
            return
        counts, self._shows = dict(self._shows), Counter()

        async def send() -> None:
            for notice_id, count in counts.items():
                # a notice gone from the bundle (404): its showings are no one's to count
                with contextlib.suppress(ApiError):
                    await self.kiosk.client.notice_shown(notice_id, min(count, 1000))

        self.call(send, refused=_ignore, busy=False)


async def _optional(call: Any) -> Any:
    """A strip item the daemon cannot give (a service not configured) is left out."""
    try:
        return await call
    except ApiError:
        return None


def _ignore(_: ApiError) -> None:
    return None
