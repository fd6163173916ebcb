"""Borrow and return a tool: pick it from a grid, (identify,) confirm, then the door step.

The grid shows every tool the station lends, unavailable ones too but disabled with the reason
(on loan until when, being repaired, its locker out of service), so a resident sees that the
drill exists and when it comes back instead of wondering whether the station has one.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import Button

from ui.i18n import Translator
from ui.messages import LiveEvent, LockersChanged
from ui.screens.base import KioskScreen
from ui.screens.common import Choice, ChoiceScreen
from ui.screens.door import FlowScreen
from ui.screens.errors import ErrorScreen, Problem, line
from ui.screens.identify import identified_then
from ui.state import LiveState
from ui.widgets.text import DataLabel, Labeller, TButton, TLabel

Mode = Literal["borrow", "return"]
HIDDEN_STATUSES = frozenset({"retired"})


def tool_name(tool: dict[str, Any]) -> Labeller:
    return lambda i18n: i18n.pick(tool.get("name_zh"), tool.get("name_en"))


def why_not(tool: dict[str, Any], live: LiveState) -> Labeller | None:
    """Why this tool cannot be borrowed now, or None if it can."""
    status = str(tool.get("status", ""))
    locker = tool.get("locker")
    if status == "on_loan":
        due = tool.get("due_at")
        if isinstance(due, int | float):
            return lambda i18n: i18n.t("tools.on_loan_until", due=i18n.when(float(due)))
        return lambda i18n: i18n.t("tools.status.on_loan")
    if status != "available":
        return lambda i18n: i18n.t(f"tools.status.{status}")
    if not locker:
        return lambda i18n: i18n.t("tools.no_locker")
    if not live.usable(str(locker)):
        return lambda i18n: i18n.t("tools.locker_out")
    return None


def tool_tile(tool: dict[str, Any], reason: Labeller | None, mode: Mode) -> Labeller:
    name = tool_name(tool)
    locker = str(tool.get("locker") or "")

    def label(i18n: Translator) -> str:
        if mode == "return":
            due = tool.get("due_at")
            second = (
                i18n.t("tools.due", due=i18n.when(float(due)))
                if isinstance(due, int | float)
                else i18n.t("tools.status.on_loan")
            )
        elif reason is not None:
            second = reason(i18n)
        elif tool.get("staff_approval_required"):
            second = i18n.t("tools.needs_approval")
        else:
            second = i18n.t("tools.available")
        return f"{name(i18n)}\n{locker} · {second}" if locker else f"{name(i18n)}\n{second}"

    return label


class ToolGridScreen(ChoiceScreen):
    COLUMNS = 3
    PAGE_SIZE = 6
    RELOAD_DELAY_S: ClassVar[float] = 0.3
    MODE: ClassVar[Mode] = "borrow"

    def __init__(self) -> None:
        super().__init__()
        self.mode = self.MODE
        self._tools: list[dict[str, Any]] = []
        self._reload_timer: Timer | None = None

    def on_mount(self) -> None:
        self.reload()

    def reload(self) -> None:
        self._reload_timer = None
        status = "on_loan" if self.mode == "return" else None
        self.call(lambda: self.kiosk.client.tools(status=status), done=self._loaded)

    async def _loaded(self, tools: list[dict[str, Any]]) -> None:
        self._tools = [t for t in tools if t.get("status") not in HIDDEN_STATUSES]
        await self._rebuild()

    async def _rebuild(self) -> None:
        live = self.kiosk.live
        choices = []
        for tool in self._tools:
            if self.mode == "return":
                reason = None
                enabled = tool.get("status") == "on_loan"
            else:
                reason = why_not(tool, live)
                enabled = reason is None
            choices.append(
                Choice(tool_tile(tool, reason, self.mode), tool, str(tool["id"]), enabled)
            )
        # Available first, so the first page is what can be taken now.
        choices.sort(key=lambda c: not c.enabled)
        await self.show_choices(choices)

    async def on_lockers_changed(self, _: LockersChanged) -> None:
        await self._rebuild()

    def on_live_event(self, event: LiveEvent) -> None:
        if not event.type.startswith(("door_", "alarm_")) and self._reload_timer is None:
            self._reload_timer = self.set_timer(self.RELOAD_DELAY_S, self.reload)

    def chosen(self, value: Any) -> None:
        tool: dict[str, Any] = value
        if self.mode == "return":
            self.app.push_screen(ReturnConfirmScreen(tool))
        elif tool.get("staff_approval_required"):
            # Said before identification: whether staff approved is the person's to know.
            self.app.push_screen(ApprovalNoticeScreen(tool))
        else:
            borrow_after_identifying(self.kiosk, tool)


def borrow_after_identifying(app: Any, tool: dict[str, Any]) -> None:
    """Identify, then at once what depends on the person (an overdue tool, the loan limit),
    and only then the confirmation."""

    def then() -> None:
        member = app.member
        record = member.member if member else {}
        overdue = list(record.get("overdue") or [])
        limit = record.get("max_loans")
        if overdue:
            app.push_screen(ErrorScreen(overdue_problem(overdue)))
        elif isinstance(limit, int) and len(record.get("loans") or []) >= limit:
            app.push_screen(ErrorScreen(loan_limit_problem(app.info.help_phone)))
        else:
            app.push_screen(BorrowConfirmScreen(tool))

    identified_then(app, then, "borrow")


class ApprovalNoticeScreen(KioskScreen):
    """A tool that needs staff approval: said before the person types anything."""

    TITLE_KEY = "home.borrow"

    def __init__(self, tool: dict[str, Any]) -> None:
        super().__init__()
        self.tool = tool

    def body(self) -> ComposeResult:
        with Vertical(classes="panel"):
            yield DataLabel(tool_name(self.tool), id="tool-name", classes="headline")
            yield TLabel("tools.approval.title", classes="sentence warn")
            phone = self.kiosk.info.help_phone or "—"
            yield TLabel("tools.approval.how", {"phone": phone}, classes="sentence")
        with Horizontal(classes="actions"):
            yield TButton("tools.approval.go", id="approved", variant="primary", classes="action")
            yield TButton("nav.home", id="home", classes="action")

    @on(Button.Pressed, "#approved")
    def _approved(self, event: Button.Pressed) -> None:
        event.stop()
        self.app.pop_screen()
        borrow_after_identifying(self.kiosk, self.tool)

    @on(Button.Pressed, "#home")
    def _home(self, event: Button.Pressed) -> None:
        event.stop()
        self.kiosk.go_home()


class BorrowToolsScreen(ToolGridScreen):
    TITLE_KEY = "home.borrow"
    PROMPT_KEY = "tools.pick"
    EMPTY_KEY = "tools.none"
    MODE = "borrow"


class ReturnToolsScreen(ToolGridScreen):
    TITLE_KEY = "home.return"
    PROMPT_KEY = "tools.pick_return"
    EMPTY_KEY = "tools.none_on_loan"
    MODE = "return"


def loan_limit_problem(phone: str) -> Problem:
    lines = [line("error.loan_limit.body", phone=phone or "—")]
    return Problem("error.loan_limit", lines, retry=False, code="loan_limit")


def overdue_problem(loans: list[dict[str, Any]]) -> Problem:
    lines: list[Labeller] = [line("error.overdue.body")]
    for loan in loans:
        lines.append(_overdue_line(loan))
    return Problem("error.overdue", lines, retry=False, code="overdue")


def _overdue_line(loan: dict[str, Any]) -> Labeller:
    def label(i18n: Translator) -> str:
        name = i18n.pick(loan.get("tool_name_zh"), loan.get("tool_name_en"))
        due = loan.get("due_at")
        when = i18n.when(float(due)) if isinstance(due, int | float) else "—"
        return i18n.t("error.overdue.item", name=name, due=when)

    return label


class ToolConfirmScreen(KioskScreen):
    """The one last look before the door opens: the tool, its rules, and one big button."""

    ACTION_KEY: ClassVar[str] = "tools.confirm_borrow"

    def __init__(self, tool: dict[str, Any]) -> None:
        super().__init__()
        self.tool = tool

    def body(self) -> ComposeResult:
        with Vertical(classes="panel"):
            yield DataLabel(tool_name(self.tool), id="tool-name", classes="headline")
            yield from self.details()
        with Horizontal(classes="actions"):
            yield TButton(self.ACTION_KEY, id="confirm", variant="primary", classes="action")

    def details(self) -> ComposeResult:
        return iter(())

    @on(Button.Pressed, "#confirm")
    def _confirm(self, event: Button.Pressed) -> None:
        event.stop()
        self.confirm()

    def confirm(self) -> None:
        """The big button was tapped."""

    def to_door(self, flow: dict[str, Any]) -> None:
        self.app.switch_screen(FlowScreen(flow, tool_name(self.tool)))


class BorrowConfirmScreen(ToolConfirmScreen):
    TITLE_KEY = "home.borrow"
    ACTION_KEY = "tools.confirm_borrow"

    def details(self) -> ComposeResult:
        tool = self.tool
        unit_s = 86_400 if tool.get("loan_unit", "days") == "days" else 3_600
        seconds = int(tool.get("loan_period") or 0) * unit_s
        yield DataLabel(
            lambda i18n: i18n.t("tools.loan_period", period=i18n.duration(seconds)),
            id="loan-period",
            classes="sentence",
        )
        accessories = [str(a) for a in tool.get("accessories") or []]
        if accessories:
            yield DataLabel(
                lambda i18n: i18n.t(
                    "tools.accessories", items=i18n.t("list.sep").join(accessories)
                ),
                classes="sentence",
            )
        notice = str(tool.get("safety_notice") or "")
        if notice:
            yield DataLabel(
                lambda i18n: i18n.t("tools.safety", notice=notice), classes="sentence warn"
            )
        member = self.kiosk.member
        if member is not None:
            masked = member.masked
            yield TLabel("tools.borrower", {"who": masked}, id="borrower", classes="sentence")

    def confirm(self) -> None:
        member = self.kiosk.member
        if member is None:
            self.kiosk.go_home()
            return
        tool_id, token = str(self.tool["id"]), member.token
        self.call(lambda: self.kiosk.client.borrow(tool_id, token), done=self.to_door)


class ReturnConfirmScreen(ToolConfirmScreen):
    TITLE_KEY = "home.return"
    ACTION_KEY = "tools.confirm_return"

    def details(self) -> ComposeResult:
        locker = str(self.tool.get("locker") or "")
        yield TLabel("tools.return_to", {"locker": locker}, classes="sentence")

    def confirm(self) -> None:
        member = self.kiosk.member
        tool_id = str(self.tool["id"])
        token = member.token if member else None
        self.call(lambda: self.kiosk.client.give_back(tool_id, token), done=self.to_door)
