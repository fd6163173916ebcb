"""Receiving and applying the central office's bundle, or refusing it and keeping the last good one.

A bundle is applied in one store transaction together with every registered applier (the
services' typed tables) and a `bundle_applied` event, so the station never runs on half of one.
A bundle that fails its checksum, its validation or an applier is refused as a whole, logged
once as `bundle_rejected`, and shown in status(); the station keeps running on the last good one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from station.store import Store, Tx
from wire.bundle import Bundle, BundleError, parse_bundle, sha256_hex

log = logging.getLogger("station.sync")

BundleApplier = Callable[[Tx, Bundle, int], Mapping[str, Any] | None]
"""Called inside the applying transaction with (tx, bundle, version); raising refuses the bundle.
It may return `{"applied": {section: counts}, "refused": [{"section", "id", "reason"}]}`: what
it took and the items it refused one by one, listed in the `bundle_applied` event."""

_KEEP_BUNDLES = 3


@dataclass(frozen=True, slots=True)
class AppliedBundle:
    version: int
    sha256: str
    applied_at: float
    bundle: Bundle


@dataclass(frozen=True, slots=True)
class Received:
    """A bundle as it came off the wire, before any check."""

    version: int
    sha256: str
    body: bytes


def check_received(received: Received) -> Bundle:
    """The validated bundle, or BundleError saying why it cannot be used."""
    actual = sha256_hex(received.body)
    if actual != received.sha256:
        raise BundleError(
            f"bundle v{received.version} was damaged in transit (sha256 {actual[:12]}, central "
            f"said {received.sha256[:12]})"
        )
    try:
        text = received.body.decode("utf-8")
    except UnicodeDecodeError:
        raise BundleError(f"bundle v{received.version} is not UTF-8 text") from None
    return parse_bundle(text)


def apply_bundle(
    tx: Tx,
    received: Received,
    bundle: Bundle,
    appliers: Sequence[BundleApplier],
) -> None:
    """Store and apply a validated bundle in the caller's transaction, and log its version."""
    now = tx.now()
    tx.conn.execute(
        "INSERT OR REPLACE INTO sync_bundles (version, sha256, body, applied_at)"
        " VALUES (?, ?, ?, ?)",
        (received.version, received.sha256, received.body.decode("utf-8"), now),
    )
    tx.conn.execute(
        "DELETE FROM sync_bundles WHERE version NOT IN"
        " (SELECT version FROM sync_bundles ORDER BY version DESC LIMIT ?)",
        (_KEEP_BUNDLES,),
    )
    tx.conn.execute(
        "UPDATE sync_state SET bundle_version = ?, bundle_rejected_version = NULL,"
        " bundle_rejected_reason = NULL WHERE id = 1",
        (received.version,),
    )
    applied: dict[str, Any] = {}
    refused: list[Any] = []
    for applier in appliers:
        report = applier(tx, bundle, received.version) or {}
        applied.update(report.get("applied", {}))
        refused.extend(report.get("refused", []))
    tx.append(
        "bundle_applied",
        actor="sync",
        payload={
            "version": received.version,
            "sha256": received.sha256,
            **bundle.counts(),
            "applied": applied,
            "refused": refused[:100],
        },
    )


def record_rejection(tx: Tx, version: int, reason: str) -> bool:
    """Note a refused bundle; log a `bundle_rejected` event only the first time for a version."""
    row = tx.conn.execute("SELECT bundle_rejected_version FROM sync_state WHERE id = 1").fetchone()
    first_time = row is None or row[0] != version
    tx.conn.execute(
        "UPDATE sync_state SET bundle_rejected_version = ?, bundle_rejected_reason = ?"
        " WHERE id = 1",
        (version, reason[:500]),
    )
    if first_time:
        tx.append(
            "bundle_rejected", actor="sync", payload={"version": version, "reason": reason[:300]}
        )
    return first_time


def load_current_bundle(store: Store) -> AppliedBundle | None:
    """The bundle the station runs on now, or None before the first one arrives."""
    rows = store.query(
        "SELECT b.version, b.sha256, b.applied_at, b.body FROM sync_bundles b"
        " JOIN sync_state s ON s.bundle_version = b.version WHERE s.id = 1"
    )
    if not rows:
        return None
    row = rows[0]
    try:
        bundle = parse_bundle(row["body"])
    except BundleError as exc:
        log.error("stored bundle v%s no longer validates (%s)", row["version"], exc)
        return None
    return AppliedBundle(row["version"], row["sha256"], row["applied_at"], bundle)


def bundle_status(store: Store) -> dict[str, Any]:
    row = store.query(
        "SELECT s.bundle_version, s.bundle_rejected_version, s.bundle_rejected_reason,"
        " b.applied_at, b.sha256 FROM sync_state s LEFT JOIN sync_bundles b"
        " ON b.version = s.bundle_version WHERE s.id = 1"
    )[0]
    return {
        "version": row["bundle_version"],
        "applied_at": row["applied_at"],
        "sha256": row["sha256"],
        "status": "rejected" if row["bundle_rejected_version"] is not None else "ok",
        "rejected_version": row["bundle_rejected_version"],
        "rejected_reason": row["bundle_rejected_reason"],
    }
