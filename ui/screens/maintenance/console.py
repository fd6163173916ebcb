"""The maintenance console: one row of section buttons and the section below it.

Sections: doors (live grid), alarms, tools, lost items, supplies, storage overtime, sync and the
hardware self-test. Each section is a panel that reads what it shows with the staff session's
token; live events go to the panel on show so the door grid follows the doors as they move.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, ContentSwitcher

from ui.messages import LiveEvent, LockersChanged
from ui.screens.base import KioskScreen
from ui.widgets.text import DataLabel, TButton

if TYPE_CHECKING:
    from ui.app import StaffSession, StationApp


class Panel(Vertical):
    """One section of the console. `load()` reads its data; `live()` hears stream events."""

    SECTION: ClassVar[str] = ""

    @property
    def console(self) -> MaintenanceScreen:
        return cast(MaintenanceScreen, self.screen)

    @property
    def kiosk(self) -> StationApp:
        return cast("StationApp", self.app)

    @property
    def token(self) -> str:
        staff = self.kiosk.staff
        return staff.token if staff else ""

    def load(self) -> None:
        """Read what the panel shows (called when it is shown and after each action)."""

    def live(self, event: LiveEvent | LockersChanged) -> None:
        """A change on the live stream while this panel is shown."""


class MaintenanceScreen(KioskScreen):
    TITLE_KEY = "maint.title"
    SECTIONS: ClassVar[tuple[str, ...]] = (
        "doors",
        "alarms",
        "tools",
        "lost",
        "members",
        "supplies",
        "storage",
        "sync",
        "selftest",
    )

    def title_widget(self) -> DataLabel:
        staff = self.kiosk.staff
        who = f"{staff.name or staff.staff_no}" if staff else ""
        return DataLabel(lambda i18n: i18n.t("maint.title_who", who=who), id="title")

    def body(self) -> ComposeResult:
        from ui.screens.maintenance.panels import PANELS

        with Horizontal(id="sections"):
            for name in self.SECTIONS:
                yield TButton(f"maint.section.{name}", id=f"sec-{name}", classes="section")
        with ContentSwitcher(id="panels", initial="panel-doors"):
            for name in self.SECTIONS:
                yield PANELS[name](id=f"panel-{name}")

    def on_mount(self) -> None:
        self.show_section("doors")

    @property
    def staff(self) -> StaffSession | None:
        return self.kiosk.staff

    def go_back(self) -> None:
        self.kiosk.go_home()

    @on(Button.Pressed, ".section")
    def _section(self, event: Button.Pressed) -> None:
        event.stop()
        self.show_section((event.button.id or "").removeprefix("sec-"))

    def show_section(self, name: str) -> None:
        self.query_one("#panels", ContentSwitcher).current = f"panel-{name}"
        for button in self.query(".section").results(Button):
            button.set_class(button.id == f"sec-{name}", "selected")
        self.current_panel().load()

    def current_panel(self) -> Panel:
        switcher = self.query_one("#panels", ContentSwitcher)
        return self.query_one(f"#{switcher.current}", Panel)

    def on_screen_resume(self) -> None:
        if self.is_mounted:
            self.current_panel().load()

    def on_live_event(self, event: LiveEvent) -> None:
        self.current_panel().live(event)

    def on_lockers_changed(self, event: LockersChanged) -> None:
        self.current_panel().live(event)
