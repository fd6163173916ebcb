"""Console sections other than doors: alarms, tools, lost items, supplies, storage, sync.

Each is a list of rows with one or two actions; an action that needs one more answer (a
locker, a reason, a count) opens one small screen for it and comes back here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
from ui.screens.lostfound.lost import KIOSK_CLAIM_NOTE
from ui.screens.maintenance.console import Panel
from ui.screens.maintenance.doors import (
    DoorsPanel,
    LockerPickScreen,
    alarm_text,
    tool_label,
)
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
        client = self.kiosk.client
        alarms = await client.alarms(token=self.token)
        names = {str(t["id"]): tool_label(t) for t in await client.tools()}
        names |= {str(s["id"]): supply_name(s) for s in await client.supplies()}
        return [
            Row(
                alarm_text(a, names),
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


def supply_name(supply: dict[str, Any]) -> Labeller:
    return lambda i18n: i18n.pick(supply.get("name"), supply.get("name_en"))


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
    """After approving a claim, or replacing a lost or expired code: the pickup code for staff
    to pass on (shown this once; the station keeps no code in the clear)."""

    TITLE_KEY = "maint.claim.approved"

    def __init__(self, answer: dict[str, Any], title: str = "maint.claim.approved") -> None:
        super().__init__()
        self.answer = answer
        self._title = title

    def title_widget(self) -> TLabel:
        return TLabel(self._title, id="title")

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
            listed = {str(i.get("number")): i for i in await client.found()}
            return [
                Row(
                    _claim_text(c, listed.get(str(c.get("item")))),
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


def _claim_text(claim: dict[str, Any], item: dict[str, Any] | None) -> Labeller:
    """A claim: the item's number and what it is (in the screen's language), who claims it
    (masked), and what they said, unless it is the touchscreen's own note (English, for the
    log), which only repeats the listing."""
    description = str(claim.get("description", ""))
    said = "" if description.startswith(KIOSK_CLAIM_NOTE) else description[:40]

    def label(i18n: Translator) -> str:
        what = i18n.pick(item.get("category_zh"), item.get("category_en")) if item else ""
        return i18n.t(
            "maint.claim.row",
            item=claim.get("item", ""),
            what=" · ".join(p for p in (what, said) if p) or "—",
            who=claim.get("claimant", ""),
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


REISSUE_REASONS = ("lost", "expired", "not_shown")


class StoragePanel(ListPanel):
    """Overtime deposits to clear, and every waiting pickup (deposit or claim) whose owner
    needs a new code: a lost receipt, a code that ran out or was never seen."""

    EMPTY_KEY = "maint.storage.none"
    HINT_KEY = "maint.storage.hint"
    EVENT_PREFIXES = ("deposit_", "code_", "claim_")

    async def read(self) -> list[Row]:
        client, token = self.kiosk.client, self.token
        deposits = await client.staff_get("deposits/overtime", token)
        overtime = {d["locker"]: d for d in deposits}
        new_code = RowAction("maint.code.reissue", "reissue", "default")
        clear = RowAction("maint.storage.clear", "clear", "primary")
        rows = [
            Row(_pickup_text(p), p, f"code-{p['locker']}", (new_code,))
            for p in await client.pickups_waiting(token)
            if p["locker"] not in overtime
        ]
        for d in deposits:
            actions = (new_code, clear) if d.get("status") == "active" else (clear,)
            rows.append(Row(_deposit_text(d), d, str(d["id"]), actions))
        return rows

    def action(self, action: str, item: Any) -> None:
        if action == "reissue":
            self._reissue(str(item["locker"]))
            return
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

    def _reissue(self, locker: str) -> None:
        """Staff checked who is asking; the new code replaces the old one (audited)."""
        client, token = self.kiosk.client, self.token

        def shown(answer: dict[str, Any]) -> None:
            issued = {**answer, "code_expires_at": answer.get("expires_at")}
            self.app.push_screen(CodeIssuedScreen(issued, title="maint.code.title"))
            self.load()

        self.app.push_screen(
            ReasonScreen(
                "maint.code.why",
                "maint.code.reason",
                REISSUE_REASONS,
                lambda code: self.console.call(
                    lambda: client.reissue_code(locker, code, token), done=shown
                ),
            )
        )


def _pickup_text(pickup: dict[str, Any]) -> Labeller:
    def label(i18n: Translator) -> str:
        kind = "maint.code.deposit" if pickup.get("purpose") == "deposit" else "maint.code.claim"
        state = "maint.code.active" if pickup.get("code_status") == "active" else "maint.code.dead"
        return i18n.t(
            "maint.code.row",
            locker=pickup.get("locker", ""),
            kind=i18n.t(kind),
            state=i18n.t(state, until=_time(i18n, pickup.get("expires_at"))),
        )

    return label


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
        await box.mount_all(
            DataLabel(line.text, classes="sentence extra" if line.extra else "sentence")
            for line in sync_lines(status)
        )

    @on(Button.Pressed, "#sync-refresh")
    def _refresh(self, event: Button.Pressed) -> None:
        event.stop()
        self.load()


@dataclass(frozen=True)
class SyncLine:
    text: Labeller
    extra: bool = False
    """Left out on the 7 inch panel, whose 13 rows hold only what staff act on."""


def sync_lines(status: dict[str, Any]) -> list[SyncLine]:
    bundle = status.get("bundle") or {}
    error = status.get("last_error") or {}
    lines = [
        SyncLine(_t("maint.sync.enabled" if status.get("enabled") else "maint.sync.disabled")),
        SyncLine(_t("maint.sync.central", host=status.get("central") or "—"), extra=True),
        SyncLine(
            lambda i18n: i18n.t(
                "maint.sync.pending",
                count=status.get("pending", 0),
                lag=i18n.duration(float(status.get("lag_s") or 0)),
            )
        ),
        SyncLine(
            lambda i18n: i18n.t("maint.sync.last", when=_time(i18n, status.get("last_success_at")))
        ),
        SyncLine(
            lambda i18n: i18n.t(
                "maint.sync.bundle",
                version=bundle.get("version") if bundle.get("version") is not None else "—",
                status=_known(i18n, f"maint.sync.bundle.{bundle.get('status')}")
                or bundle.get("status", "—"),
            ),
            extra=True,
        ),
    ]
    if not error:
        return lines
    kind = f"maint.sync.kind.{error.get('kind')}"
    if kind in CATALOGUE:
        # Staff read what happened and what to do in their language; the daemon's own words
        # (English, for the technician and the log) follow as details.
        lines.append(SyncLine(lambda i18n: i18n.t("maint.sync.problem", what=i18n.t(kind))))
        if error.get("message"):
            lines.append(SyncLine(_t("maint.sync.detail", detail=error["message"]), extra=True))
        return lines
    detail = error.get("message", "")
    lines.append(SyncLine(_t("maint.sync.error", kind=error.get("kind", ""), detail=detail)))
    if error.get("advice"):
        lines.append(SyncLine(_t("maint.sync.advice", advice=error["advice"])))
    return lines


def _known(i18n: Translator, key: str) -> str | None:
    return i18n.t(key) if key in CATALOGUE else None


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
