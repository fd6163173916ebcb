"""Store a bag or charge a phone, and pick up anything with a 6-digit code.

A deposit needs no identity (a courier in a hurry): choose a size, a free storage locker
opens, and after it closes the receipt shows the pickup code. Picking up (a deposit or an
approved lost item) is: tap the locker number from the receipt, type the code.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button

from ui.client import ApiError
from ui.screens.base import KioskScreen
from ui.screens.common import Choice, ChoiceScreen, KeypadScreen
from ui.screens.door import FlowScreen
from ui.screens.errors import ErrorScreen, refusal
from ui.screens.lostfound.lost import MenuScreen
from ui.widgets.text import TButton, TLabel

SIZES = ("S", "M", "L")


class StorageMenuScreen(MenuScreen):
    TITLE_KEY = "home.storage"
    PROMPT_KEY = "storage.menu"
    COLUMNS = 3
    PAGE_SIZE = 3
    ITEMS = (
        ("bag", "storage.bag", "storage.bag.hint"),
        ("phone", "storage.phone", "storage.phone.hint"),
        ("pickup", "storage.pickup", "storage.pickup.hint"),
    )

    def chosen(self, value: Any) -> None:
        if value == "bag":
            self.app.push_screen(DepositSizeScreen())
        elif value == "phone":
            self.app.push_screen(ChargeConfirmScreen())
        else:
            self.app.push_screen(PickupLockerScreen())


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
        free = {
            size: any(
                lk.get("purpose") == "storage"
                and lk.get("size") == size
                and live.usable(lid)
                and lk.get("door") == "closed"
                for lid, lk in live.lockers.items()
            )
            for size in SIZES
        }
        await self.show_choices(
            [
                Choice(_size_label(size, free[size]), size, f"size-{size}", enabled=free[size])
                for size in SIZES
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


class PickupLockerScreen(ChoiceScreen):
    """Which locker: the receipt names it; only lockers holding something are offered."""

    TITLE_KEY = "storage.pickup"
    PROMPT_KEY = "pickup.locker"
    EMPTY_KEY = "pickup.none"
    COLUMNS = 4
    PAGE_SIZE = 8

    def on_mount(self) -> None:
        self.call(self.kiosk.client.pickup_lockers, done=self._loaded)

    async def _loaded(self, lockers: list[dict[str, Any]]) -> None:
        live = self.kiosk.live
        ids = sorted({str(p.get("locker")) for p in lockers if p.get("locker")})
        choices = [
            Choice(_locker_label(lid, live.usable(lid)), lid, lid, live.usable(lid)) for lid in ids
        ]
        await self.show_choices(choices)

    def chosen(self, value: Any) -> None:
        self.app.push_screen(PickupCodeScreen(str(value)))


def _locker_label(locker: str, usable: bool) -> Any:
    if usable:
        return lambda i18n: i18n.t("pickup.locker_id", locker=locker)
    return lambda i18n: f"{i18n.t('pickup.locker_id', locker=locker)}\n{i18n.t('tools.locker_out')}"


class PickupCodeScreen(KeypadScreen):
    TITLE_KEY = "storage.pickup"
    PROMPT_KEY = "keypad.code"
    KIND = "code"

    def __init__(self, locker: str) -> None:
        super().__init__()
        self.locker = locker

    def body(self) -> ComposeResult:
        yield TLabel("pickup.for_locker", {"locker": self.locker}, classes="sentence")
        yield from super().body()

    def submit(self, value: str) -> None:
        locker = self.locker

        def refused(exc: ApiError) -> None:
            self.clear_entry()
            self.app.push_screen(ErrorScreen(refusal(exc, self.kiosk.info.help_phone)))

        self.call(
            lambda: self.kiosk.client.pickup(locker, value),
            done=lambda flow: self.app.switch_screen(FlowScreen(flow)),
            refused=refused,
        )
