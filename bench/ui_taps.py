"""UI taps: from a tap to the next screen drawn, in a Pilot-driven run against a real daemon.

The touchscreen app (headless, 100x30) talks over HTTP to the real daemon on a simulated
16-door station stocked as the UI tests stock it (tests/ui helpers), and a loop of taps walks
Home -> borrow tools (its list loaded from the API) -> phone keypad -> back -> back -> Home.
Each sample runs from the tap until the new screen is current, its API calls have finished and
Pilot saw it drawn. The comparison is a bare Textual app's screen switch with no API behind it,
in the same run, clicked with Pilot.click (which also waits for the whole app to go idle, a
cost our finger-like Kiosk.tap avoids; so the bare figure is a ceiling, not a floor).

    python bench/ui_taps.py [--rounds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from textual.app import App, ComposeResult  # noqa: E402
from textual.screen import Screen  # noqa: E402
from textual.widgets import Button  # noqa: E402

from tests.simstation import running_station  # noqa: E402
from tests.ui.conftest import station_data, stock  # noqa: E402
from tests.ui.kiosk import FakeMonotonic, Kiosk, build_app  # noqa: E402

WALK = [
    ("#tile-borrow", "BorrowToolsScreen"),
    ("#choice-T-DRILL-1", "PhoneScreen"),
    ("#back", "BorrowToolsScreen"),
    ("#back", "HomeScreen"),
]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def drawn(kiosk: Kiosk, name: str) -> None:
    """Poll tightly (1 ms) for the screen and its finished API calls, then let Pilot draw."""
    deadline = time.monotonic() + 15
    while not (type(kiosk.screen).__name__ == name and not kiosk._busy()):
        if time.monotonic() > deadline:
            raise RuntimeError(f"no {name} within 15 s; screen is {type(kiosk.screen).__name__}")
        await asyncio.sleep(0.001)
    await kiosk.pilot.pause()


async def station_taps(rounds: int) -> list[float]:
    samples: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp:
        async with running_station(station_data(Path(tmp))) as st:
            await stock(st)
            app = build_app(st, monotonic=FakeMonotonic())
            async with app.run_test(size=(100, 30)) as pilot:
                kiosk = Kiosk(app, pilot, st)
                await kiosk.home()
                for _ in range(rounds):
                    for selector, name in WALK:
                        await kiosk.until(lambda s=selector: kiosk._tappable(s))
                        t = time.perf_counter()
                        await kiosk.tap(selector)
                        await drawn(kiosk, name)
                        samples.append((time.perf_counter() - t) * 1000)
    return samples


class _Other(Screen[None]):
    def compose(self) -> ComposeResult:
        yield Button("back", id="back")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()  # else it bubbles to the app, which would push the screen again
        self.app.pop_screen()


class _Bare(App[None]):
    def compose(self) -> ComposeResult:
        yield Button("next", id="next")

    def on_button_pressed(self) -> None:
        self.push_screen(_Other())


async def bare_taps(rounds: int) -> list[float]:
    """A click on a bare app: push a one-button screen, pop it again."""
    samples: list[float] = []
    app = _Bare()
    async with app.run_test(size=(100, 30)) as pilot:
        kiosk = Kiosk(app, pilot, None)  # type: ignore[arg-type]  # no station behind it
        await pilot.pause()
        for _ in range(rounds * 2):
            for selector, other in (("#next", True), ("#back", False)):
                await kiosk.until(lambda s=selector: kiosk._tappable(s), within=15)
                t = time.perf_counter()
                await pilot.click(selector)
                deadline = time.monotonic() + 15
                while isinstance(app.screen, _Other) != other:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"bare app: no screen switch after {selector}")
                    await asyncio.sleep(0.001)
                await pilot.pause()
                samples.append((time.perf_counter() - t) * 1000)
    return samples


def measure(rounds: int = 30) -> dict[str, Any]:
    ui = asyncio.run(station_taps(rounds))
    bare = asyncio.run(bare_taps(rounds))
    return {
        "taps": len(ui),
        "median": statistics.median(ui),
        "p95": pct(ui, 95),
        "bare_median": statistics.median(bare),
        "bare_p95": pct(bare, 95),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=30)
    args = ap.parse_args()
    r = measure(args.rounds)
    print(f"UI taps: {r['taps']} taps, each to the next screen drawn (API loads included)")
    print(f"  station app: median {r['median']:.1f} ms, p95 {r['p95']:.1f} ms")
    print(
        f"  bare Textual screen switch (Pilot.click, waits for idle): "
        f"median {r['bare_median']:.1f} ms, p95 {r['bare_p95']:.1f} ms"
    )
    print(f"  ratio of medians {r['median'] / r['bare_median']:.1f}x")


if __name__ == "__main__":
    main()
