"""What a board answers to an unlock, configured or learnt: one small state machine per board.

Boards and firmware differ (shared/design/hardware.md): a KR-CU16 may answer an unlock with its
9-byte status frame, another cu board with a 6-byte acknowledgement, some with nothing. With
`unlock_answer = "auto"` the driver learns the shape from what the board does:
- a frame heard in answer to an unlock (on time, or late while the next status read runs)
  teaches its shape at once;
- an unlock heard by nobody, followed by a status read the board answers (so it is alive and
  simply does not answer unlocks), counts as silent; SILENT_TO_LEARN of those in a row teach
  "none". Until then a silent unlock is uncertain, as it would be on an answering board.
A learnt shape is never final: a board learnt as "none" that answers is learnt again.
Once a board is known to acknowledge ("ack", learnt or configured), only an acknowledgement
answers its unlock: a status frame of that board heard in the unlock's wait may be a poll's
late answer (a stale reading), so it is neither the unlock's answer nor a lesson. A board that
really changed its mind is still learnt again: STATUS_TO_RELEARN unlocks in a row that heard a
status frame and no acknowledgement teach "status" (each of them is uncertain; a configured
shape is never relearnt).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from drivers.lockboard.spec import UnlockAnswer

Shape = Literal["status", "ack", "none"]
SILENT_TO_LEARN = 2
STATUS_TO_RELEARN = 2


class UnlockAnswers:
    def __init__(
        self,
        configured: UnlockAnswer,
        learned: Shape | None = None,
        on_learned: Callable[[Shape], None] | None = None,
    ) -> None:
        self.configured: UnlockAnswer = configured
        self.learned: Shape | None = learned if configured == "auto" else None
        self._on_learned = on_learned
        self._silent = 0
        self._unconfirmed = False
        self._status_instead = 0

    @property
    def expected(self) -> Shape | None:
        """The shape an unlock should get back; None while an auto board is still unknown."""
        if self.configured != "auto":
            return self.configured  # type: ignore[return-value]
        return self.learned

    @property
    def waits(self) -> bool:
        """Whether an unlock waits for an answer at all."""
        return self.expected != "none"

    @property
    def silence_is_uncertain(self) -> bool:
        """A silent unlock is uncertain unless the board is known to answer nothing."""
        return self.expected != "none"

    def describe(self) -> str:
        if self.configured != "auto":
            return f"{self.configured} (configured)"
        if self.learned is None:
            return "auto (not learnt yet: no unlock since start)"
        return f"{self.learned} (learnt)"

    @property
    def takes_status(self) -> bool:
        """Whether a status frame counts as an unlock's answer: not on a board known to
        acknowledge (there it may be a timed-out poll's late answer)."""
        return self.expected != "ack"

    def heard(self, shape: Literal["status", "ack"]) -> None:
        self._silent = 0
        self._unconfirmed = False
        self._status_instead = 0
        self._learn(shape)

    def silent(self) -> None:
        """An unlock got no answer in its window; the next good status read confirms it."""
        self._unconfirmed = True
        self._status_instead = 0

    def status_instead(self) -> None:
        """An unlock of a board known to acknowledge heard no acknowledgement in its wait, but
        a status frame of the board: a late poll answer, or the board now answers unlocks that
        way. STATUS_TO_RELEARN in a row teach "status"."""
        self._silent = 0
        self._unconfirmed = False
        self._status_instead += 1
        if self._status_instead >= STATUS_TO_RELEARN:
            self._status_instead = 0
            self._learn("status")

    def board_alive(self) -> None:
        """The board answered a status read after a silent unlock, with no late answer."""
        if not self._unconfirmed:
            return
        self._unconfirmed = False
        self._silent += 1
        if self._silent >= SILENT_TO_LEARN:
            self._learn("none")

    def _learn(self, shape: Shape) -> None:
        if self.configured != "auto" or self.learned == shape:
            return
        self.learned = shape
        if self._on_learned is not None:
            self._on_learned(shape)
