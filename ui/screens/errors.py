"""Errors in plain words, each with what to do next.

The daemon refuses with a machine code (docs/api-services.md); `refusal()` turns each code into
a title and sentences from the catalogue. The daemon's own English sentence is shown only for a
code this screen does not know, so a new refusal is still explained rather than hidden.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button

from ui.client import ApiError
from ui.i18n import Translator
from ui.screens.base import KioskScreen
from ui.widgets.text import DataLabel, Labeller, TButton, TLabel

AfterError = Callable[[], None]


@dataclass
class Problem:
    """What went wrong, in catalogue keys; `lines` may need the Translator (dates)."""

    title: str
    lines: Sequence[Labeller] = field(default_factory=tuple)
    show_help: bool = True
    retry: bool = True
    """True offers "try again" (back to the step that failed) beside "home"."""
    code: str = ""


def line(key: str, **params: Any) -> Labeller:
    """A sentence from the catalogue; callable params are given the Translator first."""

    def label(i18n: Translator) -> str:
        values = {k: v(i18n) if callable(v) else v for k, v in params.items()}
        return i18n.t(key, **values)

    return label


def _when(ts: Any) -> Callable[[Translator], str]:
    return lambda i18n: i18n.when(float(ts))


def refusal(exc: ApiError, phone: str, *, member: bool = True) -> Problem:
    """The problem to show for a refusal from the daemon.

    A member's wrong PIN also says how to get an account or a new PIN, whether or not the
    number is registered (the daemon answers both alike); staff logins (`member=False`) don't.
    """
    code = exc.code or ""
    body = exc.body
    tries = body.get("tries_left")
    if code == "wrong_pin":
        lines = [line("error.wrong_pin.what")]
        if isinstance(tries, int):
            lines.insert(0, line("error.wrong_pin.tries", tries=tries))
        if member:
            lines.append(line("error.wrong_pin.account", phone=phone or "—"))
        return Problem("error.wrong_pin", lines, show_help=False, code=code)
    if code == "locked":
        until = body.get("locked_until")
        if isinstance(until, int | float):
            lines = [line("error.locked.body", until=_when(until))]
        else:
            lines = [line("error.locked.soon")]
        return Problem("error.locked", lines, retry=False, code=code)
    if code == "guessing_throttled" and isinstance(body.get("locked_until"), int | float):
        lines = [line("error.guessing.body", until=_when(body["locked_until"]))]
        return Problem("error.guessing", lines, retry=False, code=code)
    if code == "wrong_code":
        if isinstance(tries, int):
            lines = [line("error.code.tries", tries=tries), line("error.code.check")]
        else:
            lines = [line("error.code.body")]
        # no "try again" once no try is left (the next answer would be a pause)
        return Problem("error.code", lines, show_help=False, retry=tries != 0, code=code)
    if code == "codes_locked" and isinstance(body.get("locked_until"), int | float):
        lines = [
            line("error.codes_locked.body", until=_when(body["locked_until"]), phone=phone or "—")
        ]
        return Problem("error.code", lines, show_help=False, retry=False, code=code)
    simple = SIMPLE.get(code)
    if simple is not None:
        title, sentence, retry = simple
        return Problem(title, [line(sentence, phone=phone or "—")], retry=retry, code=code)
    if exc.status == 401:
        return Problem("error.session", [line("error.session.body")], retry=False, code=code)
    return Problem(
        "error.refused", [line("error.refused.body", reason=exc.detail)], retry=True, code=code
    )


# code -> (title key, sentence key, offer "try again")
SIMPLE: dict[str, tuple[str, str, bool]] = {
    "member_session_expired": ("error.session", "error.session.member", False),
    "member_suspended": ("error.suspended", "error.suspended.body", False),
    "overdue": ("error.overdue", "error.overdue.body", False),
    "loan_limit": ("error.loan_limit", "error.loan_limit.body", False),
    "approval_required": ("error.approval", "error.approval.body", True),
    "tool_unavailable": ("error.tool_unavailable", "error.tool_unavailable.body", True),
    "locker_unavailable": ("error.board_offline", "error.locker_unavailable.body", True),
    "no_free_locker": ("error.no_locker", "error.no_locker.body", False),
    "code_expired": ("error.code", "error.code.expired", False),
    "code_used": ("error.code", "error.code.used", False),
    "code_exhausted": ("error.code", "error.code.exhausted", False),
    "already_claimed": ("error.claimed", "error.claimed.body", False),
    "duplicate_claim": ("error.claimed", "error.duplicate_claim.body", False),
    "not_claimable": ("error.claimed", "error.not_claimable.body", False),
    "invalid": ("error.invalid", "error.invalid.body", True),
    "members_unavailable": ("error.refused", "error.members_unavailable.body", False),
    "station_restoring": ("error.refused", "error.station_restoring.body", False),
    "not_found": ("error.refused", "error.not_found.body", True),
    "invalid_state": ("error.refused", "error.invalid_state.body", True),
    "door_not_opened": ("error.door_failed", "error.door_failed.body", False),
    "card_unknown": ("error.card_unknown", "error.card_unknown.body", True),
    "pin_change_required": ("error.refused", "error.pin_change_required.body", False),
    "pin_required": ("error.refused", "error.pin_required.body", True),
    "card_taken": ("error.refused", "error.card_taken.body", False),
    "no_card": ("error.refused", "error.no_card.body", True),
    "staff_badge": ("error.refused", "error.staff_badge.body", True),
    "not_staff_badge": ("error.refused", "error.not_staff_badge.body", True),
    "door_not_closed": ("error.door_open", "error.door_open.body", False),
}


class ErrorScreen(KioskScreen):
    """One problem, full screen: title, what happened, what to do, and where to go next."""

    TITLE_KEY = "error.title"

    def __init__(self, problem: Problem, *, on_retry: AfterError | None = None) -> None:
        super().__init__()
        self.problem = problem
        self._on_retry = on_retry

    def body(self) -> ComposeResult:
        with Vertical(id="error-panel", classes="panel error"):
            yield TLabel(self.problem.title, id="error-title", classes="headline")
            for i, labeller in enumerate(self.problem.lines):
                yield DataLabel(labeller, id=f"error-line-{i}", classes="sentence")
            if self.problem.show_help and self.kiosk.info.help_phone:
                yield TLabel(
                    "error.help", {"phone": self.kiosk.info.help_phone}, classes="sentence help"
                )
        with Horizontal(classes="actions"):
            if self.problem.retry:
                yield TButton("nav.retry", id="retry", variant="primary", classes="action")
            yield TButton("nav.home", id="home", classes="action")

    def on_mount(self) -> None:
        """Said once, in the language shown: the title, then what happened and what to do."""
        i18n = self.i18n
        self.kiosk.voice.error(i18n.t(self.problem.title), [ln(i18n) for ln in self.problem.lines])

    def go_back(self) -> None:
        self._retry()

    @on(Button.Pressed, "#retry")
    def _retry(self) -> None:
        self.app.pop_screen()
        if self._on_retry is not None:
            self._on_retry()

    @on(Button.Pressed, "#home")
    def _home(self) -> None:
        self.kiosk.go_home()
