"""A full phone number or card number never leaves the station, and never shows on its screen.

tests/station/services/test_privacy_e2e.py already searches a day at one station: its API
answers, the live stream, log lines, the usage log and the database files. This suite covers
what that one does not reach: what sync delivers to a real central (central's database file,
every answer of its office API, its /metrics), the station's /metrics, telemetry and every
GET route for every role, the file `station backup` writes, and the touchscreen itself (the
text actually drawn on the terminal, frame after frame, once a number has been typed).
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console

from central.storage.sqlite import SQLiteStorage
from drivers.sim.reader import SerialReaderSim
from station.ops.backup import backup
from tests.central.fleetkit import LiveCentral, live_central, synced_station
from tests.reliability.attackkit import Route, routes_of
from tests.simstation import TOKENS, running_station
from tests.station.conftest import PIN, Harness
from tests.ui.conftest import station_data, stock
from tests.ui.kiosk import (
    MEMBER_PHONE,
    MEMBER_PIN,
    OTHER_PHONE,
    Kiosk,
    build_app,
    door,
    wait_api,
)

RESIDENT = "135 0246 8135"
COURIER = "+86 150-1357-9246"
FINDER = "18603692581"
OWNER = "177 4826 1593"
STATION = "S900"
CARD = "0012345678"  # the resident's card, bound by staff and presented to borrow
STRANGER_CARD = "QR-Mq7-xT42"  # a card nobody bound
CARD_HOLD_S = 0.3
_SEPARATORS = re.compile(r"[\s\-+]")


def needles(typed: Iterable[str]) -> set[str]:
    """A number as typed and as its 11 national digits."""
    out = set()
    for phone in typed:
        out.add(phone)
        out.add("".join(ch for ch in phone if ch.isdigit())[-11:])
    return out


def leaks(haystacks: dict[str, str | bytes], typed: Iterable[str]) -> list[tuple[str, str]]:
    """(where, number) for each number found, also with spaces and dashes taken out."""
    found = []
    for where, hay in haystacks.items():
        text = hay.decode("utf-8", "replace") if isinstance(hay, bytes) else hay
        squeezed = _SEPARATORS.sub("", text)
        for needle in needles(typed):
            if needle in text or _SEPARATORS.sub("", needle) in squeezed:
                found.append((where, needle))
    return found


# --- sync, central, metrics, telemetry, backup -------------------------------------------------


async def present(h: Harness, reader: SerialReaderSim, text: str) -> None:
    """Present a card once the daemon waits for one, lifted since its last presentation."""
    await asyncio.sleep(CARD_HOLD_S + 0.05)
    for _ in range(1000):
        if h.services.cards._waiter is not None:
            break
        await asyncio.sleep(0.01)
    await asyncio.to_thread(reader.present, text)


async def card_day(h: Harness, reader: SerialReaderSim, member_id: str) -> None:
    """Everything that reads a card, once: bind, borrow by card, unknown card, garbage."""
    staff = await h.staff()
    bind = staff.post(f"/api/v1/members/{member_id}/cards/read", json={"wait_s": 10})
    r, _ = await asyncio.gather(bind, present(h, reader, CARD))
    assert r.status_code == 200, r.text
    await h.add_tool("LADDER", "A02")
    ask = h.kiosk.post("/api/v1/cards/identify", json={"purpose": "borrow", "wait_s": 10})
    r, _ = await asyncio.gather(ask, present(h, reader, CARD))
    assert r.json()["kind"] == "member", r.text
    r = await h.kiosk.post(
        "/api/v1/loans",
        json={"tool_id": "LADDER"},
        headers={"X-Member-Session": r.json()["session"]},
    )
    assert (await h.finish(r.json()))["state"] == "completed"
    ask = h.kiosk.post("/api/v1/cards/identify", json={"purpose": "claim", "wait_s": 10})
    r, _ = await asyncio.gather(ask, present(h, reader, STRANGER_CARD))
    assert r.json()["code"] == "card_unknown"
    await asyncio.to_thread(reader.send, f"{CARD[:6]}\x07{CARD[6:]}\r\n".encode())  # garbage


async def a_day(h: Harness) -> dict[str, str]:
    """Everything that takes a phone number, once; returns ids to read records by."""
    staff = await h.staff()
    await h.register(RESIDENT)
    await h.register(COURIER, kind="courier")
    await h.add_tool("DRILL", "A01")
    for _ in range(5):  # a lockout: its alarm and events name the member
        await h.kiosk.post(
            "/api/v1/members/identify", json={"phone": h.phone(RESIDENT), "pin": "000111"}
        )
    r = await staff.post("/api/v1/members/lookup", json={"phone": h.phone(RESIDENT)})
    member_id = r.json()["member_id"]
    await staff.post(f"/api/v1/members/{member_id}/unlock", json={"reason": "ID card checked"})
    session = await h.identify(RESIDENT)
    r = await h.kiosk.post(
        "/api/v1/loans", json={"tool_id": "DRILL"}, headers={"X-Member-Session": session}
    )
    loan_flow = await h.finish(r.json())
    assert loan_flow["state"] == "completed", loan_flow
    session = await h.identify(COURIER)
    r = await h.kiosk.post(
        "/api/v1/deposits", json={"kind": "phone_charge"}, headers={"X-Member-Session": session}
    )
    deposit = await h.finish(r.json())
    r = await h.kiosk.post(
        "/api/v1/found",
        json={"category": "wallets", "colour": "brown", "place": "公园", "finder_phone": FINDER},
    )
    h.phone(FINDER)
    number = (await h.finish(r.json()))["result"]["number"]
    r = await h.kiosk.post(
        f"/api/v1/found/{number}/claims",
        json={"phone": h.phone(OWNER), "description": "brown wallet"},
    )
    assert r.status_code == 201, r.text
    approval = (await staff.post(f"/api/v1/claims/{r.json()['id']}/approve", json={})).json()
    r = await h.kiosk.post(
        "/api/v1/pickups", json={"locker": approval["locker"], "code": approval["code"]}
    )
    await h.finish(r.json())
    return {
        "member_id": member_id,
        "number": number,
        "tool_id": "DRILL",
        "flow_id": loan_flow["id"],
        "locker_id": deposit["locker"],
    }


async def every_get(base: str, routes: list[Route], token: str, values: dict[str, str]) -> dict:
    """Each GET route's answer for one token (refusals included: they must not leak either)."""
    answers = {}
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as c:
        for route in routes:
            if route.method == "GET":
                r = await c.get(route.url(values), params={"limit": 50})
                assert r.status_code < 500, (route, r.text)
                answers[f"{route} ({token[:8]})"] = r.text
    return answers


async def caught_up(central: LiveCentral, h: Harness) -> None:
    last = h.services.store.query("SELECT MAX(seq) AS s FROM events")[0]["s"]
    async with asyncio.timeout(30):
        while True:
            held = central.storage.station(STATION)
            if held is not None and held.acked_seq >= last:
                return
            await asyncio.sleep(0.05)


async def office_pages(central: LiveCentral) -> list[str]:
    pages, after = [], 0
    async with central.office() as office:
        while True:
            r = await office.get("/api/v1/events", params={"after": after, "limit": 100})
            assert r.status_code == 200, r.text
            pages.append(r.text)
            page = r.json()
            after = page["next_after"]
            if not page["more"]:
                return pages


async def test_no_number_in_sync_central_metrics_telemetry_or_backup(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    storage = SQLiteStorage(tmp_path / "central.db")
    seen: dict[str, str | bytes] = {}
    try:
        with live_central(storage) as central:
            reader = SerialReaderSim(tmp_path / "card-reader")
            reader.start()
            card_reader = {"kind": "serial", "device": reader.path, "hold_s": CARD_HOLD_S}
            async with synced_station(
                central, tmp_path, STATION, "privacy", reader=card_reader
            ) as h:
                ids = await a_day(h)
                await card_day(h, reader, ids["member_id"])
                station_routes = routes_of((await h.kiosk.get("/openapi.json")).json())
                for role in ("kiosk", "staff", "central"):
                    seen |= await every_get(h.station.url, station_routes, TOKENS[role], ids)
                assert "station_" in seen[f"GET /metrics ({TOKENS['central'][:8]})"]
                await caught_up(central, h)
                out = tmp_path / "backup.db"
                assert backup(h.station.config.station.data_dir, out) > 0
                seen["station backup file"] = out.read_bytes()
                typed = set(h.typed_phones)
                synced = central.storage.count_events(STATION)
                assert h.services.cards.status()["garbage"] == 1
            reader.stop()
            async with central.office() as office:
                spec = (await office.get("/openapi.json")).json()
            central_routes = routes_of(spec)
            seen |= await every_get(
                central.url,
                central_routes,
                central.office_token,
                {"station_id": STATION, "view": "summary"},
            )
            for i, page in enumerate(await office_pages(central)):
                seen[f"office event query, page {i}"] = page
        assert "central_" in seen[f"GET /metrics ({central.office_token[:8]})"]
    finally:
        storage.close()
    files = await asyncio.to_thread(
        lambda: {f"central database file {f.name}": f.read_bytes() for f in tmp_path.glob("c*.db*")}
    )
    assert files, "central's database file was not found"
    seen |= files
    seen["log lines (station and central)"] = caplog.text
    assert needles(typed) >= needles([RESIDENT, COURIER, FINDER, OWNER])
    assert synced > 50  # the day's events really reached central
    everything = "\n".join(v for v in seen.values() if isinstance(v, str))
    assert PIN not in everything
    assert leaks(seen, typed) == []
    assert card_leaks(seen) == []


def card_leaks(haystacks: dict[str, str | bytes]) -> list[tuple[str, str]]:
    """(where, card) for each card number found, as read or in its bytes."""
    found = []
    for where, hay in haystacks.items():
        blob = hay if isinstance(hay, bytes) else hay.encode("utf-8", "replace")
        for card in (CARD, STRANGER_CARD):
            if card.encode() in blob:
                found.append((where, card))
    return found


# --- the touchscreen ------------------------------------------------------------------------


def drawn_text(kiosk: Kiosk) -> str:
    """The characters on the terminal now, as Textual's own screenshot renders them."""
    app = kiosk.app
    width, height = app.size
    console = Console(
        width=width, height=height, record=True, file=io.StringIO(), force_terminal=True
    )
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    console.print(update)
    return console.export_text()


class ScreenWatch:
    """Samples the drawn screen every 150 ms while a flow runs, so a screen that is
    shown only for a moment (a spinner, an error) is read too."""

    def __init__(self, kiosk: Kiosk, secrets: set[str]) -> None:
        self.kiosk = kiosk
        self.secrets = secrets
        self.frames = 0
        self.screens: set[str] = set()
        self.found: list[tuple[str, str]] = []
        self._task: asyncio.Task[None] | None = None

    def check(self) -> None:
        text = drawn_text(self.kiosk)
        self.frames += 1
        where = type(self.kiosk.screen).__name__
        self.screens.add(where)
        self.found += [(where, n) for _, n in leaks({where: text}, self.secrets)]
        self.found += [(where, "PIN") for pin in (MEMBER_PIN,) if pin in text]

    async def _run(self) -> None:
        while True:
            self.check()
            await asyncio.sleep(0.15)

    def __enter__(self) -> ScreenWatch:
        self._task = asyncio.create_task(self._run())
        return self

    def __exit__(self, *_: Any) -> None:
        assert self._task is not None
        self._task.cancel()
        self.check()


async def door_is_open(st: Any, locker: str) -> bool:
    return await door(st, locker) == "open"


async def test_the_screen_never_draws_a_typed_phone_number(tmp_path: Path) -> None:
    async with running_station(station_data(tmp_path)) as st:
        await stock(st)
        app = build_app(st)
        async with app.run_test(size=(100, 30)) as pilot:
            kiosk = Kiosk(app, pilot, st)
            await kiosk.home()
            secrets = {MEMBER_PHONE, OTHER_PHONE}
            # borrow: the number typed on the keypad, then every screen to the end of the flow
            await kiosk.tap("#tile-borrow")
            await kiosk.tap("#choice-T-DRILL-1")
            await kiosk.on("PhoneScreen")
            await kiosk.keypad(MEMBER_PHONE[:10])
            with ScreenWatch(kiosk, secrets) as watch:
                watch.check()
                await kiosk.keypad(MEMBER_PHONE[10:])  # the 11th digit goes on by itself
                await kiosk.on("PinScreen")
                watch.check()
                await kiosk.keypad(MEMBER_PIN)
                await kiosk.on("BorrowConfirmScreen")
                watch.check()
                await kiosk.tap("#confirm")
                await kiosk.on("FlowScreen")
                await kiosk.sees("柜门 A03 已打开")
                watch.check()
                st.sim.close_door(3)
                await kiosk.sees("借用成功")
                watch.check()
                await kiosk.tap("#done")
                await kiosk.home()
            # hand-in: the finder's number, then the confirmation and the receipt
            await kiosk.tap("#tile-lost")
            await kiosk.tap("#choice-handin")
            await kiosk.tap("#choice-keys")
            await kiosk.tap("#choice-black")
            await kiosk.tap("#choice-place-1")
            await kiosk.on("FinderPhoneScreen")
            await kiosk.keypad(OTHER_PHONE[:10])
            with ScreenWatch(kiosk, secrets) as second:
                second.check()
                await kiosk.keypad(OTHER_PHONE[10:])
                await kiosk.on("HandInConfirmScreen")
                assert "139****4321" in drawn_text(kiosk)
                second.check()
                await kiosk.tap("#confirm")
                await kiosk.on("FlowScreen")
                locker = kiosk.screen.flow["locker"]
                await kiosk.sees("请放入物品")
                await wait_api(lambda: door_is_open(st, locker), what=f"{locker} open")
                st.sim.close_door(int(locker[1:]))
                await kiosk.sees("谢谢您交还失物！")
                second.check()
                await kiosk.tap("#done")
                await kiosk.home()
    assert watch.screens >= {"PhoneScreen", "PinScreen", "BorrowConfirmScreen", "FlowScreen"}
    assert second.screens >= {"FinderPhoneScreen", "HandInConfirmScreen", "FlowScreen"}
    assert watch.found == [] and second.found == [], watch.found + second.found


def test_the_needles_catch_a_number_however_it_is_spaced() -> None:
    """The scanner itself: a number split by spaces or dashes on screen is still found."""
    hay = {"a": "借用人：138 1234 5678", "b": b"138-1234-5678", "c": "138****5678", "d": "0"}
    assert sorted(w for w, _ in leaks(hay, {"13812345678"})) == ["a", "b"]
    assert needles(["+86 139-0000-1111"]) == {"+86 139-0000-1111", "13900001111"}


# --- the live stream of every role, free text ---------------------------------------------------


async def test_no_number_on_any_role_s_stream_even_typed_into_free_text(tmp_path: Path) -> None:
    """Numbers typed into a staff reason, a hand-in's place and description: masked before they
    are stored, so no role's stream (staff and central get events whole) carries one."""
    from tests.reliability.test_kiosk_street import stream
    from tests.station.conftest import services_config, start_harness

    typed = ["13812345678", "+86 150-1111-2222", "186 2222 3333"]
    async with start_harness(services_config(tmp_path)) as h:
        for phone in typed:
            h.phone(phone)
        async with (
            stream(h, "kiosk") as kiosk,
            stream(h, "staff") as staff_seen,
            stream(h, "central") as office,
        ):
            staff = await h.staff()
            r = await staff.post(
                "/api/v1/lockers/A02/open", json={"reason": f"resident {typed[0]} asked"}
            )
            assert r.status_code == 200, r.text
            r = await h.kiosk.post(
                "/api/v1/found",
                json={
                    "category": "keys",
                    "colour": "black",
                    "place": f"gate, call {typed[1]}",
                    "description": f"owner {typed[2]}",
                },
            )
            assert r.status_code == 202, r.text
            await h.finish(r.json())
        seen = {"kiosk": kiosk, "staff": staff_seen, "central": office}
        found = leaks({role: repr(messages) for role, messages in seen.items()}, typed)
        assert found == []
        masked = repr(staff_seen)
        assert "138****5678" in masked and "150****2222" in masked  # staff see the masked text
