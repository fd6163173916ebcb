"""The maintenance screen's sync section when sync fails: what happened and what to do in the
screen's language, the daemon's own words as details, every line and button on the panel at
every grid in both languages (tests/ui/layout.py `problems`)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.simstation import running_station
from tests.ui.conftest import station_data, stock
from tests.ui.kiosk import FakeMonotonic, Kiosk, api_get, build_app, wait_api
from tests.ui.layout import at_every_grid
from tests.ui.test_maintenance import staff_at


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_a_failing_sync_is_said_in_the_screens_language(
    tmp_path: Path, language: str
) -> None:
    data = station_data(tmp_path)
    # Nothing listens there: every exchange fails as a network problem.
    data["sync"] = {"url": f"http://127.0.0.1:{_closed_port()}", "token": "t" * 32}
    async with running_station(data) as st:
        await stock(st)

        async def failed() -> bool:
            status = (await api_get(st, "/api/v1/telemetry", role="staff")).get("sync") or {}
            return (status.get("last_error") or {}).get("kind") == "network"

        await wait_api(failed, what="sync to fail")
        app = build_app(st, monotonic=FakeMonotonic(), language=language)
        async with app.run_test(size=(85, 18)) as pilot:
            kiosk = Kiosk(app, pilot, st)
            await kiosk.home()
            await staff_at(kiosk, "sync")
            words = {"zh": "连不上中心。请检查 4G 路由器", "en": "Cannot reach the central office"}
            await kiosk.sees(words[language])
            await kiosk.sees("技术员" if language == "zh" else "technician")
            bad: list[str] = []
            await at_every_grid(kiosk, bad)
            assert not bad, "\n".join(bad)
