"""Members at the maintenance screen: register, reset a PIN, cards, deactivate; staff badges.

The resident types their own phone number and chooses their PIN (twice) on the keypad; the
staff member logged in confirms, and the daemon logs each step with the staff actor. The full
number lives only in these screens' memory until the daemon has answered; afterwards the
screens show the masked form the daemon returns. A card is never typed here: binding waits for
the card to be presented on the station's reader, and its number stays inside the daemon.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Literal

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Button

from ui.client import ApiError
from ui.screens.base import KioskScreen
from ui.screens.common import KeypadScreen, PinTwice
from ui.screens.errors import ErrorScreen, refusal
from ui.screens.maintenance.console import Panel
from ui.widgets.keypad import Keypad
from ui.widgets.text import DataLabel, TButton, TLabel

Purpose = Literal["register", "reset", "card", "deactivate"]
PURPOSES: tuple[Purpose, ...] = ("register", "reset", "card", "deactivate")
ACTIONS = (*PURPOSES, "badge")
"""The panel's buttons: the four member flows, and staff badges."""
REASON = "at the maintenance screen"


def masked(phone: str) -> str:
    """The typed number as the screens may show it (138****5678)."""
    return f"{phone[:3]}****{phone[-4:]}"


class MembersPanel(Panel):
    """Large buttons: each member flow starts with the resident typing their phone number;
    the staff badge flow with the staff number."""

    def compose(self) -> ComposeResult:
        yield TLabel("maint.members.hint", classes="sentence")
        with Grid(id="member-actions"):
            for purpose in ACTIONS:
                yield TButton(
                    f"maint.members.{purpose}",
                    id=f"member-{purpose}",
                    classes="member-action",
                    variant="primary" if purpose == "register" else "default",
                )

    @on(Button.Pressed, ".member-action")
    def _start(self, event: Button.Pressed) -> None:
        event.stop()
        purpose = (event.button.id or "").removeprefix("member-")
        if purpose == "badge":
            self.app.push_screen(BadgeNumberScreen())
        else:
            self.app.push_screen(MemberPhoneScreen(purpose))  # type: ignore[arg-type]


class MemberStep(KeypadScreen):
    """A keypad step of the members flows; its title names the flow."""

    def __init__(self, purpose: Purpose) -> None:
        super().__init__()
        self.purpose = purpose

    def title_widget(self) -> TLabel:
        return TLabel(f"maint.members.{self.purpose}", id="title")

    @property
    def token(self) -> str:
        staff = self.kiosk.staff
        return staff.token if staff else ""

    def refused(self, exc: ApiError) -> None:
        self.clear_entry()
        self.app.push_screen(ErrorScreen(refusal(exc, self.kiosk.info.help_phone)))


class MemberPhoneScreen(MemberStep):
    PROMPT_KEY = "maint.members.phone"
    KIND = "phone"

    def submit(self, value: str) -> None:
        if self.purpose == "register":
            self.app.push_screen(NewPinScreen(self.purpose, value, None))
            return
        client, token = self.kiosk.client, self.token
        self.call(
            lambda: client.staff_post("members/lookup", token, {"phone": value}),
            done=self._found,
            refused=self.refused,
        )

    def _found(self, member: dict[str, Any]) -> None:
        self.clear_entry()
        if self.purpose == "reset":
            self.app.push_screen(NewPinScreen("reset", "", member))
        elif self.purpose == "card":
            self.app.push_screen(MemberCardScreen(member))
        else:
            self.app.push_screen(DeactivateScreen(member))


class NewPinScreen(MemberStep, PinTwice):
    """The resident chooses a PIN; the second screen asks for it again."""

    PROMPT_KEY = "maint.members.pin"

    def __init__(
        self, purpose: Purpose, phone: str, member: dict[str, Any] | None, first: str = ""
    ) -> None:
        super().__init__(purpose)
        self.phone = phone
        self.member = member
        self.first = first

    def again(self, first: str) -> NewPinScreen:
        return NewPinScreen(self.purpose, self.phone, self.member, first)

    def chosen(self, pin: str) -> None:
        if self.purpose == "register":
            self.app.push_screen(ConfirmRegisterScreen(self.phone, pin))
            return
        assert self.member is not None
        member_id, client, token = self.member["member_id"], self.kiosk.client, self.token
        self.call(
            lambda: client.staff_post(f"members/{member_id}/pin", token, {"pin": pin}),
            done=lambda m: self.app.push_screen(DoneScreen("maint.members.pin_done", m)),
            refused=self.refused,
        )


class ConfirmRegisterScreen(KioskScreen):
    """Staff check the number shown and confirm; the daemon registers the member."""

    TITLE_KEY = "maint.members.register"

    def __init__(self, phone: str, pin: str) -> None:
        super().__init__()
        self._phone = phone
        self._pin = pin

    def body(self) -> ComposeResult:
        shown = masked(self._phone)
        with Vertical(classes="panel"):
            yield TLabel("maint.members.confirm", {"masked": shown}, classes="headline")
            yield TLabel("maint.members.confirm.staff", classes="sentence")
        with Horizontal(classes="actions"):
            yield TButton("nav.cancel", id="cancel", classes="action")
            yield TButton("maint.members.do_register", id="confirm", variant="primary",
                          classes="action")  # fmt: skip

    @on(Button.Pressed, "#cancel")
    def _cancel(self, event: Button.Pressed) -> None:
        event.stop()
        self.back_to_console()

    @on(Button.Pressed, "#confirm")
    def _confirm(self, event: Button.Pressed) -> None:
        event.stop()
        staff = self.kiosk.staff
        token = staff.token if staff else ""
        body = {"phone": self._phone, "pin": self._pin, "kind": "resident"}
        self.call(
            lambda: self.kiosk.client.staff_post("members", token, body),
            done=self._registered,
        )

    def _registered(self, member: dict[str, Any]) -> None:
        self._phone = self._pin = ""
        self.app.push_screen(DoneScreen("maint.members.registered", member, offer_card=True))

    def back_to_console(self) -> None:
        back_to_console(self.app)


def back_to_console(app: Any) -> None:
    """Close the members flow's screens (their numbers and PINs go with them)."""
    from ui.screens.maintenance.console import MaintenanceScreen

    while len(app.screen_stack) > 1 and not isinstance(app.screen, MaintenanceScreen):
        app.pop_screen()


class MemberScreen(KioskScreen):
    """One member, by masked number, with the actions of one flow."""

    TITLE_KEY = "maint.members.title"
    ACTIONS: ClassVar[tuple[tuple[str, str, str], ...]] = ()
    """(button id, label key, variant)."""

    def __init__(self, member: dict[str, Any]) -> None:
        super().__init__()
        self.member = member

    @property
    def token(self) -> str:
        staff = self.kiosk.staff
        return staff.token if staff else ""

    def lines(self) -> list[DataLabel]:
        return [
            DataLabel(
                lambda i18n: i18n.t(
                    "maint.members.who",
                    masked=self.member.get("masked", ""),
                    status=i18n.t(f"maint.members.status.{self.member.get('status', 'active')}"),
                    cards=self.member.get("cards", 0),
                ),
                id="member-who",
                classes="headline",
            )
        ]

    def body(self) -> ComposeResult:
        with Vertical(classes="panel"):
            yield from self.lines()
        with Horizontal(classes="actions"):
            for button_id, key, variant in self.ACTIONS:
                yield TButton(key, id=button_id, variant=variant, classes="action")

    def go_back(self) -> None:
        back_to_console(self.app)

    def show_member(self, member: dict[str, Any]) -> None:
        self.member = member
        self.query_one("#member-who", DataLabel).retranslate()


class DoneScreen(MemberScreen):
    """What was done, for whom (masked), and a way on (bind a card after registering)."""

    def __init__(self, key: str, member: dict[str, Any], *, offer_card: bool = False) -> None:
        super().__init__(member)
        self.key = key
        self.ACTIONS = ((("bind", "maint.members.bind", "default"),) if offer_card else ()) + (
            ("done", "nav.done", "primary"),
        )

    def lines(self) -> list[DataLabel]:
        return [TLabel(self.key, classes="headline"), *super().lines()]  # type: ignore[list-item]

    @on(Button.Pressed, "#done")
    def _done(self, event: Button.Pressed) -> None:
        event.stop()
        back_to_console(self.app)

    @on(Button.Pressed, "#bind")
    def _bind(self, event: Button.Pressed) -> None:
        event.stop()
        self.app.push_screen(MemberCardScreen(self.member))


class MemberCardScreen(MemberScreen):
    """Bind a card by presenting it on the reader, or remove the member's cards."""

    ACTIONS = (
        ("unbind", "maint.members.unbind", "default"),
        ("bind", "maint.members.bind", "primary"),
    )

    def lines(self) -> list[DataLabel]:
        return [*super().lines(), TLabel("maint.members.card_hint", classes="sentence")]  # type: ignore[list-item]

    @on(Button.Pressed, "#unbind")
    def _unbind(self, event: Button.Pressed) -> None:
        event.stop()
        member_id, client, token = self.member["member_id"], self.kiosk.client, self.token
        self.call(
            lambda: client.request("DELETE", f"/api/v1/members/{member_id}/cards", token=token),
            done=self.show_member,
        )

    @on(Button.Pressed, "#bind")
    def _bind(self, event: Button.Pressed) -> None:
        event.stop()
        member_id = self.member["member_id"]
        self.app.push_screen(
            PresentCardScreen(
                f"/api/v1/members/{member_id}/cards/read",
                str(self.member.get("masked", "")),
                self.show_member,
            )
        )


class PresentCardScreen(KioskScreen):
    """ "Present the card now": the daemon waits for one read and binds it to the member or
    staff account `path` names; Cancel tells the daemon, so a card presented later binds
    nothing."""

    TITLE_KEY = "maint.members.bind"

    def __init__(self, path: str, who: str, then: Callable[[dict[str, Any]], Any]) -> None:
        super().__init__()
        self.path = path
        self.who = who
        self.then = then

    def body(self) -> ComposeResult:
        with Vertical(classes="panel"):
            yield TLabel("card.present", id="present", classes="headline")
            yield TLabel("maint.members.present_for", {"who": self.who}, classes="sentence")
        with Horizontal(classes="actions"):
            yield TButton("nav.cancel", id="cancel", classes="action")

    def on_mount(self) -> None:
        staff = self.kiosk.staff
        token = staff.token if staff else ""
        path = self.path
        self.call(
            lambda: self.kiosk.client.post(path, {}, token=token, slow=True),
            done=self._bound,
            refused=self._refused,
            busy=False,
            group="card",
        )

    def _bound(self, member: dict[str, Any]) -> None:
        self.app.pop_screen()
        self.then(member)

    def _refused(self, exc: ApiError) -> None:
        self.app.pop_screen()
        self.kiosk.show_refusal(exc)

    @on(Button.Pressed, "#cancel")
    def _cancel(self, event: Button.Pressed) -> None:
        event.stop()
        self.workers.cancel_all()
        self.app.run_worker(self.kiosk.client.card_cancel(), group="card-cancel",
                            exit_on_error=False)  # fmt: skip
        self.app.pop_screen()


class DeactivateScreen(MemberScreen):
    ACTIONS = (
        ("cancel", "nav.cancel", "default"),
        ("deactivate", "maint.members.do_deactivate", "error"),
    )

    @on(Button.Pressed, "#cancel")
    def _cancel(self, event: Button.Pressed) -> None:
        event.stop()
        back_to_console(self.app)

    @on(Button.Pressed, "#deactivate")
    def _deactivate(self, event: Button.Pressed) -> None:
        event.stop()
        member_id, client, token = self.member["member_id"], self.kiosk.client, self.token
        body = {"status": "suspended", "reason": REASON}
        self.call(
            lambda: client.request(
                "PATCH", f"/api/v1/members/{member_id}", json_body=body, token=token
            ),
            done=lambda m: self.app.push_screen(DoneScreen("maint.members.deactivated", m)),
        )


# --- staff badges ----------------------------------------------------------------------------


class BadgeNumberScreen(KeypadScreen):
    """Whose badge: the staff number, typed (with the station's staff number prefix)."""

    TITLE_KEY = "maint.members.badge"
    PROMPT_KEY = "keypad.staff_no"
    KIND = "staff_no"

    def keypad(self) -> Keypad:
        return Keypad(self.KIND, prefix=self.kiosk.ui.staff_no_prefix, id="keypad")

    def submit(self, value: str) -> None:
        staff = self.kiosk.staff
        client, token = self.kiosk.client, staff.token if staff else ""

        def refused(exc: ApiError) -> None:
            self.clear_entry()
            self.kiosk.show_refusal(exc)

        self.call(
            lambda: client.staff_get(f"staff/{value}/cards", token),
            done=lambda badge: self.app.push_screen(BadgeScreen(badge)),
            refused=refused,
        )


class BadgeScreen(KioskScreen):
    """One staff account's badges (a count): bind one by presenting it, or remove them all."""

    TITLE_KEY = "maint.members.badge"

    def __init__(self, badge: dict[str, Any]) -> None:
        super().__init__()
        self.badge = badge

    def body(self) -> ComposeResult:
        with Vertical(classes="panel"):
            yield DataLabel(
                lambda i18n: i18n.t(
                    "maint.members.badge_who",
                    staff_no=self.badge.get("staff_no", ""),
                    name=self.badge.get("name", ""),
                    cards=self.badge.get("cards", 0),
                ),
                id="badge-who",
                classes="headline",
            )
            yield TLabel("maint.members.badge_hint", classes="sentence")
        with Horizontal(classes="actions"):
            yield TButton("maint.members.unbind", id="unbind", classes="action")
            yield TButton("maint.members.bind_badge", id="bind", variant="primary",
                          classes="action")  # fmt: skip

    @property
    def _path(self) -> str:
        return f"/api/v1/staff/{self.badge.get('staff_no', '')}/cards"

    def show_badge(self, badge: dict[str, Any]) -> None:
        self.badge = badge
        self.query_one("#badge-who", DataLabel).retranslate()

    def go_back(self) -> None:
        back_to_console(self.app)

    @on(Button.Pressed, "#unbind")
    def _unbind(self, event: Button.Pressed) -> None:
        event.stop()
        staff = self.kiosk.staff
        client, token, path = self.kiosk.client, staff.token if staff else "", self._path
        self.call(lambda: client.request("DELETE", path, token=token), done=self.show_badge)

    @on(Button.Pressed, "#bind")
    def _bind(self, event: Button.Pressed) -> None:
        event.stop()
        who = f"{self.badge.get('staff_no', '')} {self.badge.get('name', '')}"
        self.app.push_screen(PresentCardScreen(f"{self._path}/read", who, self.show_badge))
