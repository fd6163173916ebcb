"""Files streamed to central (a station's backup, a release's wheel) through a real central on
loopback: a body over the limit or with another digest than its header names is refused with
the reason, and nothing of it is left where central keeps its files."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from central.app import create_app
from central.auth import new_token, token_hash
from central.server import BackgroundServer
from central.settings import CentralSettings
from central.storage.sqlite import SQLiteStorage

LIMIT = 4096


@pytest.fixture
def central(tmp_path: Path) -> Iterator[tuple[str, dict[str, str], Path]]:
    storage = SQLiteStorage(tmp_path / "central.db")
    station, operator = new_token(), new_token()
    storage.add_station("TEST-0001", "test", token_hash(station), time.time())
    storage.add_office_token("ops", token_hash(operator), time.time(), role="operator")
    files = tmp_path / "files"
    settings = CentralSettings(
        backup_dir=str(files / "backups"),
        release_dir=str(files / "releases"),
        max_backup_bytes=LIMIT,
        max_release_bytes=LIMIT,
    )
    with BackgroundServer(create_app(storage, settings)) as server:
        yield server.url, {"station": station, "operator": operator}, files
    storage.close()


ROUTES = [
    ("station", "/api/v1/station/backup", "X-Backup-SHA256", "backup over"),
    (
        "operator",
        "/api/v1/releases/1.2.3/files/s-1.2.3-py3-none-any.whl",
        "X-File-SHA256",
        "file over",
    ),
]


def _kept(files: Path) -> list[Path]:
    return [p for p in files.rglob("*") if p.is_file()]


@pytest.mark.parametrize(("role", "path", "header", "too_big"), ROUTES)
def test_a_wrong_digest_or_a_body_over_the_limit_is_refused_and_leaves_nothing(
    central: tuple[str, dict[str, str], Path], role: str, path: str, header: str, too_big: str
) -> None:
    url, tokens, files = central
    auth = {"Authorization": f"Bearer {tokens[role]}"}
    body = b"x" * 1000
    with httpx.Client(base_url=url, headers=auth, timeout=30) as c:
        wrong = c.put(path, content=body, headers={header: hashlib.sha256(b"y").hexdigest()})
        assert wrong.status_code == 422 and f"does not match {header}" in wrong.text
        big = b"x" * (LIMIT + 1)
        over = c.put(path, content=big, headers={header: hashlib.sha256(big).hexdigest()})
        assert over.status_code == 413 and f"{too_big} {LIMIT} bytes refused" in over.text
        assert _kept(files) == []

        good = c.put(path, content=body, headers={header: hashlib.sha256(body).hexdigest()})
        assert good.status_code == 200, good.text
        assert good.json()["bytes"] == len(body)
    assert [p.read_bytes() for p in _kept(files) if p.suffix != ".sha256"] == [body]
