"""`station central members import/export`: a CSV of 1,000 members hashed with the fleet key,
published, fetched by a running station over real HTTP and identified there by card; first
PINs changed at the station; bad rows refused by row and column, with nothing written."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from central.app import create_app
from central.bundles import load_bundle_files
from central.cli import main
from central.server import BackgroundServer
from central.storage.sqlite import SQLiteStorage
from station.people.from_central import apply_people
from tests.simstation import running_station
from tests.station.conftest import PHONE_KEY, services_config
from wire.identity import card_hash

N = 1000


def phone(i: int) -> str:
    return f"139{i:08d}"


def card(i: int) -> str:
    return f"00{7_000_000 + i:08d}"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    return write(tmp_path, "fleet.key", PHONE_KEY + "\n")


def run(db: Path, *args: str) -> int:
    return main(["--db", str(db), *args])


def test_bad_rows_are_named_by_row_and_column_and_nothing_is_written(
    tmp_path: Path, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        "phone,name,card,max_loans",
        "13900000001,王芳,0012345678,2",
        "1390000000,李四,,",  # 10 digits
        "13900000001,张三,,",  # the number of row 2 again
        "13900000004,,0012345678,99",  # no name, row 2's card, too many loans
    ]
    csv_path = write(tmp_path, "members.csv", "\n".join(rows) + "\n")
    out = tmp_path / "members.json"
    db = tmp_path / "central.db"
    assert run(db, "members", "import", str(csv_path), "--key-file", str(key_file),
               "--out", str(out)) == 1  # fmt: skip
    err = capsys.readouterr().err
    assert "row 3, column phone: not a mainland China mobile number" in err
    assert "row 4, column phone: the same number as row 2" in err
    assert "row 5, column name: empty" in err
    assert "row 5, column card: the same card as row 2" in err
    assert "row 5, column max_loans: a whole number from 0 to 50" in err
    assert "1390000000" not in err and "0012345678" not in err
    assert not out.exists()
    header = write(tmp_path, "bad-header.csv", "mobile,name\n13900000001,王芳\n")
    assert run(db, "members", "import", str(header), "--key-file", str(key_file),
               "--out", str(out)) == 1  # fmt: skip
    assert "row 1 (header): missing column(s): phone; unknown column(s): mobile" in (
        capsys.readouterr().err
    )


async def test_a_thousand_members_import_publish_and_are_identified_at_the_station(
    tmp_path: Path, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = ["phone,name,card,max_loans"]
    lines += [f"{phone(i)},居民{i},{card(i)},{1 + i % 3}" for i in range(N)]
    csv_path = write(tmp_path, "members.csv", "\n".join(lines) + "\n")
    members_json = tmp_path / "members.json"
    db = tmp_path / "central.db"
    assert run(db, "members", "import", str(csv_path), "--key-file", str(key_file),
               "--out", str(members_json)) == 0  # fmt: skip
    assert f"{N} members ({N} with a card" in capsys.readouterr().err
    text = members_json.read_text()
    assert phone(7) not in text and card(7) not in text and "居民7" not in text

    assert run(db, "members", "export", str(members_json)) == 0
    exported = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert exported[0] == ["id", "phone_last4", "name", "cards", "max_loans", "pin", "active"]
    assert len(exported) == N + 1 and exported[8][1:] == [
        "0007",
        "居*",
        "1",
        "2",
        "at station",
        "yes",
    ]
    assert not any(phone(i) in ",".join(row) for i in (0, 7, 999) for row in exported)

    # First PINs for three more members: letters for the office, hashes in the bundle.
    few = write(tmp_path, "few.csv", "phone,name\n13700000001,赵一\n13700000002,钱二\n")
    few_json, letters = tmp_path / "few.json", tmp_path / "letters.csv"
    assert run(db, "members", "import", str(few), "--key-file", str(key_file), "--out",
               str(few_json), "--first-pins", str(letters)) == 0  # fmt: skip
    capsys.readouterr()
    assert oct(letters.stat().st_mode & 0o777) == "0o600"
    first = {row[1]: row[2] for row in list(csv.reader(letters.open()))[1:]}
    assert set(first) == {"137****0001", "137****0002"}

    # One members section per bundle: merge both lists into the published one.
    merged = tmp_path / "all" / "members.json"
    merged.parent.mkdir()
    merged.write_text(text.rstrip().rstrip("]") + "," + few_json.read_text().lstrip().lstrip("["))
    assert run(db, "register", "TEST-0001") == 0
    token = capsys.readouterr().out.strip()
    assert run(db, "publish", str(merged)) == 0

    storage = SQLiteStorage(db)
    try:
        with BackgroundServer(create_app(storage)) as server:
            data = services_config(tmp_path / "station")
            data["sync"] = {"url": server.url, "token": token, "interval_s": 0.2}
            data["sync"]["bundle_interval_s"] = 0.2
            async with running_station(data) as st, st.client("kiosk") as kiosk:
                sync = st.daemon.station.sync
                await st.wait_for(lambda: sync.current_bundle() is not None, 60)
                services = st.daemon.station.services
                rows = st.daemon.station.store.query(
                    "SELECT c.hash, m.id FROM cards c JOIN members m ON m.id = c.owner"
                )
                assert len(rows) == N
                # The station hashes what its reader reads and finds each member.
                cards = services.members.cards
                for i in range(0, N, 37):
                    owner = await cards.owner_of(cards.card_id(card(i)))
                    member = await services.members.lookup(phone(i))
                    assert owner is not None and owner.owner == member.id
                    assert member.pin_state == "unset"
                assert card_hash(PHONE_KEY, card(5)) in {r["hash"] for r in rows}

                # A first PIN identifies, but only to choose a new one.
                body = {"phone": "13700000001", "pin": first["137****0001"]}
                r = await kiosk.post("/api/v1/members/identify", json=body)
                assert r.status_code == 200, r.text
                assert r.json()["member"]["pin_state"] == "must_change"
                session = {"X-Member-Session": r.json()["session"]}
                r = await kiosk.get("/api/v1/members/me", headers=session)
                assert (r.status_code, r.json()["code"]) == (403, "pin_change_required")
                r = await kiosk.post("/api/v1/members/me/pin", json={"pin": "604817"},
                                     headers=session)  # fmt: skip
                assert r.status_code == 200 and r.json()["pin_state"] == "set", r.text
                body = {"phone": "13700000001", "pin": "604817"}
                r = await kiosk.post("/api/v1/members/identify", json=body)
                assert r.status_code == 200 and r.json()["member"]["pin_state"] == "set"
                # The list applied again (the office's next bundle) keeps the member's own PIN.
                bundle = load_bundle_files([merged])
                await st.daemon.station.store.write(lambda tx: apply_people(tx, bundle, 2))
                r = await kiosk.post("/api/v1/members/identify", json=body)
                assert r.status_code == 200 and r.json()["member"]["pin_state"] == "set"
    finally:
        storage.close()
