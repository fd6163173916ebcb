"""Identify a member: a card on the reader, or phone number then PIN; then on to the step.

The phone number lives only in these two screens' memory until the daemon has answered; the
screens are then closed, so the number is gone before the next step is shown. The PIN never
leaves the keypad except in the identify request.

Where the station has a card reader and the step allows a card alone (`people.card_alone_for`),
the phone screen also asks the daemon to wait for a card (POST /cards/identify, a bounded long
poll, asked again while the screen is up). The card's number never reaches this program: the
daemon answers with a member session, as for phone and PIN.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button

from ui.app import MemberSession
from ui.client import ApiError
from ui.screens.base import KioskScreen
from ui.screens.common import KeypadScreen, PinTwice
from ui.screens.errors import ErrorScreen, refusal
from ui.widgets.text import TButton, TLabel

Then = Callable[[], None]


# Refusals after which waiting for a card makes no sense on this screen.
_NO_CARD_HERE = {"no_reader", "pin_required", "members_unavailable"}


class WaitsForCard(KeypadScreen):
    """A keypad step that also takes a card on the station's reader, while it is shown."""

    CARD_PROMPT_KEY: ClassVar[str] = "keypad.phone_or_card"

    def __init__(self, purpose: str | None) -> None:
        super().__init__()
        self._purpose = purpose or None
        self._card_wanted = False

    def on_mount(self) -> None:
        if self._purpose and self.kiosk.info.has_reader:
            self._card_wanted = True
            self.query_one("#prompt", TLabel).show(self.CARD_PROMPT_KEY)
            self._wait_for_card()

    def on_card(self, answer: dict[str, Any]) -> bool:
        """A card was presented and the daemon said whose; True if it was used."""
        return False

    def _wait_for_card(self) -> None:
        purpose = self._purpose or ""
        self.call(
            lambda: self.kiosk.client.card_identify(purpose),
            done=self._card,
            refused=self._card_refused,
            busy=False,
            group="card",
        )

    def _card(self, answer: dict[str, Any]) -> None:
        if answer.get("kind") != "none" and self.on_card(answer):
            self._card_wanted = False
        elif self.is_attached and self.app.screen is self:
            self._wait_for_card()

    def _card_refused(self, exc: ApiError) -> None:
        if exc.code in _NO_CARD_HERE:
            self._card_wanted = False
            self.query_one("#prompt", TLabel).show(self.PROMPT_KEY)
            return
        self.app.push_screen(ErrorScreen(refusal(exc, self.kiosk.info.help_phone)))

    def on_screen_resume(self) -> None:
        if self._card_wanted:
            self._wait_for_card()

    def on_screen_suspend(self) -> None:
        self._stop_waiting()

    def on_unmount(self) -> None:
        self._stop_waiting()

    def _stop_waiting(self) -> None:
        """Tell the daemon nobody waits here any more (a card presented now does nothing)."""
        if self._card_wanted:
            self.workers.cancel_group(self, "card")
            client = self.kiosk.client
            self.app.run_worker(client.card_cancel(), group="card-cancel", exit_on_error=False)


class PhoneScreen(WaitsForCard):
    TITLE_KEY = "identify.title"
    PROMPT_KEY = "keypad.phone"
    KIND = "phone"
    GOES_ON = True

    def __init__(self, then: Then, purpose: str | None = None) -> None:
        super().__init__(purpose)
        self._then = then

    def on_card(self, answer: dict[str, Any]) -> bool:
        if answer.get("kind") != "member":
            return False
        self.kiosk.member = MemberSession(token=answer["session"], member=answer["member"])
        self._card_wanted = False
        while self.app.screen is not self:
            self.app.pop_screen()  # a PIN screen on top: the card was quicker
        self.app.pop_screen()
        self._then()
        return True

    def submit(self, value: str) -> None:
        self.app.push_screen(PinScreen(value, self._then))


class PinScreen(KeypadScreen):
    TITLE_KEY = "identify.title"
    PROMPT_KEY = "keypad.pin"
    KIND = "pin"
    GOES_ON = True

    def __init__(self, phone: str, then: Then) -> None:
        super().__init__()
        self._phone = phone
        self._then = then

    def submit(self, value: str) -> None:
        phone = self._phone
        self.call(
            lambda: self.kiosk.client.identify(phone, value),
            done=self._identified,
            refused=self._refused,
        )

    def _identified(self, answer: dict[str, Any]) -> None:
        self._phone = ""
        if answer["member"].get("pin_state") == "must_change":
            # The first PIN from the office opens nothing but choosing the member's own.
            self.app.switch_screen(FirstPinScreen(str(answer["session"])))
            return
        self.kiosk.member = MemberSession(token=answer["session"], member=answer["member"])
        self.app.pop_screen()  # this PIN screen
        self.app.pop_screen()  # the phone screen
        self._then()

    def _refused(self, exc: ApiError) -> None:
        self.clear_entry()
        self.app.push_screen(ErrorScreen(refusal(exc, self.kiosk.info.help_phone)))


class FirstPinScreen(PinTwice):
    """A member imported at the office with a first PIN chooses their own, twice, before
    anything else works for them; the daemon then ends the session, and the member identifies
    again with the new PIN (back on the phone screen, which is under these screens)."""

    TITLE_KEY = "first_pin.title"
    PROMPT_KEY = "first_pin.new"

    def __init__(self, session: str, first: str = "") -> None:
        super().__init__()
        self._session = session
        self.first = first

    def again(self, first: str) -> FirstPinScreen:
        return FirstPinScreen(self._session, first)

    def chosen(self, pin: str) -> None:
        session = self._session
        self.call(
            lambda: self.kiosk.client.change_own_pin(pin, session),
            done=self._changed,
            refused=self._refused,
        )

    def _changed(self, _: Any) -> None:
        self._session = ""
        while isinstance(self.app.screen, FirstPinScreen):
            self.app.pop_screen()
        self.app.push_screen(FirstPinDoneScreen())

    def _refused(self, exc: ApiError) -> None:
        self.clear_entry()
        self.app.push_screen(ErrorScreen(refusal(exc, self.kiosk.info.help_phone)))


class FirstPinDoneScreen(KioskScreen):
    """The new PIN is set; Next goes back to the phone screen to identify with it."""

    TITLE_KEY = "first_pin.title"

    def body(self) -> ComposeResult:
        with Vertical(classes="panel"):
            yield TLabel("first_pin.done", id="first-pin-done", classes="headline")
            yield TLabel("first_pin.done.body", classes="sentence")
        with Horizontal(classes="actions"):
            yield TButton("nav.next", id="next", variant="primary", classes="action")

    @on(Button.Pressed, "#next")
    def _next(self, event: Button.Pressed) -> None:
        event.stop()
        self.app.pop_screen()


def identified_then(app: Any, then: Then, purpose: str | None = None) -> None:
    """Run `then` now if a member is identified, else after a card (where `purpose` allows
    one) or phone and PIN."""
    if app.member is not None:
        then()
    else:
        app.push_screen(PhoneScreen(then, purpose))
