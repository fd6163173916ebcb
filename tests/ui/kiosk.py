"""Test helpers for driving the touchscreen with taps against a real daemon.

`Kiosk` wraps Textual's Pilot with what a person does at the station: tap a button, type on
the keypad (tap by tap), wait for the next screen; and what a test checks: the words on the
screen and the station's state through the daemon's API.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from textual import events as mouse
from textual.geometry import Offset
from textual.pilot import Pilot, _get_mouse_message_arguments
from textual.screen import Screen
from textual.widgets import Button, Digits, Static

from tests.simstation import TOKENS, SimStation
from ui.app import StationApp, StationInfo
from ui.client import LiveStream, StationClient
from ui.settings import UiConfig
from ui.voice import Player

MEMBER_PHONE = "13812345678"
MEMBER_PIN = "482913"
OTHER_PHONE = "13987654321"
STAFF_NO = "1001"
STAFF_PIN = "592817"
HELP_PHONE = "0755-12345678"
WAIT_S = 15.0


class FakeMonotonic:
    """The app's idle clock, moved by hand (the daemon keeps its own clock)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def build_app(
    station: SimStation,
    *,
    monotonic: Callable[[], float] | None = None,
    wall: Callable[[], float] | None = None,
    player: Player | None = None,
    **ui: Any,
):
    info = StationInfo(
        name_zh="桃源街道 共享益站 1号",
        name_en="Taoyuan Street Station 1",
        help_phone=HELP_PHONE,
        locker_ids=tuple(lk.id for lk in station.config.lockers),
        has_reader=station.config.reader is not None,
    )
    kwargs: dict[str, Any] = {}
    if monotonic is not None:
        kwargs["monotonic"] = monotonic
    if wall is not None:
        kwargs["wall"] = wall
    if player is not None:
        kwargs["player"] = player
    return StationApp(
        StationClient(station.url, TOKENS["kiosk"]),
        LiveStream(station.url, TOKENS["kiosk"], reconnect_max_s=0.5),
        UiConfig(**ui),
        info,
        idle_check_s=0.1,
        **kwargs,
    )


def visible(widget: Any) -> bool:
    node = widget
    while node is not None and not isinstance(node, Screen):
        if not node.display or node.has_class("hidden"):
            return False
        node = node.parent
    return True


def screen_text(screen: Screen[Any]) -> str:
    """Every word now visible on the screen, one widget per line."""
    parts: list[str] = []
    for widget in screen.query("*"):
        if not visible(widget):
            continue
        if isinstance(widget, Button):
            parts.append(str(widget.label))
        elif isinstance(widget, Digits):
            parts.append(widget.value)
        elif isinstance(widget, Static):
            parts.append(str(widget.content))
    return "\n".join(p for p in parts if p)


def _mouse_args(widget: Any, x: int, y: int) -> dict[str, Any]:
    return _get_mouse_message_arguments(widget, (x, y), button=1)


class Kiosk:
    def __init__(self, app: StationApp, pilot: Pilot[Any], station: SimStation) -> None:
        self.app = app
        self.pilot = pilot
        self.station = station
        self.taps = 0
        """Taps that move a flow on (tiles, menus, confirmations) since `count_taps()`."""
        self.entries = 0
        """Taps that tell the station something: keypad keys and answers (`answer`)."""

    def count_taps(self) -> None:
        """Start counting taps and entries afresh (the tap table's figures, docs/ui.md)."""
        self.taps = self.entries = 0

    async def answer(self, selector: str) -> None:
        """Tap a choice that is an answer the station needs (what was found, its colour)."""
        await self.tap(selector)
        self.taps -= 1
        self.entries += 1

    @property
    def screen(self) -> Screen[Any]:
        return self.app.screen

    @property
    def text(self) -> str:
        return screen_text(self.app.screen)

    async def until(self, check: Callable[[], Any], within: float = WAIT_S, what: str = "") -> Any:
        deadline = time.monotonic() + within
        while True:
            try:
                value = check()
            except Exception:  # a widget not mounted yet: keep waiting
                value = None
            if value:
                await self.pilot.pause()
                return value
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out waiting for {what or check}; screen is "
                    f"{type(self.screen).__name__}:\n{self.text}"
                )
            await asyncio.sleep(0.02)

    async def on(self, screen_type: type[Screen[Any]] | str, within: float = WAIT_S) -> None:
        name = screen_type if isinstance(screen_type, str) else screen_type.__name__
        await self.until(lambda: type(self.screen).__name__ == name, within, f"screen {name}")
        await self.settled()

    async def settled(self) -> None:
        """Wait until no API call of the current screen is running."""
        await self.until(lambda: not self._busy(), what="the screen to finish loading")

    def _busy(self) -> bool:
        workers = [w for w in self.app.workers if w.group == "api" and not w.is_finished]
        body = self.screen.query("#body")
        return bool(workers) or (bool(body) and body.first().loading)

    async def redrawn(self, rounds: int = 1) -> None:
        """Wait until the screen has handled what is queued and no API call of it runs.

        Lighter than `settled`, which ends with Pilot's wait for the whole process (the
        daemon's board polling included) to go idle: the layout checks wait this way after
        each resize (`rounds=3`: a list refits itself after the resized layout is drawn).
        """
        for _ in range(rounds):
            await self.pilot._wait_for_screen()
            await asyncio.sleep(0.005)
        if self._busy():
            await self.settled()

    async def sees(self, words: str, within: float = WAIT_S) -> None:
        await self.until(lambda: words in self.text, within, f"{words!r} on screen")

    async def tap(self, selector: str) -> None:
        """Tap a button like a finger would: it must be on screen and enabled.

        The kiosk terminal turns a touch into mouse down, up and click at one cell; this
        sends exactly those to whatever is at the centre of the widget, as Pilot.click does,
        but waits only for the screen to handle them (not for the whole process, daemon
        included, to go idle, which costs ~50 ms per event here).
        """
        await self.until(lambda: self._tappable(selector), what=f"{selector} to be tappable")
        screen = self.screen
        widget = screen.query_one(selector)
        region = widget.region
        x, y = region.x + region.width // 2, region.y + region.height // 2
        hit, _ = self.app.get_widget_at(x, y)
        assert hit is widget or widget in hit.ancestors, f"a tap on {selector} hits {hit!r}"
        target_args = _mouse_args(hit, x - hit.region.x, y - hit.region.y)
        self.app.mouse_position = Offset(x, y)
        for event_type in (mouse.MouseDown, mouse.MouseUp, mouse.Click):
            screen._forward_event(event_type(**target_args))
        if selector.startswith("#key-"):
            self.entries += 1
        else:
            self.taps += 1
        await self.pilot._wait_for_screen()

    def _tappable(self, selector: str) -> bool:
        found = self.screen.query(selector)
        if not found:
            return False
        widget = found.first()
        return visible(widget) and not widget.disabled and widget.region.area > 0

    async def keypad(self, digits: str) -> None:
        for digit in digits:
            await self.tap(f"#key-{digit}")

    async def home(self) -> None:
        await self.on("HomeScreen")

    async def identify(self, phone: str = MEMBER_PHONE, pin: str = MEMBER_PIN) -> None:
        """Phone number and PIN: each goes on by itself with its last digit."""
        await self.on("PhoneScreen")
        await self.keypad(phone)
        await self.on("PinScreen")
        await self.keypad(pin)


# --- the daemon's view, through its API ----------------------------------------------------


async def api_get(station: SimStation, path: str, role: str = "staff", **params: Any) -> Any:
    async with station.client(role) as client:
        response = await client.get(path, params=params)
        response.raise_for_status()
        return response.json()


async def api_post(station: SimStation, path: str, body: Any, role: str = "staff") -> Any:
    async with station.client(role) as client:
        response = await client.post(path, json=body)
        if response.status_code >= 400:
            raise AssertionError(f"POST {path}: {response.status_code} {response.text}")
        return response.json() if response.content else None


async def door(station: SimStation, locker: str) -> str:
    return (await api_get(station, f"/api/v1/lockers/{locker}", role="kiosk"))["door"]


async def events(station: SimStation, *types: str) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"limit": 1000}
    if types:
        params["type"] = list(types)
    page = await api_get(station, "/api/v1/events", **params)
    return page["events"]


async def wait_api(
    check: Callable[[], Any], within: float = WAIT_S, what: str = "the station"
) -> Any:
    deadline = time.monotonic() + within
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
