"""Members and staff services on a real store (the HTTP side: test_people_api.py)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from launcher.main import main
from station.clock import FakeClock
from station.people.config import PeopleConfig
from station.people.lockout import Lockout
from station.people.members import MemberService
from station.people.pins import PinHasher
from station.people.staff import StaffService, add_staff
from station.refusals import Refusal
from station.store import Store

PHONE = "13812345678"


@pytest.fixture
def members(store, people, hasher, lockout, clock) -> MemberService:
    return MemberService(store, people, hasher, lockout, clock)


@pytest.fixture
def staff(store, people, hasher, lockout, clock) -> StaffService:
    return StaffService(store, people, hasher, lockout, clock)


async def test_register_and_identify_keep_no_number_and_no_pin(
    members: MemberService, store: Store
) -> None:
    member = await members.register(PHONE, "482913", "resident", "staff:S1")
    token, again = await members.identify("138 1234 5678", "482913", "kiosk:screen")
    assert again == member and members.session(token).data["member"] == member
    rows = store.query("SELECT * FROM members")
    dump = json.dumps(rows) + json.dumps([e.to_dict() for e in store.events_after(0, 100)])
    assert PHONE not in dump and "482913" not in dump
    assert rows[0]["prefix3"] == "138" and rows[0]["last4"] == "5678"


async def test_identify_refusals(members: MemberService, clock: FakeClock) -> None:
    await members.register(PHONE, "482913", "resident", "staff:S1")
    with pytest.raises(Refusal) as err:
        await members.identify(PHONE, "000111", "kiosk:screen")
    assert (err.value.code, err.value.extra) == ("wrong_pin", {"tries_left": 4})
    for _ in range(3):
        with pytest.raises(Refusal):
            await members.identify(PHONE, "000111", "kiosk:screen")
    with pytest.raises(Refusal) as err:
        await members.identify(PHONE, "000111", "kiosk:screen")
    assert err.value.code == "locked" and err.value.extra["retry_after_s"] == 300
    clock.advance(300)
    token, _ = await members.identify(PHONE, "482913", "kiosk:screen")
    assert token


async def test_no_key_means_no_members(store, hasher, lockout, clock) -> None:
    members = MemberService(store, PeopleConfig(), hasher, lockout, clock)
    assert not members.available
    with pytest.raises(Refusal) as err:
        await members.register(PHONE, "482913", "resident", "staff:S1")
    assert err.value.code == "members_unavailable"


async def test_staff_login_and_session(staff: StaffService, store: Store, clock) -> None:
    add_staff(store, "S001", "王芳", "482913")
    token, who = await staff.login("S001", "482913", "kiosk:screen")
    assert who.actor == "staff:S001" and who.name == "王芳"
    assert staff.session(token).subject == "S001"
    clock.advance(120)
    assert staff.session(token) is None
    assert await staff.expire_sessions() == 1
    with pytest.raises(Refusal) as err:
        await staff.login("S001", "111222", "kiosk:screen")
    assert err.value.code == "wrong_pin"
    with pytest.raises(Refusal) as err:
        await staff.login("bad number!", "482913", "kiosk:screen")
    assert err.value.code == "invalid"


async def test_logins_upgrade_pins_hashed_with_older_parameters(
    members: MemberService,
    staff: StaffService,
    store: Store,
    hasher: PinHasher,
    people,
    lockout,
    clock,
) -> None:
    """Members and staff share one PIN check, so both get the rehash on a right PIN."""
    weak = PinHasher(time_cost=1, memory_kib=8 * 1024)
    add_staff(store, "S001", "王芳", "482913", hasher=weak)
    weak_members = MemberService(store, people, weak, lockout, clock)
    await weak_members.register(PHONE, "527194", "resident", "staff:S1")
    old_staff = store.query("SELECT pin_hash FROM staff")[0]["pin_hash"]
    old_member = store.query("SELECT pin_hash FROM members")[0]["pin_hash"]
    assert hasher.needs_rehash(old_staff) and hasher.needs_rehash(old_member)
    with pytest.raises(Refusal):
        await staff.login("S001", "111222", "kiosk:screen")
    assert store.query("SELECT pin_hash FROM staff")[0]["pin_hash"] == old_staff
    await staff.login("S001", "482913", "kiosk:screen")
    await members.identify(PHONE, "527194", "kiosk:screen")
    new_staff = store.query("SELECT pin_hash FROM staff")[0]["pin_hash"]
    new_member = store.query("SELECT pin_hash FROM members")[0]["pin_hash"]
    for old, new in ((old_staff, new_staff), (old_member, new_member)):
        assert new != old and not hasher.needs_rehash(new)
    assert hasher.verify_sync(new_staff, "482913") and hasher.verify_sync(new_member, "527194")
    token, _ = await staff.login("S001", "482913", "kiosk:screen")
    assert token


def test_add_staff_refuses_bad_input_and_duplicates(store: Store) -> None:
    add_staff(store, "S001", "王芳", "482913", hasher=PinHasher())
    with pytest.raises(Refusal, match="already exists"):
        add_staff(store, "S001", "Li", "527194")
    with pytest.raises(Refusal, match="staff number"):
        add_staff(store, "S 1", "Li", "527194")
    with pytest.raises(Refusal, match="too easy"):
        add_staff(store, "S002", "Li", "123456")
    with pytest.raises(Refusal, match="name"):
        add_staff(store, "S002", "  ", "527194")


def _config(tmp_path: Path) -> Path:
    example = (Path(__file__).parents[3] / "deploy" / "station.example.toml").read_text()
    path = tmp_path / "station.toml"
    path.write_text(example.replace('data_dir = "/var/lib/station"', f'data_dir = "{tmp_path}"'))
    return path


def test_cli_staff_add_and_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO("482913\n"))
    assert main(["staff", "add", "S001", "王芳", "--config", str(config), "--pin-stdin"]) == 0
    assert "staff S001 (王芳) added" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("482913\n"))
    assert main(["staff", "add", "S001", "Li", "--config", str(config), "--pin-stdin"]) == 1
    assert "already exists" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("111111\n"))
    assert main(["staff", "add", "S002", "Li", "--config", str(config), "--pin-stdin"]) == 1
    assert "too easy" in capsys.readouterr().err
    assert main(["staff", "list", "--config", str(config)]) == 0
    assert capsys.readouterr().out == "S001\t王芳\n"
    store = Store(tmp_path / "station.db", FakeClock())
    try:
        row = store.query("SELECT pin_hash FROM staff")[0]
        assert PinHasher().verify_sync(row["pin_hash"], "482913")
        added = store.events_after(0, types=["staff_added"])
        assert [e.actor for e in added] == ["cli"]
    finally:
        store.close()
    # The PIN as text of its own, not as six digits inside a random hex id or hash.
    stored = (tmp_path / "station.db").read_bytes().decode("latin-1")
    assert not re.search(r"(?<![0-9a-f])482913(?![0-9a-f])", stored)


def test_cli_staff_add_without_a_terminal_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No terminal to ask the PIN on (a script, ssh without -t): a sentence, not an EOFError."""
    config = _config(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["staff", "add", "S001", "王芳", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "--pin-stdin" in err and "Traceback" not in err


def test_commands_without_config_find_the_demos(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a machine with no installed station, `station doctor` and friends use the demo's."""
    from station import config_paths as station_config

    monkeypatch.delenv("STATION_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(station_config, "SYSTEM_CONFIG", tmp_path / "etc" / "station.toml")
    assert station_config.default_config_path() == station_config.SYSTEM_CONFIG
    (tmp_path / "var" / "demo").mkdir(parents=True)
    (tmp_path / "var" / "demo" / "station.toml").write_text("")
    assert station_config.default_config_path() == station_config.DEMO_CONFIG
    monkeypatch.setenv("STATION_CONFIG", "/elsewhere/station.toml")
    assert str(station_config.default_config_path()) == "/elsewhere/station.toml"


def test_check_config_warns_without_a_phone_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    text = config.read_text()
    text = text.replace('phone_hash_key = "CHANGE-ME-fleet-wide-phone-hash-key-0001"\n', "")
    for role in ("kiosk", "staff", "central"):  # check-config refuses the placeholders
        text = text.replace(f'"CHANGE-ME-{role}-token-', f'"Zq7wXk2v-{role}-token-')
    config.write_text(text)
    assert main(["check-config", "--config", str(config)]) == 0
    assert "phone_hash_key is not set" in capsys.readouterr().err


def test_lockout_of_one_member_does_not_touch_another(store, lockout: Lockout) -> None:
    for _ in range(5):
        store.write_now(lambda tx: lockout.fail(tx, "member:a", "member:a/1", "kiosk:k"))
    assert store.write_now(lambda tx: lockout.locked_until(tx, "member:b")) is None
