"""Console sections other than doors: alarms, tools, lost items, supplies, storage, sync.

Each is a list of rows with one or two actions; an action that needs one more answer (a
locker, a reason, a count) opens one small screen for it and comes back here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Digits

from ui.client import ApiError
from ui.i18n import CATALOGUE, Translator
from ui.messages import LiveEvent, LockersChanged
from ui.screens.base import KioskScreen
from ui.screens.common import Choice, ChoiceScreen, KeypadScreen
from ui.screens.maintenance.console import Panel
from ui.screens.maintenance.doors import DoorsPanel, LockerPickScreen, alarm_text
from ui.screens.maintenance.members import MembersPanel
from ui.screens.maintenance.selftest import SelfTestPanel
from ui.widgets.rows import PagedRows, Row, RowAction
from ui.widgets.text import DataLabel, Labeller, TButton, TLabel

Work = Callable[[], Any]


def _t(key: str, **params: Any) -> Labeller:
    return lambda i18n: i18n.t(key, **params)


def _time(i18n: Translator, ts: Any) -> str:
    return i18n.when(float(ts)) if isinstance(ts, int | float) else "—"


class ListPanel(Panel):
    """A panel that is one paged list, reloaded after each action and on related events."""

    EMPTY_KEY: ClassVar[str] = "choice.empty"
    HINT_KEY: ClassVar[str] = ""
    EVENT_PREFIXES: ClassVar[tuple[str, ...]] = ()

    def compose(self) -> ComposeResult:
        if self.HINT_KEY:
            yield TLabel(self.HINT_KEY, classes="sentence")
        yield PagedRows(self.EMPTY_KEY, page_size=4)

    def load(self) -> None:
        self.console.call(self.read, done=self._loaded, busy=False)

    async def read(self) -> list[Row]:
        return []

    async def _loaded(self, rows: Sequence[Row]) -> None:
        await self.query_one(PagedRows).show_rows(rows)

    def live(self, event: LiveEvent | LockersChanged) -> None:
        if isinstance(event, LiveEvent) and event.type.startswith(self.EVENT_PREFIXES):
            self.load()

    def act(self, work: Work) -> None:
        """Run one staff action, then read the list again."""
        self.console.call(work, done=lambda _: self.load())

    def on_paged_rows_action(self, event: PagedRows.Action) -> None:
        event.stop()
        self.action(event.action, event.item)

    def action(self, action: str, item: Any) -> None:
        """A row's button was tapped."""


# --- alarms ---------------------------------------------------------------------------------


class AlarmsPanel(ListPanel):
    EMPTY_KEY = "maint.alarms.none"
    EVENT_PREFIXES = ("alarm_",)

    async def read(self) -> list[Row]:
        alarms = await self.kiosk.client.alarms(token=self.token)
        return [
            Row(
                alarm_text(a),
                a,
                str(a["id"]),
                (RowAction("maint.ack", "ack", "primary"),) if a.get("state") == "raised" else (),
            )
            for a in alarms
        ]

    def action(self, action: str, item: Any) -> None:
        alarm_id = int(item["id"])
        self.act(lambda: self.kiosk.client.ack_alarm(alarm_id, self.token))


# --- tools ----------------------------------------------------------------------------------


def tool_row_text(tool: dict[str, Any]) -> Labeller:
    def label(i18n: Translator) -> str:
        name = i18n.pick(tool.get("name_zh"), tool.get("name_en"))
        status = str(tool.get("status", ""))
        key = f"tools.status.{status}"
        status_text = i18n.t(key) if key in CATALOGUE else status
        return f"{name} · {tool.get('locker') or '—'} · {status_text}"

    return label


class ToolsPanel(ListPanel):
    EMPTY_KEY = "tools.none"
    EVENT_PREFIXES = ("tool_", "loan_")

    async def read(self) -> list[Row]:
        tools = await self.kiosk.client.tools()
        self._tools = tools
        rows = []
        for tool in tools:
            status = tool.get("status")
            if status == "retired":
                continue
            actions = []
            if status == "maintenance":
                actions.append(RowAction("maint.tool.repaired", "repaired", "primary"))
            if status in ("maintenance", "missing"):
                actions.append(RowAction("maint.tool.restock", "restock"))
            if status != "on_loan":
                actions.append(RowAction("maint.tool.assign", "assign"))
            rows.append(Row(tool_row_text(tool), tool, str(tool["id"]), actions))
        return rows

    def action(self, action: str, item: Any) -> None:
        tool_id = str(item["id"])
        client, token = self.kiosk.client, self.token
        note = {"note": "at the touchscreen"}
        if action == "repaired":
            self.act(lambda: client.staff_post(f"tools/{tool_id}/repaired", token, note))
        elif action == "restock":
            self.act(lambda: client.staff_post(f"tools/{tool_id}/restock", token, note))
        elif action == "assign":
            taken = {str(t.get("locker")) for t in self._tools if t.get("locker")}
            free = [
                lid
                for lid, lk in self.kiosk.live.lockers.items()
                if lk.get("purpose") == "tool" and lid not in taken
            ]

            def assign(locker: str) -> None:
                self.act(
                    lambda: client.staff_post(f"tools/{tool_id}/assign", token, {"locker": locker})
                )

            self.app.push_screen(LockerPickScreen(free, assign))


# --- lost and found -------------------------------------------------------------------------

REJECT_REASONS = ("mismatch", "unreachable", "other")
DISPOSITIONS = ("police", "donated", "discarded")


class ReasonScreen(ChoiceScreen):
    """Staff pick one preset reason; the choice is sent as its code (English, for the log)."""

    TITLE_KEY = "maint.reason"
    COLUMNS = 3
    PAGE_SIZE = 6

    def __init__(self, prompt: str, prefix: str, codes: Sequence[str], then: Callable[[str], Any]):
        super().__init__()
        self.prompt_key = prompt
        self.prefix = prefix
        self.codes = codes
        self.then = then

    async def on_mount(self) -> None:
        self.query_one("#prompt", TLabel).show(self.prompt_key)
        await self.show_choices([Choice(_t(f"{self.prefix}.{c}"), c, c) for c in self.codes])

    def chosen(self, value: Any) -> None:
        self.app.pop_screen()
        self.then(str(value))


class CodeIssuedScreen(KioskScreen):
    """After approving a claim: the pickup code for staff to pass on to the claimant."""

    TITLE_KEY = "maint.claim.approved"

    def __init__(self, answer: dict[str, Any]) -> None:
        super().__init__()
        self.answer = answer

    def body(self) -> ComposeResult:
        a = self.answer
        with Vertical(classes="panel"):
            if a.get("code"):
                yield TLabel(
                    "maint.claim.code", {"locker": a.get("locker") or ""}, classes="headline"
                )
                yield Digits(str(a["code"]), id="issued-code")
                expires = a.get("code_expires_at")
                yield DataLabel(
                    lambda i18n: i18n.t("receipt.deposit.until", until=_time(i18n, expires)),
                    classes="sentence",
                )
            else:
                yield TLabel("maint.claim.in_person", classes="headline")
        with Horizontal(classes="actions"):
            yield TButton("nav.done", id="done", variant="primary", classes="action")

    @on(Button.Pressed, "#done")
    def _done(self, event: Button.Pressed) -> None:
        event.stop()
        self.app.pop_screen()


class LostPanel(Panel):
    """Claims to decide, valuables to collect, expired items to remove: one list at a time."""

    LISTS: ClassVar[tuple[str, ...]] = ("claims", "valuables", "expired")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.current = "claims"

    def compose(self) -> ComposeResult:
        with Horizontal(id="lost-lists", classes="subsections"):
            for name in self.LISTS:
                yield TButton(f"maint.lost.{name}", id=f"lost-{name}", classes="sublist")
        yield PagedRows("maint.lost.none", page_size=3)

    @on(Button.Pressed, ".sublist")
    def _pick(self, event: Button.Pressed) -> None:
        event.stop()
        self.current = (event.button.id or "").removeprefix("lost-")
        self.load()

    def load(self) -> None:
        for button in self.query(".sublist").results(Button):
            button.set_class(button.id == f"lost-{self.current}", "selected")
        self.console.call(self._read, done=self._loaded, busy=False)

    async def _read(self) -> list[Row]:
        client, token = self.kiosk.client, self.token
        if self.current == "claims":
            claims = await client.staff_get("claims", token)
            return [
                Row(
                    _claim_text(c),
                    c,
                    str(c["id"]),
                    (
                        RowAction("maint.approve", "approve", "primary"),
                        RowAction("maint.reject", "reject"),
                    ),
                )
                for c in claims
            ]
        if self.current == "valuables":
            items = await client.staff_get("found/valuables", token)
            return [
                Row(
                    _found_text(i, "collect_by"),
                    i,
                    str(i["number"]),
                    (RowAction("maint.collect", "collect", "primary"),),
                )
                for i in items
            ]
        items = await client.staff_get("found/expired", token)
        return [
            Row(
                _found_text(i, "expires_at"),
                i,
                str(i["number"]),
                (RowAction("maint.remove", "remove", "primary"),),
            )
            for i in items
        ]

    async def _loaded(self, rows: list[Row]) -> None:
        await self.query_one(PagedRows).show_rows(rows)

    def live(self, event: LiveEvent | LockersChanged) -> None:
        if isinstance(event, LiveEvent) and event.type.startswith(("found_", "claim_")):
            self.load()

    def on_paged_rows_action(self, event: PagedRows.Action) -> None:
        event.stop()
        client, token, item = self.kiosk.client, self.token, event.item
        act = self._act
        if event.action == "approve":
            claim_id = item["id"]
            self.console.call(
                lambda: client.staff_post(f"claims/{claim_id}/approve", token, {"note": ""}),
                done=self._approved,
            )
        elif event.action == "reject":
            claim_id = item["id"]
            self.app.push_screen(
                ReasonScreen(
                    "maint.reject.why",
                    "maint.reject",
                    REJECT_REASONS,
                    lambda code: act(
                        lambda: client.staff_post(
                            f"claims/{claim_id}/reject", token, {"reason": code}
                        )
                    ),
                )
            )
        elif event.action == "collect":
            number = item["number"]
            act(lambda: client.staff_post(f"found/{number}/collect", token, {"note": ""}))
        elif event.action == "remove":
            number = item["number"]
            self.app.push_screen(
                ReasonScreen(
                    "maint.remove.why",
                    "maint.disposition",
                    DISPOSITIONS,
                    lambda code: act(
                        lambda: client.staff_post(
                            f"found/{number}/remove",
                            token,
                            {"disposition": code, "reason": "at the touchscreen"},
                        )
                    ),
                )
            )

    def _act(self, work: Work) -> None:
        self.console.call(work, done=lambda _: self.load())

    def _approved(self, answer: dict[str, Any]) -> None:
        self.load()
        self.app.push_screen(CodeIssuedScreen(answer))


def _claim_text(claim: dict[str, Any]) -> Labeller:
    def label(i18n: Translator) -> str:
        return i18n.t(
            "maint.claim.row",
            item=claim.get("item", ""),
            who=claim.get("claimant", ""),
            what=str(claim.get("description", ""))[:40],
        )

    return label


def _found_text(item: dict[str, Any], deadline: str) -> Labeller:
    def label(i18n: Translator) -> str:
        category = i18n.pick(item.get("category_zh"), item.get("category_en"))
        return i18n.t(
            "maint.found.row",
            number=item.get("number", ""),
            category=category,
            locker=item.get("locker") or "—",
            when=_time(i18n, item.get(deadline)),
        )

    return label


# --- supplies -------------------------------------------------------------------------------


class SupplyCountScreen(KeypadScreen):
    """Staff type how many were added (restock) or how many there are now (count)."""

    TITLE_KEY = "maint.section.supplies"
    PROMPT_KEY = "keypad.count"
    KIND = "count"

    def __init__(self, supply: dict[str, Any], mode: str, then: Callable[[int], Any]) -> None:
        super().__init__()
        self.supply = supply
        self.mode = mode
        self.then = then

    def body(self) -> ComposeResult:
        supply = self.supply
        key = "maint.supply.adding" if self.mode == "restock" else "maint.supply.counting"
        yield DataLabel(
            lambda i18n: i18n.t(
                key,
                name=i18n.pick(supply.get("name"), supply.get("name_en")),
                count="—" if supply.get("count") is None else supply["count"],
            ),
            classes="sentence",
        )
        yield from super().body()

    def submit(self, value: str) -> None:
        self.app.pop_screen()
        self.then(int(value))


class SuppliesPanel(ListPanel):
    EMPTY_KEY = "home.supplies.none"
    EVENT_PREFIXES = ("supply_", "supplies_")

    async def read(self) -> list[Row]:
        supplies = await self.kiosk.client.supplies()
        return [
            Row(
                _supply_text(s),
                s,
                str(s["id"]),
                (
                    RowAction("maint.supply.restock", "restock", "primary"),
                    RowAction("maint.supply.count", "count"),
                ),
            )
            for s in supplies
        ]

    def action(self, action: str, item: Any) -> None:
        client, token, supply_id = self.kiosk.client, self.token, str(item["id"])

        def send(n: int) -> None:
            if action == "restock":
                body = {"added": n, "note": "at the touchscreen"}
            else:
                body = {"count": n, "note": "at the touchscreen"}
            self.act(lambda: client.staff_post(f"supplies/{supply_id}/{action}", token, body))

        self.app.push_screen(SupplyCountScreen(item, action, send))


def _supply_text(supply: dict[str, Any]) -> Labeller:
    def label(i18n: Translator) -> str:
        key = "maint.supply.row.low" if supply.get("low") else "maint.supply.row"
        return i18n.t(
            key,
            name=i18n.pick(supply.get("name"), supply.get("name_en")),
            count="—" if supply.get("count") is None else supply["count"],
            unit=supply.get("unit", ""),
            threshold=supply.get("threshold", 0),
        )

    return label


# --- storage overtime -----------------------------------------------------------------------

CLEAR_REASONS = ("owner", "office")


class StoragePanel(ListPanel):
    EMPTY_KEY = "maint.storage.none"
    HINT_KEY = "maint.storage.hint"
    EVENT_PREFIXES = ("deposit_",)

    async def read(self) -> list[Row]:
        deposits = await self.kiosk.client.staff_get("deposits/overtime", self.token)
        return [
            Row(
                _deposit_text(d),
                d,
                str(d["id"]),
                (RowAction("maint.storage.clear", "clear", "primary"),),
            )
            for d in deposits
        ]

    def action(self, action: str, item: Any) -> None:
        client, token, deposit_id = self.kiosk.client, self.token, item["id"]
        self.app.push_screen(
            ReasonScreen(
                "maint.storage.why",
                "maint.storage.reason",
                CLEAR_REASONS,
                lambda code: self.act(
                    lambda: client.staff_post(
                        f"deposits/{deposit_id}/clear", token, {"reason": code}
                    )
                ),
            )
        )


def _deposit_text(dep: dict[str, Any]) -> Labeller:
    def label(i18n: Translator) -> str:
        kind = "maint.contents.phone" if dep.get("kind") == "phone_charge" else "maint.contents.bag"
        return i18n.t(
            "maint.storage.row",
            locker=dep.get("locker", ""),
            kind=i18n.t(kind),
            who=dep.get("depositor", ""),
            since=_time(i18n, dep.get("started_at")),
        )

    return label


# --- sync -----------------------------------------------------------------------------------


class SyncPanel(Panel):
    def compose(self) -> ComposeResult:
        yield Vertical(id="sync-lines")
        with Horizontal(classes="actions"):
            yield TButton("maint.sync.refresh", id="sync-refresh", classes="action")

    def load(self) -> None:
        self.console.call(
            lambda: self.kiosk.client.sync_status(self.token),
            done=self._loaded,
            refused=self._refused,
            busy=False,
        )

    async def _refused(self, exc: ApiError) -> None:
        if exc.status != 404:
            self.kiosk.show_refusal(exc)
            return
        box = self.query_one("#sync-lines", Vertical)
        await box.remove_children()
        await box.mount(TLabel("maint.sync.unavailable", classes="sentence"))

    async def _loaded(self, status: dict[str, Any]) -> None:
        box = self.query_one("#sync-lines", Vertical)
        await box.remove_children()
        await box.mount_all(DataLabel(lbl, classes="sentence") for lbl in sync_lines(status))

    @on(Button.Pressed, "#sync-refresh")
    def _refresh(self, event: Button.Pressed) -> None:
        event.stop()
        self.load()


def sync_lines(status: dict[str, Any]) -> list[Labeller]:
    bundle = status.get("bundle") or {}
    error = status.get("last_error") or {}
    lines: list[Labeller] = [
        _t("maint.sync.enabled" if status.get("enabled") else "maint.sync.disabled"),
        _t("maint.sync.central", host=status.get("central") or "—"),
        lambda i18n: i18n.t(
            "maint.sync.pending",
            count=status.get("pending", 0),
            lag=i18n.duration(float(status.get("lag_s") or 0)),
        ),
        lambda i18n: i18n.t("maint.sync.last", when=_time(i18n, status.get("last_success_at"))),
        _t(
            "maint.sync.bundle",
            version=bundle.get("version") if bundle.get("version") is not None else "—",
            status=bundle.get("status", "—"),
        ),
    ]
    if error:
        lines.append(
            _t("maint.sync.error", kind=error.get("kind", ""), detail=error.get("message", ""))
        )
        if error.get("advice"):
            lines.append(_t("maint.sync.advice", advice=error["advice"]))
    return lines


PANELS: dict[str, type[Panel]] = {
    "doors": DoorsPanel,
    "alarms": AlarmsPanel,
    "tools": ToolsPanel,
    "lost": LostPanel,
    "members": MembersPanel,
    "supplies": SuppliesPanel,
    "storage": StoragePanel,
    "sync": SyncPanel,
    "selftest": SelfTestPanel,
}
