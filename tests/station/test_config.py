"""Config checking: a bad file names the file, the key and what was expected."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from station.config import ConfigError, load_config, parse_config

EXAMPLE = Path(__file__).parents[2] / "deploy" / "station.example.toml"


def example() -> dict:
    return tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))


def test_example_config_is_valid() -> None:
    cfg = load_config(EXAMPLE)
    assert len(cfg.lockers) == 16
    assert {lk.purpose for lk in cfg.lockers} == {"tool", "lost_found", "storage"}


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "station.toml"
    path.write_text(EXAMPLE.read_text(encoding="utf-8").replace("poll_ms", "pol_ms"))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    text = str(err.value)
    assert str(path) in text
    assert "timeouts.pol_ms: unknown key" in text


def test_bad_value_says_what_was_expected() -> None:
    data = example()
    data["boards"][0]["protocol"] = "rs232"
    with pytest.raises(ConfigError) as err:
        parse_config(data, "x.toml")
    assert "boards[0].protocol" in str(err.value)
    assert "'cu', 'dip8', 'modbus', 'gpio' or 'sim'" in str(err.value)
    assert "'rs232'" in str(err.value)


def test_missing_file_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[station\nid = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


def test_locker_on_missing_board() -> None:
    data = example()
    data["lockers"][3]["board"] = "B9"
    with pytest.raises(ConfigError, match=r"lockers\[3\] \(A04\): board 'B9' is not defined"):
        parse_config(data)


def test_two_lockers_on_one_channel() -> None:
    data = example()
    data["lockers"][1]["channel"] = 1
    with pytest.raises(ConfigError, match="A01, A02 share board 'B0' channel 1"):
        parse_config(data)


def test_channel_beyond_board() -> None:
    data = example()
    data["boards"][0]["channels"] = 8
    with pytest.raises(ConfigError, match="channel 9 is beyond board 'B0'"):
        parse_config(data)


def test_two_boards_on_one_address() -> None:
    data = example()
    data["boards"].append(dict(data["boards"][0], id="B1"))
    with pytest.raises(ConfigError, match="share address 0"):
        parse_config(data)


def test_duplicate_locker_ids() -> None:
    data = example()
    data["lockers"][1]["id"] = "A01"
    data["lockers"][1]["channel"] = 2
    with pytest.raises(ConfigError, match="locker id repeated: A01"):
        parse_config(data)


def test_serial_board_needs_port_and_cu_limits() -> None:
    data = example()
    del data["boards"][0]["port"]
    with pytest.raises(ConfigError, match="needs 'port'"):
        parse_config(data)
    data = example()
    data["boards"][0]["address"] = 16
    with pytest.raises(ConfigError, match=r"addresses 0\.\.15"):
        parse_config(data)


def test_gpio_board_pins_checked() -> None:
    data = example()
    data["boards"] = [
        {"id": "B0", "protocol": "gpio", "channels": 2, "relay_pins": [17], "sensor_pins": []}
    ]
    data["lockers"] = data["lockers"][:2]
    with pytest.raises(ConfigError, match="one relay pin per channel"):
        parse_config(data)
    data["boards"][0]["relay_pins"] = [17, 27]
    data["boards"][0]["sensor_pins"] = [27, 5]
    with pytest.raises(ConfigError, match=r"GPIO pins used twice: \[27\]"):
        parse_config(data)


def test_token_needs_exactly_one_secret() -> None:
    data = example()
    data["api"]["tokens"][0]["token_sha256"] = "0" * 64
    with pytest.raises(ConfigError, match="exactly one of 'token'"):
        parse_config(data)
    data["api"]["tokens"][0].pop("token")
    cfg = parse_config(data)
    assert not cfg.api.tokens[0].matches("anything")


def test_bad_locker_id_pattern() -> None:
    data = example()
    data["lockers"][0]["id"] = "a1"
    with pytest.raises(ConfigError, match=r"lockers\[0\].id"):
        parse_config(data)


def test_gpio_pin_shared_with_occupancy_relay() -> None:
    data = example()
    data["boards"] = [
        {"id": "B0", "protocol": "gpio", "channels": 2, "relay_pins": [17, 27]},
    ]
    data["lockers"] = data["lockers"][:2]
    data["occupancy"] = {"fan": {"pin": 27}}
    with pytest.raises(ConfigError, match=r"claimed twice .*\[27\]"):
        parse_config(data)


def test_each_protocol_has_its_own_answer_window_and_baud() -> None:
    data = example()
    data["boards"][0].pop("baud")
    data["boards"].append({"id": "D1", "protocol": "dip8", "port": "/dev/d", "address": 1})
    data["boards"].append(
        {"id": "D2", "protocol": "dip8", "port": "/dev/e", "address": 2, "answer_ms": 900}
    )
    cfg = parse_config(data)
    cu, dip8, own = cfg.boards
    assert (cu.effective_baud, cu.effective_answer_ms(cfg.timeouts)) == (19200, 1000)
    assert (dip8.effective_baud, dip8.effective_answer_ms(cfg.timeouts)) == (9600, 1500)
    assert own.effective_answer_ms(cfg.timeouts) == 900
    data["timeouts"]["answer_ms"] = 400  # a station-wide override, under a board's own
    cfg = parse_config(data)
    assert [b.effective_answer_ms(cfg.timeouts) for b in cfg.boards] == [400, 400, 900]


def test_unlock_answer_and_item_sensor_are_cu_settings() -> None:
    data = example()
    data["boards"][0]["unlock_answer"] = "silent"
    with pytest.raises(ConfigError, match=r"boards\[0\]\.unlock_answer"):
        parse_config(data)
    for key, value in (("unlock_answer", "none"), ("item_sensor", True)):
        data = example()
        data["boards"][0].update({"protocol": "dip8", key: value})
        with pytest.raises(ConfigError, match="cu"):
            parse_config(data)
