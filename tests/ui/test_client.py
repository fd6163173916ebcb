"""The UI's client of the daemon: refusals with their codes, an unreachable daemon as one
clear state, the live stream with reconnection, and the bookkeeping of what it carried."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from station.daemon import Daemon
from station.ui_config import SettingError
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
            await client.pickup("12345678")
        assert (caught.value.code, caught.value.body["tries_left"]) == ("wrong_code", 4)
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


class DropFirst:
    """A TCP relay in front of the daemon that reads the first request and closes the
    connection without an answer, as a daemon closing a kept-alive connection does when a
    request crosses the close; every later connection is relayed."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.dropped = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.dropped == 0:
            self.dropped += 1
            await reader.read(65536)
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.port)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()


async def test_a_read_goes_again_once_when_its_connection_breaks(station: SimStation) -> None:
    relay = DropFirst(station.daemon.bound_port)
    client = StationClient(await relay.start(), TOKENS["kiosk"])
    try:
        lockers = await client.lockers()
        assert relay.dropped == 1 and len(lockers) == 16
    finally:
        await client.aclose()
        await relay.stop()


async def test_a_write_is_never_sent_twice_when_its_connection_breaks(
    station: SimStation,
) -> None:
    relay = DropFirst(station.daemon.bound_port)
    client = StationClient(await relay.start(), TOKENS["kiosk"])
    try:
        with pytest.raises(DaemonUnreachable):
            await client.identify(MEMBER_PHONE, "111333")
        # The PIN was not tried: the daemon never saw it, and it was not sent again.
        with pytest.raises(ApiError) as caught:
            await client.identify(MEMBER_PHONE, "111333")
        assert caught.value.body["tries_left"] == 4
    finally:
        await client.aclose()
        await relay.stop()


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
            first_run = messages[0]["daemon"]
            # A connection that breaks while the daemon stays up is taken again at once,
            # without telling the UI it was lost: the same daemon run answers.
            assert stream.connection is not None
            stream.connection.transport.abort()
            await wait_api(_true(lambda: _snapshots(messages) == 2), what="the retry")
            assert states == [True]
            assert messages[-1]["daemon"] == first_run
            port = st.daemon.bound_port
            await st.daemon.stop()
            await wait_api(_true(lambda: states[-1] is False), what="the loss to be seen")
            restarted = Daemon(st.config, port=port)
            await restarted.start()
            try:
                await wait_api(_true(lambda: states[-1] is True), what="the reconnection")
                assert _snapshots(messages) == 3
                assert messages[-1]["kind"] == "snapshot"
                assert messages[-1]["daemon"] != first_run  # a new run: sessions are gone
            finally:
                await restarted.stop()
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def _snapshots(messages: list[dict]) -> int:
    return [m["kind"] for m in messages].count("snapshot")


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
    with pytest.raises(SettingError, match="unknown time zone 'Mars/Olympus'"):
        UiConfig(timezone="Mars/Olympus")
    with pytest.raises(SettingError, match="idle_timeout_s: must be at least 10"):
        UiConfig(idle_timeout_s=1)
    with pytest.raises(SettingError, match="language"):
        UiConfig(language="fr")  # type: ignore[arg-type]
    with pytest.raises(SettingError, match="mute: must be true or false"):
        UiConfig(mute="yes")  # type: ignore[arg-type]
