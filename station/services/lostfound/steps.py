"""Lost and found's hand-in flow steps and the registration they share with the restart
settling. A step object is made per flow with what it needs (the store, the config's
deadlines, the item), so it depends on nothing private of the service that started it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

from station.services.config import LostFoundConfig
from station.services.flows import ITEM_MISSING, Flow, FlowRunner, log_at_door, unsettled_flows
from station.services.lostfound.records import CATEGORIES, HandInItem, Registered
from station.store import Store, Tx


def insert_item(
    tx: Tx,
    cfg: LostFoundConfig,
    item: HandInItem,
    actor: str,
    locker: str,
    flow_id: str,
    recovered: bool = False,
) -> Registered:
    """The item is in its locker: it gets its number (the finder's receipt)."""
    finder = item.finder
    now = tx.now()
    valuable = CATEGORIES[item.category][2]
    (next_id,) = tx.conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM found_items").fetchone()
    number = f"F{next_id:04d}"
    tx.conn.execute(
        "INSERT INTO found_items (id, number, category, colour, place, description, valuable,"
        " finder_id, finder_label, finder_masked, locker, in_locker, status, found_at,"
        " collect_by, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 'held', ?, ?, ?)",
        (
            next_id,
            number,
            item.category,
            item.colour,
            item.place,
            item.description,
            int(valuable),
            finder.hash if finder else None,
            finder.label if finder else None,
            finder.masked if finder else None,
            locker,
            now,
            now + cfg.valuables_collect_h * 3600 if valuable else None,
            now + cfg.retention_days * 86_400,
        ),
    )
    tx.append(
        "found_item_registered",
        actor=actor,
        locker=locker,
        payload={
            "number": number,
            "category": item.category,
            "colour": item.colour,
            "place": item.place,
            "valuable": valuable,
            "finder": finder.label if finder else None,
            "flow": flow_id,
            **({"recovered": True} if recovered else {}),
        },
    )
    return Registered(number=number, locker=locker, category=item.category, valuable=valuable)


def settle_cut_handins(tx: Tx, cfg: LostFoundConfig) -> None:
    """Hand-ins a restart cut short: a door seen open means an item went in, so it is
    registered from what the flow logged (description and finder contact are not logged,
    so staff fill them in); a door never seen open means nothing was handed in."""
    for cut in unsettled_flows(tx, "handin", ("found_item_registered", "found_handin_cancelled")):
        j = cut.journal
        if cut.door_opened:
            item = HandInItem(j["category"], j["colour"], j["place"], "", None)
            insert_item(tx, cfg, item, cut.actor, cut.locker, cut.flow, recovered=True)
        else:
            tx.append(
                "found_handin_cancelled",
                actor="system",
                locker=cut.locker,
                payload={
                    "category": j["category"],
                    "reason": "station restarted before the door opened",
                    "flow": cut.flow,
                },
            )


class HandInSteps:
    """A hand-in: registered as soon as the door opens, thanked once it shuts."""

    def __init__(
        self,
        store: Store,
        cfg: LostFoundConfig,
        item: HandInItem,
        item_present: Callable[[str], bool | None] = lambda locker: None,
    ) -> None:
        self._item_present = item_present
        self._store = store
        self._cfg = cfg
        self._item = item

    async def opened(self, flow: Flow) -> None:
        # Registered as soon as the door opens, not when it shuts: if the station restarts in
        # between, the item in the locker still has its record.
        registered = await self._store.write(
            lambda tx: insert_item(tx, self._cfg, self._item, flow.actor, flow.locker, flow.id)
        )
        flow.result.update(asdict(registered))

    async def not_opened(self, flow: Flow, why: str) -> None:
        await log_at_door(
            self._store,
            flow,
            "found_handin_cancelled",
            {"category": self._item.category, "reason": why, "flow": flow.id},
        )

    async def closed(self, flow: Flow, runner: FlowRunner) -> None:
        if self._item_present(flow.locker) is False:
            answer = await runner.ask(flow, ITEM_MISSING, self._cfg.answer_wait_s)
            if (answer or {}).get("choice") == "no":
                await self._store.write(lambda tx: self._release(tx, flow))
                flow.result["released"] = True
                flow.context["message_completed"] = (
                    f"Nothing was left in locker {flow.locker}; it is free again"
                )
                return
        flow.context["message_completed"] = (
            f"Thank you! Item {flow.result['number']} is registered in locker {flow.locker}"
        )

    @staticmethod
    def _release(tx: Tx, flow: Flow) -> None:
        """The finder says nothing went in: the record is closed, the locker free again."""
        number = flow.result["number"]
        tx.conn.execute(
            "UPDATE found_items SET status = 'removed', in_locker = 0, disposition = ?,"
            " disposition_reason = ?, closed_at = ? WHERE number = ?",
            ("released", "nothing handed in (sensor and finder agree)", tx.now(), number),
        )
        tx.append(
            "found_handin_released",
            actor=flow.actor,
            locker=flow.locker,
            payload={"number": number, "reason": "nothing handed in"},
        )

    async def not_closed(self, flow: Flow) -> None:
        await log_at_door(
            self._store,
            flow,
            "found_handin_abandoned",
            {"category": self._item.category, "number": flow.result["number"]},
            actor="system",
        )
