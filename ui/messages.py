"""Messages the app sends its screens when the station changes under them."""

from __future__ import annotations

from typing import Any

from textual.message import Message


class LiveEvent(Message):
    """One committed usage-log event from the daemon's live stream."""

    def __init__(self, event: dict[str, Any]) -> None:
        super().__init__()
        self.event = event

    @property
    def type(self) -> str:
        return str(self.event.get("type", ""))

    @property
    def locker(self) -> str | None:
        value = self.event.get("locker")
        return value if isinstance(value, str) else None


class LockersChanged(Message):
    """The app's locker list was read again (board online/offline, faults, a snapshot)."""


class FlowUpdate(Message):
    """A door flow changed state (the stream's copy: never carries a pickup code)."""

    def __init__(self, flow: dict[str, Any]) -> None:
        super().__init__()
        self.flow = flow


class OccupancyChanged(Message):
    """The rest area's state changed (occupied, vacant, unknown)."""

    def __init__(self, occupancy: dict[str, Any]) -> None:
        super().__init__()
        self.occupancy = occupancy
