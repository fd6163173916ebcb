"""`station central ...` admin commands against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from central.auth import token_hash
from central.cli import main, serve_settings
from central.storage import open_storage
from wire.bundle import parse_bundle

PIN_HASH = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("2468")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "central.db")
    return str(request.getfixturevalue("pg_url"))


def cli(db: str, *args: str) -> int:
    return main(["--db", db, *args])


def test_register_prints_token_once_and_stores_hash(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(db, "register", "S001", "--name", "东门") == 0
    out = capsys.readouterr()
    token = out.out.strip()
    assert token.startswith("gxyz_") and len(token) > 40 and "shown this once" in out.err
    storage = open_storage(db)
    try:
        record = storage.token(token_hash(token))
        assert record is not None and record.subject == "S001" and not record.revoked
        station = storage.station("S001")
        assert station is not None and station.name == "东门"
    finally:
        storage.close()
    assert cli(db, "register", "S001") == 1
    assert "already registered" in capsys.readouterr().err
    assert cli(db, "register", "bad id!") == 2


def test_rotate_and_revoke(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    cli(db, "register", "S001")
    first = capsys.readouterr().out.strip()
    assert cli(db, "rotate", "S001") == 0
    second = capsys.readouterr().out.strip()
    assert second != first
    assert cli(db, "revoke", "S001") == 0
    assert "1 token(s) revoked" in capsys.readouterr().err
    storage = open_storage(db)
    try:
        tokens = [storage.token(token_hash(t)) for t in (first, second)]
        assert all(t is not None and t.revoked for t in tokens)
    finally:
        storage.close()
    assert cli(db, "rotate", "S404") == 1
    assert "not registered" in capsys.readouterr().err


def test_office_token(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(db, "office-token", "ops") == 0
    token = capsys.readouterr().out.strip()
    storage = open_storage(db)
    try:
        record = storage.token(token_hash(token))
        assert record is not None and record.kind == "office"
    finally:
        storage.close()
    assert cli(db, "revoke-office", "ops") == 0
    assert cli(db, "revoke-office", "nobody") == 1


def _files(tmp_path: Path) -> list[str]:
    tools = tmp_path / "catalogue.toml"
    tools.write_text(
        '[[tools]]\nid = "drill-1"\nname = "电钻"\nname_en = "Drill"\nloan_days = 3\n'
        'locker = "A01"\n\n[settings]\nrest_area_hours = "06:00-22:00"\n',
        encoding="utf-8",
    )
    members = tmp_path / "members.json"
    key = b"k" * 32
    members.write_text(
        json.dumps(
            [
                {
                    "id": "m1",
                    "phone_hash": hmac.new(key, b"13800001234", hashlib.sha256).hexdigest(),
                    "phone_last4": "1234",
                    "pin_hash": PIN_HASH,
                    "display_name": "王*",
                }
            ]
        ),
        encoding="utf-8",
    )
    return [str(tools), str(members)]


def test_publish_validates_and_versions(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli(db, "register", "S001")
    files = _files(tmp_path)
    capsys.readouterr()
    assert cli(db, "publish", *files, "--dry-run") == 0
    assert "not published" in capsys.readouterr().err
    assert cli(db, "publish", *files) == 0
    out = capsys.readouterr()
    version = int(out.out.strip())
    assert "1 tools, 1 members" in out.err
    storage = open_storage(db)
    try:
        got = storage.bundle_for("S001", 0)
        assert got is not None and got.version == version
        bundle = parse_bundle(got.body)
        assert bundle.tools[0].name == "电钻" and bundle.members[0].phone_last4 == "1234"
        assert hashlib.sha256(got.body.encode()).hexdigest() == got.sha256
    finally:
        storage.close()
    assert cli(db, "publish", *files, "--station", "S001") == 0
    assert cli(db, "publish", *files, "--station", "S404") == 1
    capsys.readouterr()
    assert cli(db, "bundles") == 0
    listing = capsys.readouterr().out.splitlines()
    assert len(listing) == 2 and listing[0].endswith("S001") and listing[1].endswith("all")


@pytest.mark.parametrize(
    ("content", "name", "words"),
    [
        ('[[members]]\nid = "m1"\nphone = "13800001234"\n', "m.toml", "phone: unknown field"),
        ('[[staff]]\nstaff_no = "7"\nname = "李"\npin_hash = "1234"\n', "s.toml", "pin_hash"),
        ("[[tools]]\nid = 'a'\nname = 'x'\n[[tools]]\nid = 'a'\nname = 'y'\n", "t.toml", "repeat"),
        ("[bogus]\n", "b.toml", "unknown section 'bogus'"),
        ("[tools\n", "t.toml", "not valid TOML"),
        ("[1, 2]", "things.json", "named after its section"),
    ],
)
def test_publish_refuses_bad_files(
    db: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str,
    name: str,
    words: str,
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert cli(db, "publish", str(path)) == 1
    assert words in capsys.readouterr().err
    storage = open_storage(db)
    try:
        assert storage.bundles() == []
    finally:
        storage.close()


def test_publish_refuses_a_section_given_twice(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text("[settings]\nx = 1\n", encoding="utf-8")
    b.write_text("[settings]\ny = 2\n", encoding="utf-8")
    assert cli(db, "publish", str(a), str(b)) == 1
    assert "already given by" in capsys.readouterr().err


def test_stations_listing(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    cli(db, "register", "S002")
    cli(db, "register", "S001")
    capsys.readouterr()
    assert cli(db, "stations") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["S001", "S002"]
    assert "seen=never" in lines[0]


def test_serve_settings_from_flags_and_pairs() -> None:
    settings = serve_settings(
        4096, 100, ["offline_after_s=600", "timezone = Asia/Urumqi", "sample_days=30"]
    )
    assert (settings.max_body_bytes, settings.max_batch_events) == (4096, 100)
    assert (settings.offline_after_s, settings.timezone, settings.sample_days) == (
        600.0,
        "Asia/Urumqi",
        30.0,
    )


@pytest.mark.parametrize(
    ("pair", "said"),
    [
        ("offline_after=600", "KEY one of"),
        ("timezone", "expected KEY=VALUE"),
        ("timezone=Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
        ("offline_after_s=-5", "offline_after_s: Input should be greater than 0"),
    ],
)
def test_serve_refuses_a_bad_setting_before_listening(
    db: str, capsys: pytest.CaptureFixture[str], pair: str, said: str
) -> None:
    assert main(["--db", db, "serve", "--port", "1", "--setting", pair]) == 2
    assert said in capsys.readouterr().err
