"""What the touchscreen knows of the station right now, kept current from the live stream.

Pure bookkeeping with no Textual in it: the app feeds it stream messages and asks it what to
show. Door states come straight from door events; changes the events only hint at (a board
back online, a locker released) are marked for a re-read of the locker list, so the UI never
invents a state the daemon did not report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DOOR_EVENTS = {"door_opened": "open", "door_closed": "closed", "door_unknown": "unknown"}
REFRESH_EVENTS = frozenset(
    {
        "board_offline",
        "board_online",
        "door_unlocked",
        "door_unlock_failed",
        "locker_released",
        "alarm_raised",
        "alarm_cleared",
    }
)


@dataclass
class LiveState:
    lockers: dict[str, dict[str, Any]] = field(default_factory=dict)
    occupancy: dict[str, Any] | None = None
    """The rest area as the daemon last pushed it (`{"kind": "occupancy"}` messages)."""
    last_seq: int = 0
    opened_seq: dict[str, int] = field(default_factory=dict)
    """Per locker, the seq of the last `door_opened` seen: a door opened and shut between two
    looks at the screen's state still counts as opened."""
    stale: bool = False
    """True when an event hinted at a change only a fresh locker list can show."""
    doors_lost: bool = False
    """True after the daemon dropped messages for us: door events may be missing too."""

    def load_lockers(self, lockers: list[dict[str, Any]]) -> None:
        """Take a locker list read from the API.

        Door states come with door events, in order, so a list read a moment ago must not
        overwrite a door event that arrived since; only after lost messages are its doors
        taken too. Faults, boards and pending unlocks, which events only hint at, are taken.
        """
        fresh = {lk["id"]: dict(lk) for lk in lockers}
        if not self.doors_lost:
            for lid, lk in fresh.items():
                if lid in self.lockers:
                    lk["door"] = self.lockers[lid]["door"]
        self.lockers = fresh
        self.doors_lost = False

    def apply(self, message: dict[str, Any]) -> dict[str, Any] | None:
        """Take one stream message; return the event it carried, if any."""
        kind = message.get("kind")
        if kind == "snapshot":
            # A new connection: the snapshot is the truth, doors included.
            self.lockers = {lk["id"]: dict(lk) for lk in message.get("lockers") or []}
            self.stale = self.doors_lost = False
            return None
        if kind == "occupancy" and isinstance(message.get("occupancy"), dict):
            self.occupancy = message["occupancy"]
            return None
        if kind == "gap":
            # The daemon dropped messages for us: the locker list must be read again.
            self.stale = self.doors_lost = True
            return None
        if kind != "event":
            return None
        event = message.get("event")
        if not isinstance(event, dict):
            return None
        seq = event.get("seq")
        if isinstance(seq, int):
            self.last_seq = max(self.last_seq, seq)
        etype = event.get("type")
        locker = event.get("locker")
        door = DOOR_EVENTS.get(str(etype))
        if door is not None and locker in self.lockers:
            self.lockers[locker]["door"] = door
            if door == "open":
                self.lockers[locker]["opening"] = False
                if isinstance(seq, int):
                    self.opened_seq[locker] = seq
        if etype in REFRESH_EVENTS:
            self.stale = True
        return event

    def door(self, locker_id: str) -> str:
        return str(self.lockers.get(locker_id, {}).get("door", "unknown"))

    def opened_since(self, locker_id: str, seq: int) -> bool:
        """Whether the door was seen open after usage-log entry `seq` (its unlock)."""
        return self.opened_seq.get(locker_id, 0) > seq or self.door(locker_id) == "open"

    def usable(self, locker_id: str) -> bool:
        """Whether the locker can be opened for a resident now (board answers, not faulty)."""
        lk = self.lockers.get(locker_id)
        return bool(lk) and bool(lk["board_online"]) and not lk["faulty"]

    def offline_lockers(self) -> set[str]:
        return {lid for lid, lk in self.lockers.items() if not lk.get("board_online", False)}
