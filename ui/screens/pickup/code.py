"""Pick up with a code: one tap on Home, the code, and the door opens.

The code alone finds its locker (the daemon keeps waiting codes unique), and the entry goes
on by itself with its last digit, as at a parcel locker. A wrong code says how many tries this
screen has left and offers to type it again; with none left, or while the station has paused
code checks, it says when to come back and how to reach staff, and offers no retry.
"""

from __future__ import annotations

from ui.client import ApiError
from ui.screens.common import KeypadScreen
from ui.screens.door import FlowScreen
from ui.screens.errors import ErrorScreen, refusal


class PickupCodeScreen(KeypadScreen):
    TITLE_KEY = "home.pickup"
    PROMPT_KEY = "pickup.code"
    KIND = "code"
    GOES_ON = True

    def submit(self, value: str) -> None:
        def refused(exc: ApiError) -> None:
            self.clear_entry()
            self.app.push_screen(ErrorScreen(refusal(exc, self.kiosk.info.help_phone)))

        self.call(
            lambda: self.kiosk.client.pickup(value),
            done=lambda flow: self.app.switch_screen(FlowScreen(flow)),
            refused=refused,
        )
