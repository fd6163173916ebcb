"""Store a bag or charge a phone; picking up is Home's own tile (ui/screens/pickup/).

A deposit needs no identity (a courier in a hurry): choose a size, a free storage locker
opens, and after it closes the receipt shows the pickup code and says to type it under Home's
pickup tile. Only the sizes this station has are offered; a size all of whose lockers are taken is
shown as full.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button

from ui.screens.base import KioskScreen
from ui.screens.common import Choice, ChoiceScreen
from ui.screens.door import FlowScreen
from ui.screens.lostfound.lost import MenuScreen
from ui.widgets.text import TButton, TLabel

SIZES = ("S", "M", "L")


class StorageMenuScreen(MenuScreen):
    TITLE_KEY = "home.storage"
    PROMPT_KEY = "storage.menu"
    COLUMNS = 2
    PAGE_SIZE = 2
    ITEMS = (
        ("bag", "storage.bag", "storage.bag.hint"),
        ("phone", "storage.phone", "storage.phone.hint"),
    )

    def chosen(self, value: Any) -> None:
        if value == "bag":
            self.app.push_screen(DepositSizeScreen())
        else:
            self.app.push_screen(ChargeConfirmScreen())


def _deposit(screen: KioskScreen, kind: str, size: str | None) -> None:
    member = screen.kiosk.member
    token = member.token if member else None
    screen.call(
        lambda: screen.kiosk.client.deposit(kind, size, token),
        done=lambda flow: screen.app.switch_screen(FlowScreen(flow)),
    )


class DepositSizeScreen(ChoiceScreen):
    """One tap picks the size and opens a free locker of it."""

    TITLE_KEY = "storage.bag"
    PROMPT_KEY = "storage.size"
    COLUMNS = 3
    PAGE_SIZE = 3

    async def on_mount(self) -> None:
        live = self.kiosk.live
        storage = [(lid, lk) for lid, lk in live.lockers.items() if lk.get("purpose") == "storage"]
        had = [size for size in SIZES if any(lk.get("size") == size for _, lk in storage)]
        free = {
            size: any(
                lk.get("size") == size and live.usable(lid) and lk.get("door") == "closed"
                for lid, lk in storage
            )
            for size in had
        }
        await self.show_choices(
            [
                Choice(_size_label(size, free[size]), size, f"size-{size}", enabled=free[size])
                for size in had
            ]
        )

    def chosen(self, value: Any) -> None:
        _deposit(self, "bag", str(value))


def _size_label(size: str, free: bool) -> Any:
    def label(i18n: Any) -> str:
        second = i18n.t("storage.size.free") if free else i18n.t("storage.size.none")
        return f"{i18n.t(f'storage.size.{size}')}\n{second}"

    return label


class ChargeConfirmScreen(KioskScreen):
    TITLE_KEY = "storage.phone"

    def body(self) -> ComposeResult:
        with Vertical(classes="panel"):
            yield TLabel("storage.phone.how", classes="sentence")
            yield TLabel("storage.phone.cable", classes="sentence")
        with Horizontal(classes="actions"):
            yield TButton("storage.open", id="confirm", variant="primary", classes="action")

    @on(Button.Pressed, "#confirm")
    def _confirm(self, event: Button.Pressed) -> None:
        event.stop()
        _deposit(self, "phone_charge", None)
