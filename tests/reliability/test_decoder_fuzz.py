"""Every decoder a booth meets, fed garbage and near-misses: a result or our own clear error.

Sync batches (central's gunzip and batch parser), the station's TOML config, downlink bundles
(check, validate, apply with the last good one kept), plus what tests/drivers does not already
cover for the serial framers: any split of the byte stream gives the same frames, and valid
radar frames are found between noise. Each test counts the examples hypothesis really ran.
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import json
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import HTTPException
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from central.app import _gunzip, _parse_batch
from central.bundles import load_bundle_files
from central.settings import CentralSettings
from drivers.lockboard import dip8
from drivers.lockboard.codec import Framer, Noise
from drivers.radar.ld2410 import FrameError as RadarFrameError
from drivers.radar.ld2410 import Ld2410Framer, RadarReport, encode_report
from station.clock import FakeClock
from station.config import ConfigError, StationConfig, load_config, parse_config
from station.people.from_central import apply_people
from station.services.registry import SERVICE_SCHEMAS
from station.store import Store
from station.sync.downlink import Received, apply_bundle, check_received, load_current_bundle
from station.sync.errors import SyncProtocolError
from station.sync.service import SYNC_SCHEMA
from station.sync.uplink import decode_ack
from tests.drivers.lockboard.test_dip8_codec import answers as dip8_answers
from tests.drivers.radar.test_ld2410_codec import reports as radar_reports
from tests.reliability.report import record
from tests.simstation import sim_config_data
from tests.station.sync.test_sync_bundle import document as bundle_document
from wire.batch import Ack, error_detail
from wire.bundle import Bundle, BundleError, parse_bundle, sha256_hex

EXAMPLES = 150
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
EXAMPLE_TOML = Path(__file__).resolve().parents[2] / "deploy" / "station.example.toml"


class Counter:
    def __init__(self) -> None:
        self.n = 0

    def tick(self) -> None:
        self.n += 1


@pytest.fixture
def fuzzed() -> Iterator[Counter]:
    """Counts examples run; the figure goes to the suite's summary."""
    counter = Counter()
    yield counter
    record("inputs_fuzzed", counter.n)
    assert counter.n > 0


# --- strategies ----------------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["", "S001", "A01", "$argon2id$v=19$m=8,t=1,p=1$x$y", "1" * 11]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def mutate(doc: Any, data: st.DataObject, rounds: int = 3) -> Any:
    """A copy of a JSON-like document with a few random edits deep inside it."""
    doc = copy.deepcopy(doc)
    for _ in range(data.draw(st.integers(1, rounds))):
        holder: Any = None
        key: Any = None
        node = doc
        while isinstance(node, dict | list) and node and data.draw(st.booleans()):
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            holder, key = node, data.draw(st.sampled_from(keys))
            node = node[key]
        if holder is None:
            if isinstance(doc, dict):
                doc[data.draw(st.text(max_size=8))] = data.draw(json_values)
            continue
        action = data.draw(st.sampled_from(["replace", "delete", "add", "duplicate"]))
        if action == "replace":
            holder[key] = data.draw(json_values)
        elif action == "delete":
            del holder[key]
        elif action == "add" and isinstance(holder, dict):
            holder[data.draw(st.text(max_size=8))] = data.draw(json_values)
        elif action == "duplicate" and isinstance(holder, list):
            holder.append(copy.deepcopy(node))
    return doc


def _event(seq: int) -> dict[str, Any]:
    return {
        "seq": seq,
        "id": f"{seq:032x}",
        "type": "door_opened",
        "ts": 1_767_225_600.0 + seq,
        "ts_corrected": None,
        "mono": 1000.0 + seq,
        "boot_id": "boot-1",
        "clock_synced": True,
        "actor": "member:42",
        "locker": "A01",
        "payload": {"reason": "借还", "i": seq},
    }


VALID_BATCH = {
    "station": "S001",
    "after": 0,
    "events": [_event(1), _event(2), _event(3)],
    "telemetry": {"v": 1, "sync": {"pending": 3}, "doors": {"open_ids": ["A01"]}},
}


# --- sync batches at central ---------------------------------------------------------------------


def _ingest(raw: bytes) -> str:
    """Central's decoding of one request body: 'ok' or the 4xx it answers."""
    settings_ = CentralSettings()
    try:
        body = _gunzip(raw, settings_.max_inflated_bytes)
        batch, events, _ = _parse_batch(body, settings_)
    except HTTPException as exc:
        assert 400 <= exc.status_code < 500, exc
        assert isinstance(exc.detail, str) and exc.detail
        return str(exc.status_code)
    json.dumps(batch.telemetry)  # what central stores must serialise
    assert len(events) == len(batch.events)
    return "ok"


def test_central_ingest_decodes_any_body_or_answers_4xx(fuzzed: Counter) -> None:
    valid = json.dumps(VALID_BATCH).encode()
    assert _ingest(gzip.compress(valid)) == "ok"

    @FUZZ
    @given(st.data())
    def run(data: st.DataObject) -> None:
        fuzzed.tick()
        kind = data.draw(st.sampled_from(["bytes", "json", "mutated", "cut", "flipped"]))
        if kind == "bytes":
            raw = data.draw(st.binary(max_size=200))
            if data.draw(st.booleans()):
                raw = gzip.compress(raw)
        elif kind == "json":
            raw = gzip.compress(json.dumps(data.draw(json_values)).encode())
        elif kind == "mutated":
            raw = gzip.compress(json.dumps(mutate(VALID_BATCH, data)).encode())
        else:
            packed = gzip.compress(valid)
            at = data.draw(st.integers(0, len(packed) - 1))
            if kind == "cut":
                raw = packed[:at]
            else:
                raw = (
                    packed[:at]
                    + bytes([packed[at] ^ data.draw(st.integers(1, 255))])
                    + packed[at + 1 :]
                )
        _ingest(raw)

    run()


def _deep(data: st.DataObject) -> str:
    """Brackets nested thousands deep: parsers that recurse per level run out of stack."""
    depth = data.draw(st.sampled_from([50, 2000, 20_000]))
    opener, closer = data.draw(st.sampled_from([("[", "]"), ('{"a":', "}"), ("{a=", "}")]))
    return opener * depth + "1" + closer * depth


def test_station_reads_any_answer_from_central_or_names_it_garbage(fuzzed: Counter) -> None:
    @FUZZ
    @given(st.data())
    def run(data: st.DataObject) -> None:
        fuzzed.tick()
        kind = data.draw(st.sampled_from(["bytes", "json", "mutated", "deep"]))
        if kind == "bytes":
            body = data.draw(st.binary(max_size=200))
        elif kind == "json":
            body = json.dumps(data.draw(json_values)).encode()
        elif kind == "mutated":
            ack = {"station": "S001", "acked_seq": 3, "stored": 3, "duplicates": 0}
            body = json.dumps(mutate(ack, data)).encode()
        else:
            body = _deep(data).encode()
        try:
            ack_ = decode_ack(200, body, "S001")
        except SyncProtocolError as exc:
            assert "answer" in str(exc)
        else:
            assert isinstance(ack_, Ack) and ack_.acked_seq >= 0
        assert isinstance(error_detail(body), str)

    run()


# --- the station's config ------------------------------------------------------------------------

TOML_VALUES = [
    "-1",
    "0",
    "1e999",
    "nan",
    "inf",
    "99999999999999999999",
    '""',
    '"x"',
    "[]",
    "{}",
    "true",
    '"../../etc/passwd"',
    '"/dev/null"',
    "[1, 2]",
    '"A01"',
    "1979-05-27T07:32:00Z",
]


def _check_config(load: Callable[[], StationConfig], source: str) -> None:
    try:
        config = load()
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith(source), message
        assert len(message.splitlines()[0]) > len(source)
        return
    assert isinstance(config, StationConfig)


def test_config_text_loads_or_says_what_to_fix(fuzzed: Counter) -> None:
    lines = EXAMPLE_TOML.read_text(encoding="utf-8").splitlines()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "station.toml"

        @FUZZ
        @given(st.data())
        def run(data: st.DataObject) -> None:
            fuzzed.tick()
            kind = data.draw(st.sampled_from(["text", "bytes", "lines", "deep"]))
            if kind == "text":
                path.write_text(data.draw(st.text(max_size=200)), encoding="utf-8")
            elif kind == "deep":
                path.write_text(f"a = {_deep(data)}", encoding="utf-8")
            elif kind == "bytes":
                path.write_bytes(data.draw(st.binary(max_size=200)))
            else:
                edited = list(lines)
                for _ in range(data.draw(st.integers(1, 4))):
                    i = data.draw(st.integers(0, len(edited) - 1))
                    action = data.draw(st.sampled_from(["value", "delete", "duplicate", "char"]))
                    if action == "value" and "=" in edited[i]:
                        name = edited[i].split("=", 1)[0]
                        edited[i] = f"{name}= {data.draw(st.sampled_from(TOML_VALUES))}"
                    elif action == "delete":
                        del edited[i]
                    elif action == "duplicate":
                        edited.insert(i, edited[i])
                    else:
                        at = data.draw(st.integers(0, len(edited[i])))
                        ch = data.draw(st.characters())
                        edited[i] = edited[i][:at] + ch + edited[i][at:]
                path.write_text("\n".join(edited), encoding="utf-8", errors="surrogatepass")
            _check_config(lambda: load_config(path), str(path))

        run()


def test_config_data_parses_or_names_the_key(fuzzed: Counter) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        valid = sim_config_data(Path(tmp))
        assert isinstance(parse_config(copy.deepcopy(valid)), StationConfig)

        @FUZZ
        @given(st.data())
        def run(data: st.DataObject) -> None:
            fuzzed.tick()
            doc = mutate(valid, data, rounds=2)
            _check_config(lambda: parse_config(doc, "fuzz.toml"), "fuzz.toml")

        run()


# --- downlink bundles ----------------------------------------------------------------------------


def test_bundle_bytes_check_or_are_refused_with_a_reason(fuzzed: Counter) -> None:
    good = json.dumps(bundle_document()).encode()

    @FUZZ
    @given(st.data())
    def run(data: st.DataObject) -> None:
        fuzzed.tick()
        kind = data.draw(st.sampled_from(["bytes", "json", "mutated", "wrong_sum"]))
        if kind == "bytes":
            body = data.draw(st.binary(max_size=200))
        elif kind == "json":
            body = json.dumps(data.draw(json_values)).encode()
        else:
            body = json.dumps(mutate(bundle_document(), data)).encode()
        digest = sha256_hex(good if kind == "wrong_sum" else body)
        try:
            bundle = check_received(Received(2, digest, body))
        except BundleError as exc:
            assert str(exc)
            return
        assert isinstance(bundle, Bundle)
        assert parse_bundle(body) == bundle

    run()


def test_office_bundle_files_build_or_name_the_file(fuzzed: Counter) -> None:
    """Central builds bundles from the office's TOML/JSON files (`station central publish`)."""
    with tempfile.TemporaryDirectory() as tmp:

        @FUZZ
        @given(st.data())
        def run(data: st.DataObject) -> None:
            fuzzed.tick()
            suffix = data.draw(st.sampled_from([".json", ".toml"]))
            path = Path(tmp) / f"{data.draw(st.sampled_from(['bundle', 'members', 'tools']))}"
            path = path.with_suffix(suffix)
            kind = data.draw(st.sampled_from(["bytes", "mutated", "deep"]))
            if kind == "bytes":
                path.write_bytes(data.draw(st.binary(max_size=200)))
            elif kind == "deep":
                path.write_text(f"a = {_deep(data)}" if suffix == ".toml" else _deep(data))
            else:
                path.write_text(json.dumps(mutate(bundle_document(), data)), encoding="utf-8")
                path = (
                    path.with_suffix(".json")
                    if suffix == ".json"
                    else path.rename(path.with_suffix(".json"))
                )
            try:
                bundle = load_bundle_files([path])
            except BundleError as exc:
                assert str(path) in str(exc)
                return
            assert isinstance(bundle, Bundle)

        run()


REFUSED = (BundleError, ValueError, LookupError, TypeError)
"""What the sync service's bundle round turns into a recorded refusal (station/sync/service.py)."""


def test_a_bad_bundle_is_refused_and_the_last_good_one_kept(
    tmp_path: Path, fuzzed: Counter
) -> None:
    store = Store(tmp_path / "s.db", FakeClock(), [*SERVICE_SCHEMAS, SYNC_SCHEMA])
    try:
        good_body = json.dumps(bundle_document()).encode()
        good = Received(1, sha256_hex(good_body), good_body)
        store.write_now(lambda tx: apply_bundle(tx, good, check_received(good), [apply_people]))
        version = [1]

        @settings(
            max_examples=EXAMPLES // 3,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(st.data())
        def run(data: st.DataObject) -> None:
            fuzzed.tick()
            doc = mutate(bundle_document(), data)
            body = json.dumps(doc).encode()
            version[0] += 1
            received = Received(version[0], hashlib.sha256(body).hexdigest(), body)
            before = load_current_bundle(store)
            try:
                bundle = check_received(received)
                store.write_now(lambda tx: apply_bundle(tx, received, bundle, [apply_people]))
            except REFUSED:
                after = load_current_bundle(store)
                assert after is not None and before is not None
                assert after.version == before.version and after.bundle == before.bundle
                return
            current = load_current_bundle(store)
            assert current is not None and current.version == version[0]

        run()
    finally:
        store.close()


# --- serial framers: what tests/drivers does not cover yet ----------------------------------------


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    out, last = [], 0
    for p in points:
        out.append(data[last:p])
        last = p
    out.append(data[last:])
    return out


def test_dip8_framer_gives_the_same_answers_however_the_bytes_are_split(fuzzed: Counter) -> None:
    @FUZZ
    @given(st.data(), st.integers(1, 6))
    def run(data: st.DataObject, groups: int) -> None:
        fuzzed.tick()
        sent = data.draw(st.lists(dip8_answers(groups), max_size=5))
        stream = b"".join(data.draw(st.binary(max_size=6)) + dip8.encode_answer(a) for a in sent)
        whole = Framer(lambda b: dip8.scan_answers(b, groups))
        in_one = [f for f in whole.feed(stream) if not isinstance(f, Noise)]
        pieces = Framer(lambda b: dip8.scan_answers(b, groups))
        got: list[Any] = []
        for chunk in _split(stream, data.draw(st.lists(st.integers(0, 10_000), max_size=12))):
            got += [f for f in pieces.feed(chunk) if not isinstance(f, Noise)]
        assert got == in_one
        assert whole.pending == pieces.pending

    run()


_RADAR_HEADS = {0xF4, 0xFD}
radar_noise = st.binary(max_size=16).map(lambda b: bytes(x for x in b if x not in _RADAR_HEADS))


def _radar_frames(items: list[Any]) -> list[RadarReport]:
    return [i for i in items if isinstance(i, RadarReport)]


def test_radar_framer_finds_every_report_in_noise_however_split(fuzzed: Counter) -> None:
    @FUZZ
    @given(st.lists(st.tuples(radar_noise, radar_reports), max_size=5), st.data())
    def run(parts: list[tuple[bytes, RadarReport]], data: st.DataObject) -> None:
        fuzzed.tick()
        stream = b"".join(noise + encode_report(r) for noise, r in parts)
        framer = Ld2410Framer()
        got: list[Any] = []
        for chunk in _split(stream, data.draw(st.lists(st.integers(0, 10_000), max_size=12))):
            got += framer.feed(chunk)
        assert _radar_frames(got) == [r for _, r in parts]
        assert all(isinstance(i, RadarReport | RadarFrameError) for i in got)

    run()


def test_radar_framer_decodes_any_stream_the_same_in_any_pieces(fuzzed: Counter) -> None:
    @FUZZ
    @given(st.binary(max_size=120), st.lists(radar_reports, max_size=3), st.data())
    def run(noise: bytes, reports: list[RadarReport], data: st.DataObject) -> None:
        fuzzed.tick()
        stream = bytearray(noise)
        for r in reports:
            at = data.draw(st.integers(0, len(stream)))
            stream[at:at] = encode_report(r)
        whole = _radar_frames(Ld2410Framer().feed(bytes(stream)))
        framer = Ld2410Framer()
        got: list[Any] = []
        for chunk in _split(bytes(stream), data.draw(st.lists(st.integers(0, 10_000)))):
            got += framer.feed(chunk)
        assert _radar_frames(got) == whole

    run()
