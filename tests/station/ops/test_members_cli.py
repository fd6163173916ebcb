"""`station members ...` on a real station database, with secrets only on stdin."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from launcher.main import main
from station.clock import FakeClock
from station.people.pins import PinHasher
from station.store import Store

PHONE = "13812345678"
CARD = "0012345678"


def _config(tmp_path: Path) -> Path:
    example = (Path(__file__).parents[3] / "deploy" / "station.example.toml").read_text()
    path = tmp_path / "station.toml"
    path.write_text(example.replace('data_dir = "/var/lib/station"', f'data_dir = "{tmp_path}"'))
    return path


def _members(config: Path, monkeypatch: pytest.MonkeyPatch, stdin: str, *args: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(["members", *args, "--config", str(config), "--stdin"])


def test_every_member_command_logs_its_step_and_keeps_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    assert _members(config, monkeypatch, f"{PHONE}\n482913\n{CARD}\n", "add", "--card") == 0
    assert capsys.readouterr().out == "member 138****5678 (resident) registered with a card\n"
    assert _members(config, monkeypatch, f"{PHONE}\n482913\n", "add") == 1
    assert "already a member" in capsys.readouterr().err
    assert _members(config, monkeypatch, "13900001111\n111111\n", "add") == 1
    assert "too easy" in capsys.readouterr().err
    assert _members(config, monkeypatch, f"{PHONE}\n592046\n", "reset-pin") == 0
    assert _members(config, monkeypatch, f"{PHONE}\n", "unbind-card") == 0
    assert "1 card(s) unbound" in capsys.readouterr().out
    assert _members(config, monkeypatch, f"{PHONE}\nQR-abc-778\n", "bind-card") == 0
    assert _members(config, monkeypatch, "13900001111\n", "deactivate", "--reason", "x") == 1
    assert "is not a member" in capsys.readouterr().err
    assert _members(config, monkeypatch, f"{PHONE}\n", "deactivate", "--reason", "moved") == 0
    capsys.readouterr()
    assert main(["members", "list", "--config", str(config)]) == 0
    listed = capsys.readouterr().out
    assert listed.startswith("138****5678\tmember:") and "\tsuspended\t1 card(s)\t" in listed

    store = Store(tmp_path / "station.db", FakeClock())
    try:
        row = store.query("SELECT pin_hash FROM members")[0]
        assert PinHasher().verify_sync(row["pin_hash"], "592046")
        kinds = [
            (e.type, e.actor)
            for e in store.events_after(0)
            if e.type.startswith(("member_", "card_", "pin_"))
        ]
        assert kinds == [
            ("member_registered", "cli"),
            ("card_bound", "cli"),
            ("member_pin_reset", "cli"),
            ("card_unbound", "cli"),
            ("card_bound", "cli"),
            ("member_status_changed", "cli"),
        ]
    finally:
        store.close()
    everything = "".join(p.read_bytes().decode("latin-1") for p in tmp_path.glob("station.db*"))
    for secret in (PHONE, "482913", "592046", CARD, "QR-abc-778"):
        assert secret not in everything


def test_secrets_are_not_accepted_on_the_command_line(tmp_path: Path) -> None:
    config = _config(tmp_path)
    with pytest.raises(SystemExit):
        main(["members", "add", PHONE, "--config", str(config)])
