"""The live stream: committed usage-log events fanned out to every connected UI.

Each subscriber has a bounded queue; a subscriber too slow to keep up loses its oldest
messages and is told so (a `gap` marker), so one stuck client never holds back the daemon.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from station.store import Event

Message = dict[str, Any]


class LiveHub:
    def __init__(self, queue_size: int = 256) -> None:
        self._queues: set[asyncio.Queue[Message]] = set()
        self._size = queue_size

    def publish_events(self, events: list[Event]) -> None:
        for ev in events:
            self.publish({"kind": "event", "event": ev.to_dict()})

    def publish(self, message: Message) -> None:
        for q in list(self._queues):
            if q.full():
                q.get_nowait()
                q.put_nowait({"kind": "gap"})
                if q.full():
                    continue
            q.put_nowait(message)

    def subscribe(self) -> tuple[asyncio.Queue[Message], Callable[[], None]]:
        q: asyncio.Queue[Message] = asyncio.Queue(self._size)
        self._queues.add(q)
        return q, lambda: self._queues.discard(q)

    @property
    def subscribers(self) -> int:
        return len(self._queues)
