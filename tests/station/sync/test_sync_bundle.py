"""The downlink: a good bundle is applied in one transaction; a bad one is refused, the old kept."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from argon2 import PasswordHasher

from station.store import Store, Tx
from tests.station.sync.synckit import Central, service
from wire.bundle import Bundle, BundleError, parse_bundle

PIN = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("1357")


def document(tools: int = 2) -> dict[str, Any]:
    return {
        "tools": [{"id": f"t{i}", "name": f"工具{i}", "locker": "A01"} for i in range(tools)],
        "members": [
            {
                "id": "m1",
                "phone_hash": hashlib.sha256(b"x").hexdigest(),
                "phone_last4": "0042",
                "pin_hash": PIN,
            }
        ],
        "staff": [{"staff_no": "s7", "name": "李师傅", "pin_hash": PIN, "role": "admin"}],
        "notices": [{"id": "n1", "text": "今日高温，请注意防暑"}],
        "settings": {"rest_area_open": True},
    }


def events_of(store: Store, kind: str) -> list[dict[str, Any]]:
    rows = store.query("SELECT payload FROM events WHERE type = ? ORDER BY seq", (kind,))
    return [json.loads(r["payload"]) for r in rows]


async def test_good_bundle_applied_then_bad_refused_and_old_kept(
    central: Central, make_store: Callable[..., Store], caplog: pytest.LogCaptureFixture
) -> None:
    store = make_store()
    applied: list[int] = []

    def applier(tx: Tx, bundle: Bundle, version: int) -> None:
        tx.conn.execute("CREATE TABLE IF NOT EXISTS test_tools (id TEXT PRIMARY KEY)")
        tx.conn.execute("DELETE FROM test_tools")
        tx.conn.executemany("INSERT INTO test_tools VALUES (?)", [(t.id,) for t in bundle.tools])
        if any(t.id == "explode" for t in bundle.tools):
            raise ValueError("tool 'explode' cannot be stocked at this station")
        applied.append(version)

    sync = service(store, central.url, central.token, bundle_appliers=[applier])
    assert await sync.check_bundle() == "current"
    assert sync.current_bundle() is None

    v1 = central.publish(document())
    assert await sync.check_bundle() == "applied"
    bundle = sync.current_bundle()
    assert bundle is not None and [t.id for t in bundle.tools] == ["t0", "t1"]
    assert bundle.staff[0].name == "李师傅" and applied == [v1]
    assert events_of(store, "bundle_applied")[-1]["version"] == v1
    assert await sync.check_bundle() == "current"

    # A malformed bundle (a newer central's format, or worse: a full phone number).
    bad = document()
    bad["members"][0]["phone"] = "13800001234"
    bad_body = json.dumps(bad)
    v2 = central.storage.publish_bundle(
        bad_body, hashlib.sha256(bad_body.encode()).hexdigest(), [], time.time()
    )
    assert await sync.check_bundle() == "rejected"
    assert await sync.check_bundle() == "rejected"
    status = sync.status()["bundle"]
    assert status["version"] == v1 and status["status"] == "rejected"
    assert status["rejected_version"] == v2
    assert "phone: unknown field" in status["rejected_reason"]
    assert [e["version"] for e in events_of(store, "bundle_rejected")] == [v2]  # logged once
    assert f"keeps running on bundle v{v1}" in caplog.text
    kept = sync.current_bundle()
    assert kept is not None and len(kept.tools) == 2

    # Damaged in transit: the checksum does not match.
    v3 = central.storage.publish_bundle(json.dumps(document(3)), "0" * 64, [], time.time())
    assert await sync.check_bundle() == "rejected"
    assert "damaged in transit" in sync.status()["bundle"]["rejected_reason"]

    # Refused by an applier: its partial writes roll back with everything else.
    explode = document()
    explode["tools"].append({"id": "explode", "name": "炸药"})
    v4 = central.publish(explode)
    assert await sync.check_bundle() == "rejected"
    assert store.query("SELECT id FROM test_tools ORDER BY id") == [{"id": "t0"}, {"id": "t1"}]
    assert sync.status()["bundle"]["version"] == v1

    # The office publishes a corrected bundle: applied, status clear again.
    v5 = central.publish(document(tools=3))
    assert await sync.check_bundle() == "applied"
    status = sync.status()["bundle"]
    assert status["version"] == v5 and status["status"] == "ok"
    assert status["rejected_version"] is None and applied == [v1, v5]
    assert {v2, v3, v4} < set(range(v1, v5))
    current = sync.current_bundle()
    assert current is not None and len(current.tools) == 3
    await sync.aclose()


async def test_bundle_check_rides_on_sync_and_survives_restart(
    central: Central, make_store: Callable[..., Store]
) -> None:
    store = make_store()
    version = central.publish(document())
    sync = service(store, central.url, central.token)
    assert (await sync.sync_once()).ok
    await sync.aclose()
    again = service(store, central.url, central.token)
    applied = again.applied_bundle()
    assert applied is not None and applied.version == version
    assert again.telemetry_summary()["bundle_version"] == version


def test_bundle_model_rules() -> None:
    good = parse_bundle(document())
    assert good.counts() == {"tools": 2, "members": 1, "staff": 1, "notices": 1, "settings": 1}
    for change, words in [
        (lambda d: d["members"][0].update(pin_hash="1357"), "pin_hash"),
        (lambda d: d["members"][0].update(phone_last4="42"), "phone_last4"),
        (lambda d: d["tools"].append(dict(d["tools"][0])), "repeated"),
        (lambda d: d["notices"][0].update(starts_at=10.0, ends_at=5.0), "ends_at"),
        (lambda d: d.update(format=2), "format"),
        (lambda d: d["settings"].update({"Bad Key": 1}), "settings"),
    ]:
        doc = document()
        change(doc)
        with pytest.raises(BundleError, match=words):
            parse_bundle(doc)
    with pytest.raises(BundleError, match="JSON"):
        parse_bundle(b"{not json")
