"""The hardware self-test: open each empty door in turn and report what the sensors saw.

Only lockers that hold nothing (no tool, deposit or found item), whose board answers and that
are not marked faulty are opened, one at a time, each with the reason "self-test" in the usage
log. For each door the report says whether its sensor saw it open after the unlock and closed
again after staff shut it; a door that never opens is also raised as door_jammed by the daemon.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button

from ui.client import ApiError, DaemonUnreachable
from ui.i18n import Translator
from ui.screens.errors import SIMPLE
from ui.screens.maintenance.console import Panel
from ui.screens.maintenance.doors import locker_contents
from ui.widgets.text import DataLabel, Labeller, TButton, TLabel

log = logging.getLogger(__name__)

SELF_TEST_REASON = "self-test"


@dataclass(frozen=True)
class DoorResult:
    locker: str
    outcome: str
    """opened_closed, not_opened, not_closed, refused, skipped_full, skipped_out."""
    detail: str = ""
    """A catalogue key saying why (the refusal's title), never the daemon's own words."""

    @property
    def ok(self) -> bool:
        return self.outcome == "opened_closed"

    def label(self) -> Labeller:
        locker, outcome, detail = self.locker, self.outcome, self.detail

        def text(i18n: Translator) -> str:
            mark = "✓" if self.ok else "·" if outcome.startswith("skipped") else "✗"
            line = i18n.t(f"selftest.{outcome}", locker=locker)
            return f"{mark} {line}" + (f" ({i18n.t(detail)})" if detail else "")

        return text


class SelfTestPanel(Panel):
    OPEN_WITHIN_S: ClassVar[float] = 10.0
    CLOSE_WITHIN_S: ClassVar[float] = 90.0
    STEP_S: ClassVar[float] = 0.05

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.results: list[DoorResult] = []
        self.running = False

    def compose(self) -> ComposeResult:
        yield TLabel("selftest.hint", id="selftest-status", classes="sentence")
        yield Vertical(id="selftest-results")
        with Horizontal(classes="actions"):
            yield TButton("selftest.start", id="selftest-start", variant="primary")

    @on(Button.Pressed, "#selftest-start")
    def _start(self, event: Button.Pressed) -> None:
        event.stop()
        if not self.running:
            self.running = True
            self.query_one("#selftest-start", Button).disabled = True
            self.run_worker(self._run, group="selftest", exclusive=True)

    async def _run(self) -> None:
        status = self.query_one("#selftest-status", TLabel)
        box = self.query_one("#selftest-results", Vertical)
        await box.remove_children()
        self.results = []
        try:
            contents = await self.kiosk.api(locker_contents(self.kiosk.client, self.token))
            for lid, lk in list(self.kiosk.live.lockers.items()):
                if lid in contents:
                    result = DoorResult(lid, "skipped_full")
                elif lk.get("faulty") or not lk.get("board_online") or lk.get("door") != "closed":
                    result = DoorResult(lid, "skipped_out")
                else:
                    status.show("selftest.testing", locker=lid)
                    result = await self._test(lid)
                self.results.append(result)
                await box.mount(DataLabel(result.label(), classes="sentence result"))
        except (DaemonUnreachable, ApiError) as exc:
            status.show("selftest.stopped", reason=str(exc))
            return
        finally:
            self.running = False
            if self.is_mounted:
                self.query_one("#selftest-start", Button).disabled = False
        tested = [r for r in self.results if not r.outcome.startswith("skipped")]
        status.show(
            "selftest.summary",
            ok=sum(r.ok for r in tested),
            tested=len(tested),
            skipped=len(self.results) - len(tested),
        )

    async def _test(self, lid: str) -> DoorResult:
        live = self.kiosk.live
        try:
            unlock = await self.kiosk.api(
                self.kiosk.client.open_locker(lid, SELF_TEST_REASON, self.token)
            )
        except ApiError as exc:
            log.info("self-test: %s refused: %s", lid, exc.detail)
            title = SIMPLE.get(exc.code or "")
            return DoorResult(lid, "refused", title[0] if title else "")
        self.kiosk.touched()
        seq = int(unlock["unlock_seq"])
        if not await self._wait(lambda: live.opened_since(lid, seq), self.OPEN_WITHIN_S):
            return DoorResult(lid, "not_opened")
        self.query_one("#selftest-status", TLabel).show("selftest.close", locker=lid)
        if not await self._wait(lambda: live.door(lid) == "closed", self.CLOSE_WITHIN_S):
            return DoorResult(lid, "not_closed")
        self.kiosk.touched()
        return DoorResult(lid, "opened_closed")

    async def _wait(self, check: Callable[[], bool], within: float) -> bool:
        """Wait until the live state (kept by the stream) shows what we wait for."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while loop.time() < deadline:
            if check():
                return True
            # Staff are at the doors, not the screen: keep the session from idling out.
            self.kiosk.touched()
            await asyncio.sleep(self.STEP_S)
        return bool(check())
