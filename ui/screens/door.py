"""The door step of every flow: "Door A03 is open: take the tool and close the door".

It follows the flow the daemon runs (opening -> open -> completed, or cancelled when the door
never opened) by long-polling the flow and listening to the live stream for its door, then
turns into the receipt (due time, item number or pickup code), which stays until Done or the
idle timeout. A return asks its one question (works / needs repair / parts missing) here too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Digits

from ui.client import ApiError, DaemonUnreachable
from ui.i18n import Translator
from ui.messages import FlowUpdate, LiveEvent
from ui.screens.base import KioskScreen
from ui.screens.errors import ErrorScreen, Problem, line, refusal
from ui.widgets.text import DataLabel, Labeller, TButton, TLabel

TERMINAL = frozenset({"completed", "cancelled", "abandoned", "failed"})
WAIT_S = 20
INSTRUCTIONS = {
    "loan": "door.do.loan",
    "return": "door.do.return",
    "handin": "door.do.handin",
    "deposit": "door.do.deposit",
    "pickup": "door.do.pickup",
}
CONDITIONS = ("works", "needs_repair", "parts_missing")
SENSOR_QUESTIONS = {"item_missing": ("yes", "no"), "item_left": ("open_again", "leave_it")}
"""Questions a compartment's item sensor raises (deposits closed empty, pickups left full)."""
CLOSE_REMINDERS = 3
"""How often a door left open is named again ("please close door A03") before the screen
alone keeps asking (the daemon alarms staff of a door left open)."""

Subject = Callable[[Translator], str]
DOOR_FAILED = {
    "loan": ("error.door_failed.loan", False),
    "return": ("error.door_failed.return", False),
    "pickup": ("error.door_failed.pickup", False),
    "deposit": ("error.door_failed.again", True),
    "handin": ("error.door_failed.again", True),
}
"""A door that did not open, by flow: what the person can do next, and whether to retry."""


class FlowScreen(KioskScreen):
    TITLE_KEY = "door.title"

    def __init__(self, flow: dict[str, Any], subject: Subject | None = None) -> None:
        super().__init__()
        self.flow = dict(flow)
        self.subject = subject
        self._drawing = asyncio.Lock()
        self._secret_asked = False
        self._opened_said = False
        self._reminded_at: float | None = None
        self._reminders = 0

    @property
    def state(self) -> str:
        return str(self.flow.get("state", "opening"))

    @property
    def locker(self) -> str:
        return str(self.flow.get("locker") or "")

    @property
    def kind(self) -> str:
        return str(self.flow.get("kind", ""))

    def body(self) -> ComposeResult:
        with Vertical(id="door-panel", classes="panel"):
            with Horizontal(id="door-head"):
                yield Digits(self.locker, id="locker-digits")
                with Vertical(id="door-words"):
                    if self.subject is not None:
                        yield DataLabel(self.subject, id="door-subject", classes="subject")
                    yield TLabel("door.opening", {"locker": self.locker}, id="door-headline")
                    yield TLabel(INSTRUCTIONS.get(self.kind, "door.do.pickup"), id="door-do")
            yield DataLabel(self._door_line(), id="door-state", classes="strip")
        with Vertical(id="answer", classes="hidden"):
            yield TLabel("door.ask", id="answer-prompt", classes="prompt")
            with Horizontal(id="answer-buttons"):
                for condition in CONDITIONS:
                    yield TButton(f"door.answer.{condition}", id=f"answer-{condition}")
            for question, choices in SENSOR_QUESTIONS.items():
                with Horizontal(id=f"choices-{question}", classes="choices hidden"):
                    for choice in choices:
                        yield TButton(f"door.choice.{choice}", id=f"choice-{choice}")
        yield Vertical(id="receipt", classes="hidden")
        # Hidden as a whole until the receipt: an empty bar would still cover what is above it.
        with Horizontal(id="done-bar", classes="actions hidden"):
            yield TButton("nav.done", id="done", variant="primary", classes="action")

    def on_mount(self) -> None:
        if self.kind == "pickup":
            # A pickup flow exists only once the daemon took its code.
            self.kiosk.voice.code_accepted()
        self._show()
        self._follow()
        self.set_interval(self.kiosk.tick_s, self._remind_to_close)

    def holds_person(self) -> bool:
        return self.state not in TERMINAL or self.kiosk.live.door(self.locker) == "open"

    def go_back(self) -> None:
        # The door is the daemon's business now; leaving only leaves the screen.
        self.kiosk.go_home()

    # --- following the flow -------------------------------------------------------------------

    def _follow(self) -> None:
        if self.state not in TERMINAL and self.state != "awaiting_answer":
            self.run_worker(self._poll, group="follow", exclusive=True)
        elif self.state == "completed":
            self.run_worker(self._fetch_secret, group="secret", exclusive=True)

    async def _fetch_secret(self) -> None:
        """The stream may tell of the end first, without the flow's secret result (a pickup
        code), which the daemon gives once, to this screen's key: ask for it."""
        if not self.flow.get("key") or self._secret_asked:
            return
        self._secret_asked = True
        try:
            flow = await self.kiosk.api(
                self.kiosk.client.flow(str(self.flow["id"]), key=self.flow.get("key"))
            )
        except (DaemonUnreachable, ApiError):
            return
        self._apply(flow)

    async def _poll(self) -> None:
        flow_id = str(self.flow["id"])
        while self.state not in TERMINAL and self.state != "awaiting_answer":
            try:
                flow = await self.kiosk.api(
                    self.kiosk.client.flow(
                        flow_id, wait=WAIT_S, state=self.state, key=self.flow.get("key")
                    )
                )
            except DaemonUnreachable:
                return
            except ApiError as exc:
                self.app.push_screen(ErrorScreen(refusal(exc, self.kiosk.info.help_phone)))
                return
            self._apply(flow)
        if self.state == "completed":
            await self._fetch_secret()

    def on_flow_update(self, message: FlowUpdate) -> None:
        if message.flow.get("id") == self.flow.get("id"):
            self._apply(message.flow)

    def _apply(self, flow: dict[str, Any]) -> None:
        """Merge a newer view of the flow. The stream's copy lacks secrets (a deposit's code),
        so results are merged, and a receipt is drawn again when the kiosk's own copy adds
        to it."""
        before, before_result = self.state, self.flow.get("result") or {}
        result = {**before_result, **(flow.get("result") or {})}
        # The key came with the POST only: later views (null there) must not drop it.
        self.flow = {**self.flow, **flow, "result": result, "key": self.flow.get("key")}
        if self.state != before or (self.state == "completed" and result != before_result):
            self._show()
        if before == "open" and self.state in ("awaiting_answer", "completed"):
            self.kiosk.voice.door_closed(self.locker)
        if self.state == "completed" and before != "completed" and not self._secret_asked:
            self.run_worker(self._fetch_secret, group="secret", exclusive=True)

    def on_live_event(self, message: LiveEvent) -> None:
        if message.locker == self.locker and message.type.startswith("door_"):
            self.query_one("#door-state", DataLabel).relabel(self._door_line())

    def _door_line(self) -> Labeller:
        locker = self.locker
        door = self.kiosk.live.door(locker)
        return lambda i18n: i18n.t("door.state", locker=locker, state=i18n.t(f"door.is.{door}"))

    # --- what the screen shows in each state --------------------------------------------------

    def _show(self) -> None:
        state = self.state
        if state in ("cancelled", "failed"):
            self._fail("door_not_opened")
            return
        if state == "abandoned":
            self._fail("door_not_closed")
            return
        headline = self.query_one("#door-headline", TLabel)
        if state == "opening":
            headline.show("door.opening", locker=self.locker)
        elif state == "open":
            headline.show("door.open", locker=self.locker)
            self._say_opened()
        elif state == "awaiting_answer":
            headline.show("door.closed", locker=self.locker)
        self.query_one("#door-do").set_class(state != "open", "hidden")
        self.query_one("#answer").set_class(state != "awaiting_answer", "hidden")
        # The question replaces the door panel: at the kiosk's 13 rows both do not fit.
        asking = state == "awaiting_answer"
        if asking or state in ("opening", "open"):
            self.query_one("#door-panel").set_class(asking, "hidden")
        question = str((self.flow.get("question") or {}).get("id", "condition"))
        sensor = question in SENSOR_QUESTIONS
        self.query_one("#answer-prompt", TLabel).show(
            f"door.ask.{question}" if sensor else "door.ask"
        )
        self.query_one("#answer-buttons").set_class(sensor, "hidden")
        for other in SENSOR_QUESTIONS:
            self.query_one(f"#choices-{other}").set_class(other != question, "hidden")
        if state == "completed":
            # The receipt is new: its reader gets the whole idle time from now.
            self.kiosk.touched()
            self.run_worker(self._show_receipt, group="receipt")

    # --- what the screen says -----------------------------------------------------------------

    def _say_opened(self) -> None:
        if self._opened_said:
            return
        self._opened_said = True
        self._reminded_at = self.kiosk.now()
        self.kiosk.voice.door_opened(self.locker, INSTRUCTIONS.get(self.kind, "door.do.pickup"))

    def _remind_to_close(self) -> None:
        """While the flow waits for the door to close, name the door again now and then."""
        if self.state != "open" or self._reminded_at is None:
            return
        if self._reminders >= CLOSE_REMINDERS:
            return
        now = self.kiosk.now()
        if now - self._reminded_at >= self.kiosk.ui.close_reminder_s:
            self._reminded_at = now
            self._reminders += 1
            self.kiosk.voice.close_door(self.locker)

    def _fail(self, code: str) -> None:
        phone = self.kiosk.info.help_phone or "—"
        if code == "door_not_opened":
            # What to do next depends on the flow: a borrower cannot choose another door, a
            # pickup's code still works, a deposit or hand-in gets another locker on retry.
            body, retry = DOOR_FAILED.get(self.kind, ("error.door_failed.body", False))
            lines = [line(body, phone=phone)]
            problem = Problem("error.door_failed", lines, retry=retry, code=code)
        else:
            key = "error.door_open"
            problem = Problem(key, [line(f"{key}.body", phone=phone)], retry=False, code=code)
        self.app.switch_screen(ErrorScreen(problem))

    async def _show_receipt(self) -> None:
        async with self._drawing:
            await self._draw_receipt()

    async def _draw_receipt(self) -> None:
        self.query_one("#door-panel").add_class("hidden")
        receipt = self.query_one("#receipt", Vertical)
        await receipt.remove_children()
        lines = receipt_widgets(self.kind, self.locker, self.flow.get("result") or {})
        if self.subject is not None:
            lines.insert(0, DataLabel(self.subject, classes="subject"))
        await receipt.mount_all(lines)
        receipt.remove_class("hidden")
        self.query_one("#done-bar").remove_class("hidden")

    # --- taps -----------------------------------------------------------------------------------

    @on(Button.Pressed, "#answer-buttons Button")
    def _answer(self, event: Button.Pressed) -> None:
        event.stop()
        condition = (event.button.id or "").removeprefix("answer-")
        flow_id = str(self.flow["id"])

        def answered(flow: dict[str, Any]) -> None:
            self._apply(flow)
            self._follow()

        key = self.flow.get("key")
        self.call(lambda: self.kiosk.client.answer_return(flow_id, condition, key), done=answered)

    @on(Button.Pressed, ".choices Button")
    def _choose(self, event: Button.Pressed) -> None:
        event.stop()
        choice = (event.button.id or "").removeprefix("choice-")
        flow_id = str(self.flow["id"])

        def answered(flow: dict[str, Any]) -> None:
            self._apply(flow)
            self._follow()

        key = self.flow.get("key")
        self.call(lambda: self.kiosk.client.answer_choice(flow_id, choice, key), done=answered)

    @on(Button.Pressed, "#done")
    def _done(self, event: Button.Pressed) -> None:
        event.stop()
        self.kiosk.go_home()


def receipt_widgets(kind: str, locker: str, result: dict[str, Any]) -> list[Any]:
    """The lines of the receipt for a completed flow of `kind`."""
    out: list[Any] = []
    if kind == "loan":
        out.append(TLabel("receipt.loan", classes="headline"))
        due = result.get("due_at")
        if isinstance(due, int | float):
            out.append(DataLabel(_due(float(due)), id="receipt-due", classes="receipt-key"))
        out.append(TLabel("receipt.loan.how", classes="sentence"))
    elif kind == "return":
        out.append(TLabel("receipt.return", classes="headline"))
        if result.get("condition") in ("needs_repair", "parts_missing"):
            out.append(TLabel("receipt.return.repair", classes="sentence"))
    elif kind == "handin" and result.get("released"):
        out.append(TLabel("receipt.handin.released", {"locker": locker}, classes="headline"))
    elif kind == "handin":
        out.append(TLabel("receipt.handin", classes="headline"))
        out.append(TLabel("receipt.handin.number", classes="sentence"))
        out.append(Digits(str(result.get("number", "")), id="receipt-number"))
        if result.get("valuable"):
            out.append(TLabel("receipt.handin.valuable", classes="sentence"))
    elif kind == "deposit" and result.get("released"):
        out.append(TLabel("receipt.deposit.released", {"locker": locker}, classes="headline"))
    elif kind == "deposit":
        out.append(TLabel("receipt.deposit", {"locker": locker}, classes="headline"))
        out.append(TLabel("receipt.deposit.code", classes="sentence"))
        out.append(Digits(str(result.get("code", "")), id="receipt-code"))
        expires = result.get("code_expires_at")
        if isinstance(expires, int | float):
            out.append(DataLabel(_until(float(expires)), id="receipt-until", classes="sentence"))
        out.append(TLabel("receipt.deposit.keep", classes="sentence"))
    else:
        out.append(TLabel("receipt.pickup", classes="headline"))
        if result.get("item_left"):
            out.append(TLabel("receipt.pickup.item_left", classes="sentence"))
    return out


def _due(ts: float) -> Labeller:
    return lambda i18n: i18n.t("receipt.loan.due", due=i18n.when(ts))


def _until(ts: float) -> Labeller:
    return lambda i18n: i18n.t("receipt.deposit.until", until=i18n.when(ts))
