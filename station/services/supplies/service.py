"""Supplies: consumables on the shelf (water, 藿香正气水, 清凉油, wipes) and when to restock.

The list and thresholds come from the config; counts come from staff (restocks and counts).
A count at or below its threshold raises a `low_stock` alarm for staff and, through the usage
log, the central office; a restock above it clears the alarm. A supply never counted has an
unknown count and raises nothing.
"""

from __future__ import annotations

from typing import Any

from station.alarms import AlarmService
from station.refusals import not_found
from station.services.config import SupplyConfig
from station.services.supplies.records import Supply
from station.store import Store, Tx


class SupplyService:
    def __init__(self, store: Store, supplies: list[SupplyConfig], alarms: AlarmService) -> None:
        self._store = store
        self._config = supplies
        self._alarms = alarms

    async def start(self) -> None:
        """Make the table match the config; counts of supplies still listed are kept."""

        def write(tx: Tx) -> None:
            known = {r[0] for r in tx.conn.execute("SELECT id FROM supplies")}
            for s in self._config:
                if s.id in known:
                    tx.conn.execute(
                        "UPDATE supplies SET name = ?, name_en = ?, unit = ?, threshold = ?"
                        " WHERE id = ?",
                        (s.name, s.name_en, s.unit, s.threshold, s.id),
                    )
                else:
                    tx.conn.execute(
                        "INSERT INTO supplies (id, name, name_en, unit, threshold, updated_at)"
                        " VALUES (?, ?, ?, ?, ?, ?)",
                        (s.id, s.name, s.name_en, s.unit, s.threshold, tx.now()),
                    )
                self._evaluate(tx, s.id)
            for gone in known - {s.id for s in self._config}:
                tx.conn.execute("DELETE FROM supplies WHERE id = ?", (gone,))
                self._alarms.clear_alarm(tx, "low_stock", gone, "no longer stocked here")

        await self._store.write(write)

    def _evaluate(self, tx: Tx, supply_id: str) -> None:
        row = tx.conn.execute("SELECT * FROM supplies WHERE id = ?", (supply_id,)).fetchone()
        if row["count"] is None:
            return
        if row["count"] <= row["threshold"]:
            self._alarms.raise_alarm(
                tx,
                "low_stock",
                supply_id,
                f"{row['name_en']} ({row['name']}): {row['count']} {row['unit']} left, "
                f"restock at {row['threshold']}",
            )
        else:
            self._alarms.clear_alarm(tx, "low_stock", supply_id, "restocked")

    async def list(self) -> list[Supply]:
        order = {s.id: i for i, s in enumerate(self._config)}
        rows = await self._store.aquery("SELECT * FROM supplies")
        return sorted((Supply.from_row(r) for r in rows), key=lambda v: order.get(v.id, 1_000))

    async def _change(
        self,
        supply_id: str,
        actor: str,
        event: str,
        note: str,
        *,
        added: int | None = None,
        count: int | None = None,
    ) -> Supply:
        def write(tx: Tx) -> Any:
            row = tx.conn.execute("SELECT * FROM supplies WHERE id = ?", (supply_id,)).fetchone()
            if row is None:
                raise not_found(f"supply {supply_id!r} at this station")
            was = row["count"]
            new = (was or 0) + added if added is not None else count
            now = tx.now()
            tx.conn.execute(
                "UPDATE supplies SET count = ?, counted_at = ?, updated_at = ? WHERE id = ?",
                (new, now, now, supply_id),
            )
            payload: dict[str, Any] = {"supply": supply_id, "was": was, "count": new, "note": note}
            if added is not None:
                payload["added"] = added
            tx.append(event, actor=actor, payload=payload)
            self._evaluate(tx, supply_id)
            return tx.conn.execute("SELECT * FROM supplies WHERE id = ?", (supply_id,)).fetchone()

        return Supply.from_row(await self._store.write(write))

    async def restock(self, supply_id: str, added: int, note: str, actor: str) -> Supply:
        return await self._change(supply_id, actor, "supply_restocked", note, added=added)

    async def count(self, supply_id: str, count: int, note: str, actor: str) -> Supply:
        return await self._change(supply_id, actor, "supply_counted", note, count=count)
