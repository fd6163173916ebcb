"""The UI's client of the daemon: refusals with their codes, an unreachable daemon as one
clear state, the live stream with reconnection, and the bookkeeping of what it carried."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from station.daemon import Daemon
from tests.simstation import TOKENS, SimStation, running_station
from tests.ui.conftest import station_data, stock
from tests.ui.kiosk import MEMBER_PHONE, wait_api
from ui.client import ApiError, DaemonUnreachable, LiveStream, StationClient, stream_url
from ui.settings import NoKioskToken, UiConfig, connection_of
from ui.state import LiveState


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_refusals_carry_the_daemons_code_and_facts(station: SimStation) -> None:
    client = StationClient(station.url, TOKENS["kiosk"])
    try:
        with pytest.raises(ApiError) as caught:
            await client.identify(MEMBER_PHONE, "111333")
        assert (caught.value.status, caught.value.code) == (403, "wrong_pin")
        assert caught.value.body["tries_left"] == 4
        with pytest.raises(ApiError) as caught:
            await client.pickup("A14", "123456")
        assert caught.value.code == "no_pickup"
        bad = StationClient(station.url, "not-a-token-at-all-0000")
        with pytest.raises(ApiError) as caught:
            await bad.lockers()
        assert caught.value.status == 401
        await bad.aclose()
    finally:
        await client.aclose()


async def test_an_unreachable_daemon_is_one_clear_error() -> None:
    client = StationClient(f"http://127.0.0.1:{free_port()}", TOKENS["kiosk"])
    try:
        with pytest.raises(DaemonUnreachable):
            await client.lockers()
        with pytest.raises(DaemonUnreachable):
            await client.health()
    finally:
        await client.aclose()


async def test_the_stream_reports_the_daemon_going_and_coming_back(tmp_path: Path) -> None:
    states: list[bool] = []
    messages: list[dict] = []
    async with running_station(station_data(tmp_path)) as st:
        await stock(st)
        stream = LiveStream(st.url, TOKENS["kiosk"], reconnect_min_s=0.05, reconnect_max_s=0.2)
        task = asyncio.create_task(stream.run(messages.append, states.append))
        try:
            await wait_api(_true(lambda: states == [True]), what="the first connection")
            assert messages[0]["kind"] == "snapshot" and len(messages[0]["lockers"]) == 16
            port = st.daemon.bound_port
            await st.daemon.stop()
            await wait_api(_true(lambda: states[-1] is False), what="the loss to be seen")
            restarted = Daemon(st.config, port=port)
            await restarted.start()
            try:
                await wait_api(_true(lambda: states[-1] is True), what="the reconnection")
                assert [m["kind"] for m in messages].count("snapshot") == 2
            finally:
                await restarted.stop()
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def _true(check):
    async def run() -> bool:
        return bool(check())

    return run


def test_stream_address_follows_the_api_address() -> None:
    assert stream_url("http://127.0.0.1:8470") == "ws://127.0.0.1:8470/api/v1/stream"
    assert stream_url("https://station.example/") == "wss://station.example/api/v1/stream"


def test_live_state_follows_door_events_and_marks_hints_for_a_reread() -> None:
    state = LiveState()
    locker = {
        "id": "A03",
        "board": "B0",
        "channel": 3,
        "door": "closed",
        "faulty": False,
        "board_online": True,
        "opening": False,
    }
    state.apply({"kind": "snapshot", "lockers": [locker]})
    assert state.door("A03") == "closed" and state.usable("A03")
    event = state.apply(
        {"kind": "event", "event": {"seq": 7, "type": "door_opened", "locker": "A03"}}
    )
    assert event is not None and state.door("A03") == "open" and state.last_seq == 7
    assert not state.stale
    state.apply({"kind": "event", "event": {"seq": 8, "type": "board_offline", "locker": None}})
    assert state.stale
    # A list read before the door opened does not undo the door event; its fault does count.
    state.load_lockers([{**locker, "door": "closed", "faulty": True}])
    assert state.door("A03") == "open" and not state.usable("A03")
    state.apply({"kind": "occupancy", "occupancy": {"state": "occupied"}})
    assert state.occupancy == {"state": "occupied"}
    assert state.apply({"kind": "gap"}) is None and state.stale
    # After lost messages the list's doors are taken as they are.
    state.load_lockers([{**locker, "door": "closed"}])
    assert state.door("A03") == "closed"
    assert state.door("Z99") == "unknown" and not state.usable("Z99")


def test_a_door_opened_and_shut_between_two_looks_still_counts_as_opened() -> None:
    state = LiveState()
    state.apply({"kind": "snapshot", "lockers": [{"id": "A04", "door": "closed"}]})
    assert not state.opened_since("A04", 10)  # unlocked at seq 10, nothing seen yet
    for seq, kind in ((11, "door_opened"), (12, "door_closed")):
        state.apply({"kind": "event", "event": {"seq": seq, "type": kind, "locker": "A04"}})
    assert state.door("A04") == "closed"
    assert state.opened_since("A04", 10) and not state.opened_since("A04", 11)


def test_the_ui_finds_the_daemon_and_its_token_in_the_station_config(tmp_path: Path) -> None:
    from station.config import parse_config

    data = station_data(tmp_path)
    config = parse_config(data, "test")
    conn = connection_of(config)
    assert conn.base_url == f"http://127.0.0.1:{data['api']['port']}"
    assert conn.token == TOKENS["kiosk"]
    data["ui"] = {"daemon_url": "http://10.0.0.2:9000", "token": "a-token-for-the-kiosk-0001"}
    conn = connection_of(parse_config(data, "test"))
    assert (conn.base_url, conn.token) == ("http://10.0.0.2:9000", "a-token-for-the-kiosk-0001")
    data.pop("ui")
    data["api"]["tokens"] = [t for t in data["api"]["tokens"] if t["role"] != "kiosk"]
    with pytest.raises(NoKioskToken, match=r"set \[ui\] token"):
        connection_of(parse_config(data, "test"))


def test_bad_ui_settings_are_named() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="unknown time zone 'Mars/Olympus'"):
        UiConfig(timezone="Mars/Olympus")
    with pytest.raises(ValidationError):
        UiConfig(idle_timeout_s=1)
    with pytest.raises(ValidationError):
        UiConfig(language="fr")
