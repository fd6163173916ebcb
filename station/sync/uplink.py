"""The station's side of the uplink: which rows go, and central's answer in sync's own terms.

The bytes themselves are the contract's (wire/event.py, wire/batch.py); this module only
selects the rows in the wire's field order and turns an answer the station cannot act on into
a SyncProtocolError, which the sync service reports and retries like any other failure.
"""

from __future__ import annotations

from station.sync.errors import SyncProtocolError
from wire.batch import Ack, AnswerError
from wire.batch import decode_ack as _decode_ack
from wire.event import FIELDS

EVENT_SELECT = f"SELECT {', '.join(FIELDS)} FROM events WHERE seq > ? ORDER BY seq LIMIT ?"
"""The events after a cursor, oldest first, in wire order."""


def decode_ack(status: int, body: bytes, station: str) -> Ack:
    """Central's 200 answer to a batch; SyncProtocolError if it is anything else."""
    try:
        return _decode_ack(status, body, station)
    except AnswerError as e:
        raise SyncProtocolError(str(e)) from None
