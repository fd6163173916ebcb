"""The live stream: committed usage-log events fanned out to every connected UI.

Each subscriber has a bounded queue; a subscriber too slow to keep up loses its oldest
messages and is told so (a `gap` marker), so one stuck client never holds back the daemon.

Each subscriber sees what its role may read, no more: staff and central may read the usage log
(GET /events), so they get every event whole; the kiosk, which may not, gets the doors, the
occupancy and the flows (without their secrets), and of the other events only that one of a
kind happened at a locker, so its screens know when to read again: no actor, no payload.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from station.store import Event

Message = dict[str, Any]
View = Callable[[Message], Message | None]

KIOSK_EVENT_PREFIXES = (
    "door_",
    "board_",
    "locker_",
    "alarm_",
    "tool_",
    "loan_",
    "found_",
    "claim_",
    "deposit_",
    "supply_",
    "supplies_",
    "occupancy_",
)
"""Event types whose bare occurrence the kiosk's screens follow (a door moved, a tool came
back, an alarm to re-read). Staff logins, PIN failures, lockouts and the like are not among
them."""
_KIOSK_EVENT_KEYS = ("seq", "type", "ts", "locker")


def kiosk_view(message: Message) -> Message | None:
    """A stream message as the kiosk may see it, or None if it may not see it at all."""
    if message.get("kind") != "event":
        return message  # snapshot, occupancy, flows (published without secrets), station, gaps
    event = message["event"]
    if not str(event.get("type", "")).startswith(KIOSK_EVENT_PREFIXES):
        return None
    bare = {key: event.get(key) for key in _KIOSK_EVENT_KEYS}
    return {"kind": "event", "event": {**bare, "actor": None, "payload": {}}}


def whole(message: Message) -> Message | None:
    return message


VIEWS: dict[str, View] = {"kiosk": kiosk_view, "staff": whole, "central": whole}
"""What each role receives; a role missing here receives nothing but the snapshot."""


def view_of(role: str) -> View:
    return VIEWS.get(role, lambda _: None)


class LiveHub:
    def __init__(self, queue_size: int = 256, *, help_phone: str = "") -> None:
        self._queues: dict[asyncio.Queue[Message], View] = {}
        self._size = queue_size
        self.facts: Message = {"help_phone": help_phone}
        """What the touchscreen shows of the station's settings: in every snapshot, and
        published (`{"kind": "station", ...}`) when the office changes one remotely."""

    def set_facts(self, **facts: Any) -> None:
        """New values of the settings the screens show; connected screens hear of a change."""
        changed = {**self.facts, **facts}
        if changed != self.facts:
            self.facts = changed
            self.publish({"kind": "station", **changed})

    def publish_events(self, events: list[Event]) -> None:
        for ev in events:
            self.publish({"kind": "event", "event": ev.to_dict()})

    def publish(self, message: Message) -> None:
        for q, view in list(self._queues.items()):
            seen = view(message)
            if seen is None:
                continue
            if q.full():
                q.get_nowait()
                q.put_nowait({"kind": "gap"})
                if q.full():
                    continue
            q.put_nowait(seen)

    def subscribe(self, view: View = whole) -> tuple[asyncio.Queue[Message], Callable[[], None]]:
        """A queue of what `view` lets through (see `view_of` for a role's)."""
        q: asyncio.Queue[Message] = asyncio.Queue(self._size)
        self._queues[q] = view
        return q, lambda: self._queues.pop(q, None)

    @property
    def subscribers(self) -> int:
        return len(self._queues)
