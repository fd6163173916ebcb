"""Staff log in with their staff number and PIN; the session ends after the staff idle timeout.

The keypad is numeric: staff numbers with letters (S001) are typed as their digits after the
station's `[ui] staff_no_prefix`, which the keypad shows and puts in front.
"""

from __future__ import annotations

from typing import Any

from ui.app import StaffSession
from ui.client import ApiError
from ui.screens.common import KeypadScreen
from ui.screens.errors import ErrorScreen, refusal
from ui.screens.identify import WaitsForCard
from ui.widgets.keypad import Keypad


class StaffNumberScreen(WaitsForCard):
    """The staff number typed, or a staff badge presented on the reader; then the PIN."""

    TITLE_KEY = "maint.login"
    PROMPT_KEY = "keypad.staff_no"
    CARD_PROMPT_KEY = "keypad.staff_no_or_badge"
    KIND = "staff_no"

    def __init__(self) -> None:
        super().__init__("staff")

    def on_card(self, answer: dict[str, Any]) -> bool:
        if answer.get("kind") != "staff" or not answer.get("staff_no"):
            return False
        self.app.push_screen(StaffPinScreen(str(answer["staff_no"])))
        return False  # back on this screen (wrong PIN, Back), the badge is welcome again

    def keypad(self) -> Keypad:
        return Keypad(self.KIND, prefix=self.kiosk.ui.staff_no_prefix, id="keypad")

    def submit(self, value: str) -> None:
        self.app.push_screen(StaffPinScreen(value))


class StaffPinScreen(KeypadScreen):
    TITLE_KEY = "maint.login"
    PROMPT_KEY = "keypad.staff_pin"
    KIND = "pin"

    def __init__(self, staff_no: str) -> None:
        super().__init__()
        self.staff_no = staff_no

    def submit(self, value: str) -> None:
        staff_no = self.staff_no
        self.call(
            lambda: self.kiosk.client.staff_login(staff_no, value),
            done=self._logged_in,
            refused=self._refused,
        )

    def _logged_in(self, answer: dict[str, Any]) -> None:
        from ui.screens.maintenance.console import MaintenanceScreen

        self.kiosk.staff = StaffSession(
            token=str(answer["token"]),
            staff_no=str(answer.get("staff_no", self.staff_no)),
            name=str(answer.get("name", "")),
        )
        self.app.pop_screen()  # this PIN screen
        self.app.switch_screen(MaintenanceScreen())

    def _refused(self, exc: ApiError) -> None:
        self.clear_entry()
        self.app.push_screen(ErrorScreen(refusal(exc, self.kiosk.info.help_phone, member=False)))
