"""Alerts to people: alarms raised at a simulated station reach loopback webhooks through
Apprise (json://) once each, with a reminder while nobody acknowledges and a message when
they clear; quiet hours hold a route's messages; a channel that is down holds back only its
own messages and gets them, in order, once it is up. On SQLite and PostgreSQL.

The station's alarm events go in through the real ingest endpoint (with a retried batch);
the notifier's pass (`tick`) is called directly on central's clock instead of waiting for
its thread, so nothing here depends on timing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from central.alerts.config import AlertsConfig
from central.app import create_app
from central.auth import new_token, token_hash
from central.server import BackgroundServer
from central.settings import CentralSettings
from central.storage.base import Storage
from tests.central import reportkit as kit
from tests.central.hookkit import Receiver

pytest.importorskip("apprise", reason="apprise is installed with central")

START = datetime(2026, 12, 1, 21, 0, tzinfo=kit.TZ).timestamp()


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Office:
    http: httpx.Client
    receiver: Receiver
    clock: Clock
    app: Any
    tokens: dict[str, str]
    seqs: dict[str, int]
    office: str

    def alarm(
        self,
        station: str,
        kind: str,
        alarm_id: int,
        subject: str,
        *,
        retry: bool = False,
        **payload: Any,
    ) -> None:
        """The station logs an alarm event and syncs it (and, with retry, sends it twice)."""
        p = {"alarm_id": alarm_id, "alarm": payload.pop("alarm", None) or kind, "subject": subject}
        p |= payload
        self.send(station, kind if kind.startswith("alarm_") else "alarm_raised", p, retry)

    def send(self, station: str, type: str, payload: dict[str, Any], retry: bool = False) -> None:
        after = self.seqs[station]
        sim = kit.Sim(type, self.clock.now, payload, locker=payload.get("subject"))
        events = kit.wire(station, [sim], first_seq=after + 1)
        for _ in range(2 if retry else 1):
            kit.post_batch(self.http, self.tokens[station], station, after, events)
        self.seqs[station] = after + 1

    def heartbeat(self, station: str) -> None:
        kit.post_batch(self.http, self.tokens[station], station, self.seqs[station], [])

    def tick(self) -> int:
        return self.app.state.notifier.tick()


def alerts_config(base: str) -> dict[str, Any]:
    return {
        "channels": {
            "duty": {"url": f"json://{base}/hook/duty"},
            "east_office": {"url": f"json://{base}/hook/east"},
            "sms_gateway": {"url": f"json://{base}/hook/sms"},
        },
        "groups": {"east": ["EAST-01"], "all_parks": ["SOUTH-03"]},
        "routes": [
            {"channels": ["duty"]},  # everything, at any hour
            {
                "channels": ["east_office"],
                "groups": ["east"],
                "types": ["forced_open", "door_jammed", "low_stock", "station_offline"],
                "quiet_hours": {"start": "22:00", "end": "07:00"},
            },
            {"channels": ["sms_gateway"], "types": ["forced_open", "board_offline"]},
        ],
        "remind_after_s": 1800,
        "max_reminders": 1,
        "retry_after_s": 60,
    }


@pytest.fixture
def office(storage: Storage) -> Iterator[Office]:
    receiver = Receiver()
    with BackgroundServer(receiver.app()) as hooks:
        base = f"{hooks.host}:{hooks.port}"
        clock = Clock(START)
        tokens = {}
        for sid, name in kit.STATIONS.items():
            tokens[sid] = new_token()
            storage.add_station(sid, name, token_hash(tokens[sid]), START - 86_400)
        token = new_token()
        storage.add_office_token("office", token_hash(token), START)
        settings = CentralSettings(offline_after_s=600, alerts=alerts_config(base))
        app = create_app(storage, settings, clock=clock)
        with BackgroundServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as h:
            yield Office(h, receiver, clock, app, tokens, {s: 0 for s in tokens}, token)


def test_each_alarm_reaches_its_channels_once_with_a_reminder_and_a_clear(office: Office) -> None:
    r = office.receiver
    office.alarm(
        "EAST-01", "forced_open", 7, "A03", retry=True, detail="door A03 opened with no unlock"
    )
    office.alarm("WEST-02", "board_offline", 2, "bus1:1", retry=True, detail="board 1 silent")
    assert office.tick() == 5
    assert office.tick() == 0  # nothing twice
    duty = r.titles("duty")
    assert len(duty) == 2
    assert any("EAST-01 东门站" in t and "door forced open" in t and "(A03)" in t for t in duty)
    assert any("WEST-02" in t and "lock board offline" in t for t in duty)
    assert r.titles("east") == [d for d in duty if "EAST-01" in d]
    assert len(r.titles("sms")) == 2
    body = r.got["duty"][0]["message"]
    assert "door A03 opened with no unlock" in body and "2026-12-01 21:00:00" in body

    # the station redelivers its whole log (a restored cursor): still nothing new
    events = kit.wire(
        "EAST-01",
        [
            kit.Sim(
                "alarm_raised",
                office.clock.now,
                {"alarm_id": 7, "alarm": "forced_open", "subject": "A03"},
            )
        ],
    )
    kit.post_batch(office.http, office.tokens["EAST-01"], "EAST-01", 0, events)
    assert office.tick() == 0

    # staff acknowledge the board at WEST-02; nobody acknowledges the forced door
    office.clock.now += 600
    office.alarm("WEST-02", "alarm_acknowledged", 2, "bus1:1", alarm="board_offline")
    office.heartbeat("EAST-01")
    office.clock.now += 1300
    office.heartbeat("EAST-01")
    office.heartbeat("WEST-02")
    assert office.tick() == 3  # one reminder for the forced door, to its three channels
    for hook in ("duty", "east", "sms"):
        assert sum("REMINDER" in t for t in r.titles(hook)) == 1
    assert not any("REMINDER" in t and "WEST-02" in t for t in r.titles("duty"))
    office.clock.now += 4000
    office.heartbeat("EAST-01")
    office.heartbeat("WEST-02")
    assert office.tick() == 0  # max_reminders = 1

    # both clear: one message each to the channels that were told
    office.alarm("EAST-01", "alarm_cleared", 7, "A03", alarm="forced_open")
    office.alarm("WEST-02", "alarm_cleared", 2, "bus1:1", alarm="board_offline")
    assert office.tick() == 5
    for hook, n in (("duty", 2), ("east", 1), ("sms", 2)):
        assert sum("CLEARED" in t for t in r.titles(hook)) == n, hook
    assert [m for m in r.got["duty"] if "CLEARED" in m["title"] and "EAST-01" in m["title"]]
    # everything that was sent, counted: nothing more, nothing less
    assert {h: len(v) for h, v in r.got.items()} == {"duty": 5, "east": 3, "sms": 5}
    listed = office.http.get(
        "/api/v1/alerts",
        params={"all": "true"},
        headers={"Authorization": f"Bearer {office.office}"},
    ).json()["alerts"]
    assert {(a["station"], a["type"]) for a in listed} == {
        ("EAST-01", "forced_open"),
        ("WEST-02", "board_offline"),
    }
    assert all(a["cleared_at"] for a in listed)


def test_quiet_hours_hold_a_route_until_morning(office: Office) -> None:
    r = office.receiver
    office.clock.now = datetime(2026, 12, 1, 23, 10, tzinfo=kit.TZ).timestamp()
    office.alarm("EAST-01", "low_stock", 11, "water", detail="water: 2 left")
    office.alarm("EAST-01", "forced_open", 12, "A05")  # urgent: not held
    assert office.tick() == 4
    assert [t for t in r.titles("east") if "supplies low" in t] == []
    assert any("door forced open" in t for t in r.titles("east"))
    assert any("supplies low" in t for t in r.titles("duty"))  # the duty route has no quiet
    office.clock.now = datetime(2026, 12, 2, 6, 59, tzinfo=kit.TZ).timestamp()
    office.heartbeat("EAST-01")
    office.alarm("EAST-01", "alarm_acknowledged", 12, "A05", alarm="forced_open")
    office.alarm("EAST-01", "alarm_acknowledged", 11, "water", alarm="low_stock")
    assert office.tick() == 0
    office.clock.now = datetime(2026, 12, 2, 7, 0, 5, tzinfo=kit.TZ).timestamp()
    office.heartbeat("EAST-01")
    assert office.tick() == 1
    assert [t for t in r.titles("east") if "supplies low" in t] == [
        t for t in r.titles("duty") if "supplies low" in t
    ]


def test_a_channel_that_is_down_holds_back_only_itself(office: Office) -> None:
    r = office.receiver
    r.down.add("sms")
    office.alarm("WEST-02", "board_offline", 3, "bus1:2")
    office.alarm("WEST-02", "alarm_cleared", 3, "bus1:2", alarm="board_offline")
    assert office.tick() == 2  # duty: raised and cleared; sms refused its first
    assert r.refused["sms"] == 1  # the cleared message waits behind the raised one
    assert len(r.titles("duty")) == 2
    office.clock.now += 30
    assert office.tick() == 0 and r.refused["sms"] == 1  # not before retry_after_s
    office.clock.now += 40
    assert office.tick() == 0 and r.refused["sms"] == 2
    r.down.clear()
    office.clock.now += 121  # the second wait doubled
    office.heartbeat("WEST-02")
    assert office.tick() == 2
    sms = r.titles("sms")
    assert len(sms) == 2 and "ALARM" in sms[0] and "CLEARED" in sms[1]


def test_a_silent_station_is_an_alarm_of_its_own(office: Office) -> None:
    r = office.receiver
    for sid in kit.STATIONS:
        office.heartbeat(sid)
    office.clock.now += 700
    office.heartbeat("WEST-02")
    office.heartbeat("SOUTH-03")
    assert office.tick() == 2  # EAST-01 is offline: duty and east
    assert any("EAST-01" in t and "station offline" in t for t in r.titles("east"))
    office.clock.now += 60
    office.heartbeat("WEST-02")
    office.heartbeat("SOUTH-03")
    assert office.tick() == 0  # still the same spell
    office.heartbeat("EAST-01")
    assert office.tick() == 2  # back: cleared to both
    assert sum("CLEARED" in t for t in r.titles("duty")) == 1


def test_the_alert_settings_are_checked_at_start() -> None:
    base = alerts_config("127.0.0.1:9")
    with pytest.raises(ValidationError, match="colour"):
        AlertsConfig.model_validate(base | {"colour": "red"})
    bad = base | {"routes": [{"channels": ["nobody"]}]}
    with pytest.raises(ValidationError, match="channel nobody"):
        AlertsConfig.model_validate(bad)
    bad = base | {"routes": [{"channels": ["duty"], "types": ["door_forced"]}]}
    with pytest.raises(ValidationError, match="unknown alarm type door_forced"):
        AlertsConfig.model_validate(bad)
    secret = "nosuchscheme://s3cret-webhook-key"
    bad = base | {"channels": base["channels"] | {"duty": {"url": secret}}}
    with pytest.raises(ValidationError) as info:
        AlertsConfig.model_validate(bad)
    assert "channel duty" in str(info.value)
    assert "s3cret" not in str(info.value).split("input_value")[0]


def test_the_settings_file_sets_up_alerts_and_never_echoes_a_secret(tmp_path: Any) -> None:
    from central.cli import read_settings_file, serve_settings

    good = tmp_path / "central.toml"
    good.write_text(
        'offline_after_s = 900\n[alerts.channels.duty]\nurl = "wecombot://s3cretkey"\n'
        '[[alerts.routes]]\nchannels = ["duty"]\ntypes = ["forced_open"]\n'
        '[alerts.routes.quiet_hours]\nstart = "22:00"\nend = "07:00"\n'
    )
    settings = serve_settings(16 * 1024 * 1024, 50_000, [], read_settings_file(str(good)))
    assert settings.offline_after_s == 900
    assert settings.alerts.plan("EAST-01", "forced_open") == [("duty", None)]  # urgent
    assert settings.alerts.plan("EAST-01", "low_stock") == []
    bad = tmp_path / "bad.toml"
    bad.write_text(good.read_text() + '[alerts.channels.spare]\nurl = "nosuch://s3cretkey"\n')
    with pytest.raises(ValueError) as info:
        serve_settings(16 * 1024 * 1024, 50_000, [], read_settings_file(str(bad)))
    assert "channel spare" in str(info.value) and "s3cret" not in str(info.value)
    typo = tmp_path / "typo.toml"
    typo.write_text(good.read_text() + "remind_after = 60\n")  # lands in the quiet_hours table
    with pytest.raises(ValueError, match="remind_after"):
        serve_settings(16 * 1024 * 1024, 50_000, [], read_settings_file(str(typo)))
