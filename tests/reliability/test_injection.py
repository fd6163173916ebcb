"""SQL injection, path traversal and hostile text through every text field, on the real servers.

The daemon's fields come from its own OpenAPI document (every string path and query parameter,
every string property of a JSON body), so a field added tomorrow is attacked too. Each attack
must be refused with a clear 4xx or stored and answered back exactly as sent; afterwards every
table and the usage log's append-only trigger are still there, nothing was lost from the log,
and no file appeared outside the data directory.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from schemathesis import Case

from central.storage.pg_cluster import ThrowawayCluster
from tests.reliability.apifuzzkit import (
    BACKENDS,
    ApiField,
    ApiFuzzer,
    CentralUnderTest,
    base_case,
    bound_long_poll,
    central_server,
    central_storage,
    daemon_known_ids,
    fixed_for,
    throwaway_cluster,
    walk_fields,
    with_value,
)
from tests.reliability.report import record
from tests.simstation import TOKENS
from tests.station.conftest import services_config, start_harness

ATTACKS = {
    "sql-drop": "'; DROP TABLE events; --",
    "sql-or": "' OR '1'='1",
    "sql-stacked": "1; DELETE FROM loans",
    "sql-quote-paren": "x'); DELETE FROM tools; --",
    "traversal": "../../etc/passwd",
    "traversal-encoded": "..%2f..%2fetc%2fpasswd",
    "traversal-windows": "..\\..\\windows\\win.ini",
    "nul": "ab\x00cd",
    "nul-encoded": "ab%00cd",
    "control": "a\x01\x07\x1b[31m\r\nb\tc",
    "rtl-override": "gpj.\u202eexe",
    "emoji": "🔧🧰👍🏽",
    "chinese": "藿香正气水 清凉油",
    "long": "长" * 5000,
    "lone-surrogate": "ab\ud800cd",
}
URL_UNSENDABLE = {"lone-surrogate"}
"""A lone surrogate cannot be put in a URL at all (it has no UTF-8); in JSON it is an escape."""
FIELD_FLOOR = 60
"""The daemon has ~90 text fields; far fewer found means the walker broke, not the API."""

NOT_STORED = {
    "POST /api/v1/staff/login body:staff_no",
    "POST /api/v1/members/lookup body:phone",
}
"""Fields that are only looked up, never kept: accepted without being stored is right."""


def table_state(db: Path) -> tuple[dict[str, int], dict[str, str]]:
    """Row counts of every table, and the SQL of every trigger."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        triggers = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type='trigger'"))
    finally:
        conn.close()
    return counts, triggers


def files_outside(root: Path, data_dir: Path) -> set[Path]:
    """Every file and directory under the test's directory, except in the data dir."""
    return {p for p in root.rglob("*") if not p.is_relative_to(data_dir)}


def stored_text(db: Path) -> list[str]:
    """Every text value in the database, JSON columns decoded to their strings."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    out: list[str] = []
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for t in tables:
            for row in conn.execute(f'SELECT * FROM "{t}"'):
                for value in row:
                    if isinstance(value, str):
                        out += strings_in(value)
    finally:
        conn.close()
    return out


def strings_in(value: Any) -> list[str]:
    """The strings inside a value, a JSON text or a decoded JSON document."""
    if isinstance(value, str):
        if value[:1] in "{[":
            try:
                return [value, *strings_in(json.loads(value))]
            except ValueError:
                pass
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*strings_in(k), *strings_in(v))]
    if isinstance(value, list):
        return [s for v in value for s in strings_in(v)]
    return []


def fresh_ids() -> Any:
    """Creation routes refuse a second thing with the same id: give each attack its own, so the
    attack on the other fields is judged, not the duplicate."""
    n = itertools.count(1)

    def adjust(case: Case, token: str) -> None:
        bound_long_poll(case, token)
        body = case.body if isinstance(case.body, dict) else None
        label = case.operation.label
        if body is None or label not in ("POST /api/v1/tools", "POST /api/v1/staff"):
            return
        key = "id" if label == "POST /api/v1/tools" else "staff_no"
        if isinstance(body.get(key), str) and body[key].isascii() and body[key].isalnum():
            body[key] = f"inj{next(n)}"

    return adjust


def attacks_for(f: ApiField) -> dict[str, str]:
    if f.location == "body":
        return ATTACKS
    return {k: v for k, v in ATTACKS.items() if k not in URL_UNSENDABLE}


async def test_daemon_text_fields_take_attacks(tmp_path: Path) -> None:
    async with start_harness(services_config(tmp_path)) as h:
        db = h.station.config.station.data_dir / "station.db"
        known = await daemon_known_ids(h)
        doc = (await h.kiosk.get("/openapi.json")).json()
        fields = [f for f in walk_fields(doc) if f.kind == "string" and f.location != "header"]
        assert len(fields) >= FIELD_FLOOR, f"only {len(fields)} text fields found: {fields}"
        outside = files_outside(tmp_path, db.parent)
        counts, triggers = table_state(db)
        assert "events_append_only" in triggers

        fuzzer = ApiFuzzer(
            doc, h.station.url, {"staff": TOKENS["staff"], "kiosk": TOKENS["kiosk"]}, fresh_ids()
        )
        fixed = fixed_for(fuzzer, known)

        def attack() -> list[tuple[ApiField, str, list[str]]]:
            ops = {op.label: op for op in fuzzer.operations()}
            accepted: list[tuple[ApiField, str, list[str]]] = []
            for f in fields:
                base = base_case(ops[f.label], fixed.get(f.label))
                for name, text in attacks_for(f).items():
                    for token in fuzzer.tokens.values():
                        r = fuzzer.send(with_value(base, f, text), token)
                        if r is not None and r.status_code < 300 and f.location == "body":
                            answer = strings_in(json.loads(r.content)) if r.content else []
                            accepted.append((f, name, answer))
            return accepted

        started = time.monotonic()
        accepted = await asyncio.to_thread(attack)
        elapsed = time.monotonic() - started
        assert (await h.kiosk.get("/healthz")).status_code == 200

        after, triggers_after = table_state(db)
        assert triggers_after == triggers, "a trigger of the database changed or went"
        assert set(after) >= set(counts), f"tables gone: {set(counts) - set(after)}"
        for table in ("events", "tools", "staff", "members", "lockers", "supplies"):
            if table in counts:
                assert after[table] >= counts[table], f"rows lost from {table}"
        created = files_outside(tmp_path, db.parent) - outside
        assert not created, f"files appeared outside the data dir: {created}"

        kept = stored_text(db)
        mangled = [
            f"{f} {name}"
            for f, name, answer in accepted
            if str(f) not in NOT_STORED
            and not any(ATTACKS[name] in s for s in answer)
            and not any(ATTACKS[name] in s for s in kept)
        ]

    tally = fuzzer.tally
    record("attacks_refused", tally.refused)
    record("requests_fuzzed", tally.requests)
    record("server_errors", tally.server_errors)
    assert not tally.findings, f"{len(tally.findings)} bad answers:\n{tally.distinct()}"
    assert not mangled, f"accepted but not kept as sent: {mangled}"
    assert tally.refused > len(fields), "almost nothing was refused: the attacks did not arrive"
    assert accepted, "no attack text was accepted anywhere: the bases are broken"
    assert elapsed < 60, elapsed


async def test_unstorable_text_in_any_json_is_a_422(tmp_path: Path) -> None:
    """Found by the injection run: half a UTF-16 pair in a list of strings (a tool's
    accessories) passed validation and failed in the SQLite write as a 500; a NUL in a reason
    was stored, and then refused by PostgreSQL at central on every sync attempt. Either, in any
    field, list or key of a JSON body, is now a 422 that says what is wrong."""
    async with start_harness(services_config(tmp_path)) as h:
        staff = await h.staff()
        tool = {
            "id": "SUR1",
            "name_zh": "电钻",
            "name_en": "Drill",
            "category": "power",
            "loan_period": 2,
            "accessories": ["bit \ud800"],
        }
        for body, words in (
            (tool, "surrogate"),
            ({**tool, "accessories": [], "name_en": {"\udfff": 1}}, "surrogate"),
            ({**tool, "accessories": ["bit\x00"]}, "NUL"),
        ):
            raw = json.dumps(body).encode()  # ensure_ascii: the surrogate goes as an escape
            r = await staff.post(
                "/api/v1/tools", content=raw, headers={"Content-Type": "application/json"}
            )
            assert r.status_code == 422 and words in r.json()["detail"], r.text
        r = await staff.get("/api/v1/tools/SUR1")
        assert r.status_code == 404, r.text
        r = await staff.post("/api/v1/lockers/A05/open", json={"reason": "check\x00it"})
        assert r.status_code == 422 and "body.reason" in r.json()["detail"], r.text
        assert h.sim.unlocks(5) == 0
        r = await staff.post("/api/v1/tools", json={**tool, "accessories": ["bit 🔧"]})
        assert r.status_code == 201 and r.json()["accessories"] == ["bit 🔧"], r.text


# --- central -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pg_cluster() -> Iterator[ThrowawayCluster]:
    with throwaway_cluster() as cluster:
        yield cluster


@pytest.fixture(params=BACKENDS)
def central(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CentralUnderTest]:
    with central_server(central_storage(request, tmp_path)) as server:
        yield server


def wire_event(seq: int, **text: str) -> dict[str, Any]:
    return {
        "seq": seq,
        "id": f"ev-{seq}",
        "type": "door_opened",
        "ts": 1_767_225_600.0 + seq,
        "ts_corrected": None,
        "mono": 50.0 + seq,
        "boot_id": "b1",
        "clock_synced": True,
        "actor": "staff:3",
        "locker": "A02",
        "payload": {"reason": text.pop("reason", "restock")},
        **text,
    }


def test_central_text_fields_take_attacks(central: CentralUnderTest) -> None:
    url, tokens = central.url, central.tokens
    office = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens['office']}"})
    station = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens['station']}"})
    refused = sent = 0
    with office, station:
        # Stored through ingest: each text field of an event, then read back as sent.
        seq = 0
        kept: dict[int, dict[str, str]] = {}
        for text in ATTACKS.values():
            for key in ("id", "type", "actor", "locker", "boot_id", "reason"):
                seq += 1
                sent += 1
                fields = {key: f"{text}#{seq}" if key == "id" else text}
                body = {"station": "S001", "after": seq - 1, "events": [wire_event(seq, **fields)]}
                r = station.post(
                    "/api/v1/ingest",
                    content=json.dumps(body).encode(),
                    headers={"Content-Type": "application/json"},
                )
                assert r.status_code < 500, r.text
                if r.status_code == 200 and "quarantined" in r.json():
                    refused += 1  # stored apart in its place (issue 18): the log goes on
                    assert r.json()["quarantined"][0]["seq"] == seq, r.text
                elif r.status_code == 200:
                    kept[seq] = fields
                else:
                    refused += 1
                    assert r.json()["detail"], r.text
                    # keep the station's log contiguous for the next attack
                    filler = {"station": "S001", "after": seq - 1, "events": [wire_event(seq)]}
                    assert station.post("/api/v1/ingest", json=filler).status_code == 200
        assert kept, "no attack text was accepted by ingest"
        page = office.get("/api/v1/events", params={"station": "S001", "limit": 1000}).json()
        by_seq = {e["seq"]: e for e in page["events"]}
        for s, fields in kept.items():
            ((key, text),) = fields.items()
            event = by_seq[s]
            got = event["payload"]["reason"] if key == "reason" else event[key]
            assert got == text, f"{key} came back as {got!r}, sent {text!r}"

        # The office's filters and the station path.
        for text in (v for k, v in ATTACKS.items() if k not in URL_UNSENDABLE):
            for path, params in (
                ("/api/v1/events", {"station": text}),
                ("/api/v1/events", {"type": text}),
                ("/api/v1/fleet/history", {"station": text}),
            ):
                sent += 1
                r = office.get(path, params=params)
                assert r.status_code < 500, r.text
                if r.status_code >= 400:
                    refused += 1
                    assert r.json()["detail"], r.text
                else:
                    # a filter matches exactly what equals it (the attack texts stored above)
                    ((key, value),) = params.items()
                    for e in r.json().get("events", []):
                        assert e[key] == value, f"filter {key}={value!r} matched {e}"
            sent += 1
            r = office.get("/api/v1/fleet/stations/" + quote(text, safe=""))
            assert r.status_code < 500 and r.status_code >= 400, r.text
            refused += 1
    assert central_counts_intact(url, tokens["office"], seq)
    record("attacks_refused", refused)
    record("requests_fuzzed", sent)


def central_counts_intact(url: str, office_token: str, last_seq: int) -> bool:
    """Every event the attacks sent (or the fillers that replaced them) is still there."""
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {office_token}"}) as c:
        page = c.get("/api/v1/events", params={"station": "S001", "limit": 1000}).json()
        stations = c.get("/api/v1/stations").json()["stations"]
    return [e["seq"] for e in page["events"]] == list(range(1, last_seq + 1)) and len(stations) == 1


def test_central_refuses_nul_on_every_backend(central: CentralUnderTest) -> None:
    """Found by the injection run on PostgreSQL: a NUL in an event's text or payload, in the
    telemetry, or in the office's ?type= was a 500 (PostgreSQL text and jsonb cannot hold it),
    and the station retried that batch forever. Then the batch was a 422 naming the field, which
    wedged the station's sync just the same (issue 18): now the event is quarantined in its
    place (stored as `quarantined`, its reason naming the field, the rest acknowledged), the
    telemetry is dropped (the events are stored), and the query a 422."""
    station = httpx.Client(
        base_url=central.url, headers={"Authorization": f"Bearer {central.tokens['station']}"}
    )
    office = httpx.Client(
        base_url=central.url, headers={"Authorization": f"Bearer {central.tokens['office']}"}
    )
    with station, office:
        bad = ({"type": "door\x00"}, {"actor": "a\x00"}, {"reason": "x\x00y"})
        for seq, fields in enumerate(bad, start=1):
            body = {"station": "S001", "after": seq - 1, "events": [wire_event(seq, **fields)]}
            r = station.post("/api/v1/ingest", json=body)
            assert r.status_code == 200 and r.json()["acked_seq"] == seq, r.text
            (held,) = r.json()["quarantined"]
            assert held["seq"] == seq and "NUL" in held["reason"], r.text
        body = {
            "station": "S001",
            "after": 3,
            "events": [wire_event(4)],
            "telemetry": {"a": "\x00"},
        }
        r = station.post("/api/v1/ingest", json=body)
        assert r.status_code == 200 and "NUL" in r.json()["telemetry_dropped"], r.text
        r = office.get("/api/v1/events", params={"type": "door\x00"})
        assert r.status_code == 422 and "NUL" in r.json()["detail"], r.text
        stored = office.get("/api/v1/events").json()["events"]
        assert [(e["seq"], e["type"]) for e in stored] == [
            (1, "quarantined"),
            (2, "quarantined"),
            (3, "quarantined"),
            (4, wire_event(4)["type"]),
        ]
