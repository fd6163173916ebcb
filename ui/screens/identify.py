"""Identify a member: phone number, then PIN, then on to the step that needed it.

The phone number lives only in these two screens' memory until the daemon has answered; the
screens are then closed, so the number is gone before the next step is shown. The PIN never
leaves the keypad except in the identify request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ui.app import MemberSession
from ui.client import ApiError
from ui.screens.common import KeypadScreen
from ui.screens.errors import ErrorScreen, refusal

Then = Callable[[], None]


class PhoneScreen(KeypadScreen):
    TITLE_KEY = "identify.title"
    PROMPT_KEY = "keypad.phone"
    KIND = "phone"

    def __init__(self, then: Then) -> None:
        super().__init__()
        self._then = then

    def submit(self, value: str) -> None:
        self.app.push_screen(PinScreen(value, self._then))


class PinScreen(KeypadScreen):
    TITLE_KEY = "identify.title"
    PROMPT_KEY = "keypad.pin"
    KIND = "pin"

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
        self.kiosk.member = MemberSession(token=answer["session"], member=answer["member"])
        self._phone = ""
        self.app.pop_screen()  # this PIN screen
        self.app.pop_screen()  # the phone screen
        self._then()

    def _refused(self, exc: ApiError) -> None:
        self.clear_entry()
        self.app.push_screen(ErrorScreen(refusal(exc, self.kiosk.info.help_phone)))


def identified_then(app: Any, then: Then) -> None:
    """Run `then` now if a member is identified, else after phone and PIN."""
    if app.member is not None:
        then()
    else:
        app.push_screen(PhoneScreen(then))
