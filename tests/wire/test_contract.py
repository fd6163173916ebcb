"""The contract's one field list: every description of an event agrees with wire.event.FIELDS."""

from __future__ import annotations

import dataclasses
import gzip

import msgspec

from station.store import Event
from station.sync.uplink import EVENT_SELECT
from wire.batch import decode_batch, encode_batch
from wire.event import FIELDS, IncomingEvent, IngestEvent, WireEvent, encode_event

ROW = (7, "ev-7", "door_opened", 1.5, None, 2.5, "boot-1", True, "system", "A01", '{"x":1}')


def test_every_description_of_an_event_has_the_wire_fields() -> None:
    assert tuple(WireEvent.model_fields) == FIELDS
    assert IngestEvent.__struct_fields__ == FIELDS
    assert IncomingEvent.__struct_fields__ == FIELDS
    assert {f.name for f in dataclasses.fields(Event)} == set(FIELDS)
    assert EVENT_SELECT.startswith("SELECT " + ", ".join(FIELDS) + " FROM events")


def test_the_encoder_writes_what_the_decoder_reads() -> None:
    decoded = msgspec.json.decode(encode_event(ROW), type=IngestEvent)
    assert decoded.incoming("event") == IncomingEvent(*ROW[:-1], payload='{"x":1}')
    assert WireEvent.model_validate_json(encode_event(ROW)).payload == {"x": 1}
    batch = encode_batch("ST-1", 6, [ROW], max_bytes=10_000, telemetry=None)
    body, events = decode_batch(gzip.decompress(batch.body))
    assert [e.seq for e in events] == [7] and body.after == 6


def test_every_alarm_the_station_raises_is_one_central_knows() -> None:
    """Each `raise_alarm(tx, "<type>"...)` in the station names a type of wire/alarms.py."""
    import re
    from pathlib import Path

    from wire.alarms import STATION_ALARMS

    root = Path(__file__).resolve().parents[2] / "station"
    raised = set()
    for path in root.rglob("*.py"):
        text = path.read_text()
        raised |= set(re.findall(r'raise_alarm\(\s*tx,\s*"([a-z_]+)"', text))
        raised |= set(re.findall(r'^ALARM = "([a-z_]+)"', text, re.M))
    assert raised and raised <= set(STATION_ALARMS)
