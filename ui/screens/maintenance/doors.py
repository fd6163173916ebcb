"""The live door grid, one door's actions (open with a reason, release), and what is inside.

The grid follows the live stream: a door opening anywhere in the station turns its tile within
one poll of the boards. Staff open a door by tapping it, then the reason, then Confirm on a screen
that names the door and the reason; the reason goes to the usage log with the staff member as
actor before the unlock is sent.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Button

from ui.client import StationClient
from ui.i18n import CATALOGUE, Translator
from ui.messages import LiveEvent, LockersChanged
from ui.screens.base import KioskScreen
from ui.screens.common import Choice, ChoiceScreen
from ui.screens.maintenance.console import Panel
from ui.widgets.fit import outer_height, page_size
from ui.widgets.text import DataButton, DataLabel, Labeller, TButton, TLabel

Contents = dict[str, Labeller]
OPEN_REASONS = ("restock", "inspect", "clean", "retrieve", "repair")
DOOR_ALARMS = frozenset({"forced_open", "door_jammed", "door_left_open"})


async def locker_contents(client: StationClient, token: str) -> Contents:
    """What each locker holds, as far as the services tell: tools, deposits, found items."""
    out: Contents = {}
    for tool in await client.tools():
        locker = tool.get("locker")
        if locker and tool.get("status") not in ("retired", "on_loan", "missing"):
            out[str(locker)] = tool_label(tool)
    for dep in await client.staff_get("deposits", token, status="active"):
        if dep.get("locker"):
            out[str(dep["locker"])] = _deposit_label(str(dep.get("kind", "bag")))
    for item in await client.found():
        if item.get("status") == "held":
            staff_view = await client.staff_get(f"found/{item['number']}/record", token)
            if staff_view.get("locker"):
                out[str(staff_view["locker"])] = _found_label(str(item["number"]))
    for item in await client.staff_get("found/expired", token):
        if item.get("locker"):
            out[str(item["locker"])] = _found_label(str(item["number"]))
    for waiting in await client.pickup_lockers():
        locker = str(waiting.get("locker") or "")
        if locker and locker not in out:
            out[locker] = lambda i18n: i18n.t("maint.contents.pickup")
    return out


def tool_label(tool: dict[str, Any]) -> Labeller:
    return lambda i18n: i18n.pick(tool.get("name_zh"), tool.get("name_en"))


def _deposit_label(kind: str) -> Labeller:
    key = "maint.contents.phone" if kind == "phone_charge" else "maint.contents.bag"
    return lambda i18n: i18n.t(key)


def _found_label(number: str) -> Labeller:
    return lambda i18n: i18n.t("maint.contents.found", number=number)


def door_tile(locker: dict[str, Any], contents: Labeller | None, alarmed: bool) -> Labeller:
    lid, door = str(locker["id"]), str(locker.get("door", "unknown"))

    def label(i18n: Translator) -> str:
        state = i18n.t(f"door.is.{door}")
        if locker.get("faulty"):
            state = i18n.t("maint.door.faulty")
        elif not locker.get("board_online"):
            state = i18n.t("maint.door.offline")
        mark = "⚠ " if alarmed else ""
        inside = contents(i18n) if contents else i18n.t("maint.contents.empty")
        return f"{mark}{lid} {state}\n{inside}"

    return label


def door_classes(locker: dict[str, Any], alarmed: bool) -> str:
    door = str(locker.get("door", "unknown"))
    classes = ["door", door]
    if locker.get("faulty") or not locker.get("board_online"):
        classes.append("faulty")
    if alarmed:
        classes.append("alarm")
    return " ".join(classes)


class DoorsPanel(Panel):
    SECTION = "doors"

    COLUMNS = 4

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.contents: Contents = {}
        self.alarms: list[dict[str, Any]] = []
        self._drawing = asyncio.Lock()
        self._page = 0
        self._per_page = 16

    def compose(self) -> ComposeResult:
        yield TLabel("maint.doors.hint", id="doors-hint", classes="sentence")
        yield Grid(id="door-grid")
        with Horizontal(id="door-pager", classes="pager hidden"):
            yield TButton("nav.prev_page", id="doors-prev", classes="prev")
            yield TLabel("nav.page", {"page": 1, "pages": 1}, id="doors-page", classes="page-no")
            yield TButton("nav.next_page", id="doors-next", classes="next")

    def load(self) -> None:
        client, token = self.kiosk.client, self.token

        async def read() -> tuple[Contents, list[dict[str, Any]]]:
            return await locker_contents(client, token), await client.alarms(token=token)

        self.console.call(read, done=self._loaded, busy=not self.query(".door"))

    async def _loaded(self, data: tuple[Contents, list[dict[str, Any]]]) -> None:
        self.contents, self.alarms = data
        await self._draw()

    def _alarmed(self) -> set[str]:
        return {
            str(a.get("subject"))
            for a in self.alarms
            if a.get("state") == "raised" and a.get("type") in DOOR_ALARMS
        }

    async def _draw(self) -> None:
        async with self._drawing:
            await self._draw_grid()

    async def _draw_grid(self) -> None:
        grid = self.query_one("#door-grid", Grid)
        alarmed = self._alarmed()
        live = self.kiosk.live.lockers
        # In the config's order (A01, A02, ...), whatever order the daemon listed them in.
        order = [lid for lid in self.kiosk.info.locker_ids if lid in live]
        order += [lid for lid in live if lid not in order]
        lockers = {lid: live[lid] for lid in self._paged(order)}
        existing = {b.value: b for b in grid.query(".door").results(DataButton)}
        if set(existing) != set(lockers):
            await grid.remove_children()
            await grid.mount_all(
                DataButton(
                    door_tile(lk, self.contents.get(lid), lid in alarmed),
                    lid,
                    id=f"door-{lid}",
                    classes=door_classes(lk, lid in alarmed),
                )
                for lid, lk in lockers.items()
            )
            return
        for lid, button in existing.items():
            lk = lockers[lid]
            button.relabel(door_tile(lk, self.contents.get(lid), lid in alarmed))
            button.set_classes(door_classes(lk, lid in alarmed))

    def _paged(self, order: list[str]) -> list[str]:
        """The doors on the page shown; the pager appears when they do not all fit."""
        first = self._page * self._per_page
        self._per_page = self.fit(len(order))
        pages = max(1, -(-len(order) // self._per_page))
        self._page = min(first // self._per_page, pages - 1)
        self.query_one("#door-pager").set_class(pages <= 1, "hidden")
        self.query_one("#doors-page", TLabel).show("nav.page", page=self._page + 1, pages=pages)
        self.query_one("#doors-prev", Button).disabled = self._page == 0
        self.query_one("#doors-next", Button).disabled = self._page >= pages - 1
        start = self._page * self._per_page
        return order[start : start + self._per_page]

    def fit(self, doors: int) -> int:
        grid = self.query_one("#door-grid", Grid)
        padding = grid.styles.padding
        hint = outer_height(self.query_one("#doors-hint"))
        room = (self.size.height or self.app.size.height - 7) - hint - padding.top
        return page_size(doors, self.COLUMNS, doors, room)

    def on_resize(self) -> None:
        self.run_worker(self._draw, group="door-grid")

    @on(Button.Pressed, "#doors-prev")
    async def _prev(self, event: Button.Pressed) -> None:
        event.stop()
        self._page = max(0, self._page - 1)
        await self._draw()

    @on(Button.Pressed, "#doors-next")
    async def _next(self, event: Button.Pressed) -> None:
        event.stop()
        self._page += 1
        await self._draw()

    def live(self, event: LiveEvent | LockersChanged) -> None:
        if isinstance(event, LiveEvent) and event.type.startswith("alarm_"):
            self.load()
        else:
            self.run_worker(self._draw, group="door-grid")

    @on(Button.Pressed, ".door")
    def _door(self, event: Button.Pressed) -> None:
        event.stop()
        if not isinstance(event.button, DataButton):
            return
        lid = str(event.button.value)
        alarms = [a for a in self.alarms if a.get("subject") == lid and a.get("state") != "cleared"]
        self.app.push_screen(DoorActionScreen(lid, self.contents.get(lid), alarms))


class DoorActionScreen(KioskScreen):
    """One door: what it holds, its alarms, and the reasons to open it (then a confirmation)."""

    TITLE_KEY = "maint.door.title"

    def __init__(self, locker: str, contents: Labeller | None, alarms: list[dict[str, Any]]):
        super().__init__()
        self.locker = locker
        self.contents = contents
        self.alarms = alarms

    def body(self) -> ComposeResult:
        lk = self.kiosk.live.lockers.get(self.locker, {"id": self.locker})
        with Vertical(classes="panel", id="door-info"):
            yield DataLabel(door_tile(lk, self.contents, bool(self.alarms)), classes="headline")
            if lk.get("faulty"):
                yield DataLabel(
                    fault_text(str(lk.get("fault_reason") or "")), classes="sentence warn"
                )
            for alarm in self.alarms:
                yield DataLabel(alarm_text(alarm), classes="sentence warn")
        yield TLabel("maint.door.why", classes="prompt")
        with Grid(id="reasons"):
            for reason in OPEN_REASONS:
                yield TButton(f"maint.reason.{reason}", id=f"reason-{reason}", classes="reason")
        if lk.get("faulty"):
            with Horizontal(classes="actions"):
                yield TButton("maint.door.release", id="release", variant="primary")

    @on(Button.Pressed, ".reason")
    def _reason(self, event: Button.Pressed) -> None:
        event.stop()
        reason = (event.button.id or "").removeprefix("reason-")
        self.app.push_screen(OpenDoorConfirmScreen(self.locker, reason, self.contents))

    @on(Button.Pressed, "#release")
    def _release(self, event: Button.Pressed) -> None:
        event.stop()
        staff = self.kiosk.staff
        if staff is None:
            self.kiosk.go_home()
            return
        self.call(
            lambda: self.kiosk.client.release_locker(
                self.locker, "released at the touchscreen", staff.token
            ),
            done=lambda _: self.app.pop_screen(),
        )


def fault_text(reason: str) -> Labeller:
    """Why a locker is marked faulty: the daemon gives an alarm type (door_jammed) or staff's
    own words; a type is shown in the screen's language."""

    def label(i18n: Translator) -> str:
        words = i18n.t(f"alarm.{reason}") if f"alarm.{reason}" in CATALOGUE else reason
        return i18n.t("maint.door.fault", reason=words or "—")

    return label


class OpenDoorConfirmScreen(KioskScreen):
    """Which door, why, and Confirm / Cancel: no door opens from the maintenance screens on one
    tap. Confirmed, the unlock goes to the daemon with the staff member and the reason (the
    usage log), and the console's door grid follows the door."""

    TITLE_KEY = "maint.door.confirm_title"

    def __init__(self, locker: str, reason: str, contents: Labeller | None) -> None:
        super().__init__()
        self.locker = locker
        self.reason = reason
        self.contents = contents

    def body(self) -> ComposeResult:
        inside = self.contents
        with Vertical(id="open-confirm", classes="panel"):
            yield TLabel("maint.door.confirm", {"locker": self.locker}, classes="headline")
            yield DataLabel(
                lambda i18n: i18n.t(
                    "maint.door.confirm_why",
                    reason=i18n.t(f"maint.reason.{self.reason}"),
                    inside=inside(i18n) if inside else i18n.t("maint.contents.empty"),
                ),
                id="open-why",
                classes="sentence",
            )
        with Horizontal(classes="actions"):
            yield TButton("nav.cancel", id="cancel", classes="action")
            yield TButton("maint.door.do_open", id="confirm", variant="primary", classes="action")

    @on(Button.Pressed, "#cancel")
    def _cancel(self, event: Button.Pressed) -> None:
        event.stop()
        self.app.pop_screen()

    @on(Button.Pressed, "#confirm")
    def _confirm(self, event: Button.Pressed) -> None:
        event.stop()
        staff = self.kiosk.staff
        if staff is None:
            self.kiosk.go_home()
            return
        faulty = bool(self.kiosk.live.lockers.get(self.locker, {}).get("faulty"))
        body = {"reason": f"staff at the touchscreen: {self.reason}", "allow_faulty": faulty}
        path = f"/api/v1/lockers/{self.locker}/open"
        self.call(
            lambda: self.kiosk.client.post(path, body, token=staff.token, slow=True),
            done=lambda _: self._opened(),
        )

    def _opened(self) -> None:
        self.app.pop_screen()  # this confirmation
        self.app.pop_screen()  # the door's actions: back to the console


MEMBER_SUBJECT = re.compile(r"^member:[0-9a-f]+/(\d{4})$")
"""How the daemon names a member in its log and alarms: a hash prefix and the last 4 digits."""
PLACE_SUBJECTS = {"central": "alarm.subject.central", "data": "alarm.subject.data"}
GUESS_SUBJECTS = {
    "member_pin": "alarm.subject.member_pins",
    "staff_pin": "alarm.subject.staff_pins",
    "code": "alarm.subject.codes",
    "claim": "alarm.subject.claims",
}


def alarm_subject(alarm: dict[str, Any], names: Contents, i18n: Translator) -> str:
    """What an alarm is about, in words: a door, a tool or a supply by its name, a member by
    the last digits of the phone (never the log's hash), a board, a sensor, the reader."""
    subject, kind = str(alarm.get("subject", "")), str(alarm.get("type", ""))
    if subject in names:
        return names[subject](i18n)
    member = MEMBER_SUBJECT.match(subject)
    if member:
        return i18n.t("alarm.subject.member", last4=member.group(1))
    if subject.startswith("staff:"):
        return i18n.t("alarm.subject.staff", staff_no=subject.removeprefix("staff:"))
    if kind == "guessing" and subject in GUESS_SUBJECTS:
        return i18n.t(GUESS_SUBJECTS[subject])
    if kind == "board_offline":
        return i18n.t("alarm.subject.board", board=subject)
    if kind == "sensor_offline":
        return i18n.t("alarm.subject.sensor", sensor=subject)
    if kind == "reader_offline" or subject == "reader":
        return i18n.t("alarm.subject.reader")
    if subject in PLACE_SUBJECTS:
        return i18n.t(PLACE_SUBJECTS[subject])
    if re.fullmatch(r"[A-Z]\d{2,3}", subject):
        return i18n.t("alarm.subject.locker", locker=subject)
    return subject


def alarm_text(alarm: dict[str, Any], names: Contents | None = None) -> Labeller:
    """One alarm on one line: what, about what (in words, see `alarm_subject`), when, state.
    `names` gives the words for subjects the alarm only names by id (supplies, tools)."""

    def label(i18n: Translator) -> str:
        kind = str(alarm.get("type", ""))
        name = i18n.t(f"alarm.{kind}") if f"alarm.{kind}" in CATALOGUE else kind
        raised = alarm.get("raised_at")
        when = i18n.when(float(raised)) if isinstance(raised, int | float) else ""
        state = i18n.t(f"maint.alarm.{alarm.get('state', 'raised')}")
        return f"{name} · {alarm_subject(alarm, names or {}, i18n)} · {when} · {state}"

    return label


class LockerPickScreen(ChoiceScreen):
    """Staff pick a locker (assigning a tool to it)."""

    TITLE_KEY = "maint.pick_locker"
    PROMPT_KEY = "maint.pick_locker"
    COLUMNS = 4
    PAGE_SIZE = 12

    def __init__(self, lockers: list[str], then: Callable[[str], None]) -> None:
        super().__init__()
        self.lockers = lockers
        self.then = then

    async def on_mount(self) -> None:
        await self.show_choices([Choice(_locker(lid), lid, lid) for lid in self.lockers])

    def chosen(self, value: Any) -> None:
        self.app.pop_screen()
        self.then(str(value))


def _locker(lid: str) -> Labeller:
    return lambda i18n: i18n.t("pickup.locker_id", locker=lid)
