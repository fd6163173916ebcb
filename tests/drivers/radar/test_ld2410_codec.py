"""LD2410 codec: hand-assembled vectors, framing in noisy streams, and hypothesis fuzzing."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.radar.ld2410 import (
    CMD_ENABLE_CONFIG,
    CMD_ENABLE_ENGINEERING,
    FrameError,
    GateEnergies,
    Ld2410Framer,
    RadarAck,
    RadarCommand,
    RadarReport,
    TargetState,
    decode_frame,
    disable_engineering,
    enable_config,
    enable_engineering,
    encode_ack,
    encode_command,
    encode_report,
    end_config,
    read_firmware,
)

H = bytes.fromhex

# A person sitting still 1.2 m away: built byte by byte from the table in hardware.md.
BASIC_STILL = H(
    "F4F3F2F1"  # header
    "0D00"  # 13 data bytes
    "02AA"  # basic report, head
    "02"  # target state: still
    "0000"
    "00"  # moving: 0 cm, energy 0
    "7800"
    "41"  # still: 120 cm, energy 65
    "7800"  # detection distance 120 cm
    "5500"  # tail, check
    "F8F7F6F5"
)

# An engineering report: 8+8 gates and two extra bytes (light sensor, OUT pin).
ENGINEERING = H(
    "F4F3F2F1 2300 01AA 03 1E00 3C 0000 39 0000 08 08"
    " 3C22050303040306 05"
    " 0000391013060608 04"
    " 0305 5500 F8F7F6F5".replace(" ", "")
)


def test_basic_report_vector() -> None:
    decoded = decode_frame(BASIC_STILL)
    assert decoded == RadarReport(TargetState.STILL, 0, 0, 120, 65, 120)
    assert isinstance(decoded, RadarReport)
    assert decoded.present and decoded.target.still and not decoded.target.moving
    assert encode_report(decoded) == BASIC_STILL


def test_engineering_report_vector() -> None:
    decoded = decode_frame(ENGINEERING)
    assert isinstance(decoded, RadarReport)
    assert decoded.target is TargetState.MOVING_AND_STILL
    assert (decoded.moving_cm, decoded.moving_energy) == (30, 60)
    assert (decoded.still_cm, decoded.still_energy, decoded.detection_cm) == (0, 57, 0)
    assert decoded.gates == GateEnergies(
        moving=(0x3C, 0x22, 5, 3, 3, 4, 3, 6, 5),
        still=(0, 0, 0x39, 0x10, 0x13, 6, 6, 8, 4),
        extra=H("0305"),
    )
    assert encode_report(decoded) == ENGINEERING


def test_no_target_report() -> None:
    frame = H("F4F3F2F1 0D00 02AA 00 000000 000000 0000 5500 F8F7F6F5".replace(" ", ""))
    decoded = decode_frame(frame)
    assert isinstance(decoded, RadarReport)
    assert decoded.target is TargetState.NONE and not decoded.present


def test_command_vectors() -> None:
    assert enable_config() == H("FDFCFBFA0400FF00010004030201")
    assert end_config() == H("FDFCFBFA0200FE0004030201")
    assert enable_engineering() == H("FDFCFBFA0200620004030201")
    assert disable_engineering() == H("FDFCFBFA0200630004030201")
    assert read_firmware() == H("FDFCFBFA0200A00004030201")
    assert decode_frame(enable_config()) == RadarCommand(CMD_ENABLE_CONFIG, b"\x01\x00")


def test_ack_vector() -> None:
    # Enable-config ACK: status 0, protocol version 1, buffer size 0x40.
    frame = H("FDFCFBFA0800FF01000001004000 04030201".replace(" ", ""))
    decoded = decode_frame(frame)
    assert decoded == RadarAck(CMD_ENABLE_CONFIG, 0, H("01004000"))
    assert isinstance(decoded, RadarAck) and decoded.ok
    assert encode_ack(CMD_ENABLE_CONFIG, 0, H("01004000")) == frame
    failed = decode_frame(encode_ack(CMD_ENABLE_ENGINEERING, 1))
    assert isinstance(failed, RadarAck) and not failed.ok


def test_bad_frames_say_what_is_wrong() -> None:
    cases = {
        BASIC_STILL[:-1] + b"\x00": "footer",
        BASIC_STILL[:7] + b"\xab" + BASIC_STILL[8:]: "head byte",
        BASIC_STILL[:8] + b"\x07" + BASIC_STILL[9:]: "unknown target state 7",
        BASIC_STILL[:6] + b"\x05" + BASIC_STILL[7:]: "unknown report type",
        BASIC_STILL[:17] + b"\x56\x00" + BASIC_STILL[19:]: "tail",
        BASIC_STILL[:10]: "length field",
        b"\x00" * 3: "too short",
        H("FDFCFBFA0000") + H("04030201"): "without a command word",
        H("FDFCFBFA0200FF01") + H("04030201"): "lacks its status",
        H("01020304 0000 04030201".replace(" ", "")): "unknown frame header",
    }
    for frame, words in cases.items():
        decoded = decode_frame(frame)
        assert isinstance(decoded, FrameError), frame.hex()
        assert words in decoded.reason, (frame.hex(), decoded.reason)


def test_framer_joins_mid_frame_and_skips_noise() -> None:
    framer = Ld2410Framer()
    stream = BASIC_STILL[9:] + b"\x13\x37" + BASIC_STILL + H("F4F3") + ENGINEERING
    out = framer.feed(stream)
    frames = [d for d in out if not isinstance(d, FrameError)]
    errors = [d for d in out if isinstance(d, FrameError)]
    assert [type(f) for f in frames] == [RadarReport, RadarReport]
    assert frames[0] == decode_frame(BASIC_STILL)
    assert frames[1] == decode_frame(ENGINEERING)
    assert sum(len(e.skipped) for e in errors) == len(BASIC_STILL[9:]) + 2 + 2
    assert framer.pending == 0


def test_framer_survives_a_cut_frame_followed_by_a_whole_one() -> None:
    framer = Ld2410Framer()
    out = framer.feed(BASIC_STILL[:12] + BASIC_STILL)
    assert [d for d in out if isinstance(d, RadarReport)] == [decode_frame(BASIC_STILL)]


def test_framer_byte_by_byte() -> None:
    framer = Ld2410Framer()
    got = []
    for b in enable_config() + ENGINEERING + encode_ack(CMD_ENABLE_CONFIG):
        got.extend(framer.feed(bytes([b])))
    assert [type(d) for d in got] == [RadarCommand, RadarReport, RadarAck]


def test_framer_rejects_an_implausible_length_quickly() -> None:
    framer = Ld2410Framer()
    out = framer.feed(H("F4F3F2F1FFFF") + BASIC_STILL)
    assert isinstance(out[0], FrameError) and "implausible length" in out[0].reason
    assert decode_frame(BASIC_STILL) in out


def test_encode_command_refuses_a_bad_word() -> None:
    try:
        encode_command(0x10000)
    except ValueError as exc:
        assert "0..0xFFFF" in str(exc)
    else:
        raise AssertionError("a command word over 16 bits was accepted")


# --- properties --------------------------------------------------------------------------------

byte = st.integers(0, 255)
u16 = st.integers(0, 0xFFFF)
gates = st.lists(byte, min_size=1, max_size=9).map(tuple)

reports = st.builds(
    RadarReport,
    target=st.sampled_from(list(TargetState)),
    moving_cm=u16,
    moving_energy=byte,
    still_cm=u16,
    still_energy=byte,
    detection_cm=u16,
    gates=st.one_of(
        st.none(),
        st.builds(GateEnergies, moving=gates, still=gates, extra=st.binary(max_size=4)),
    ),
)
commands = st.builds(
    lambda word, value: encode_command(word & ~0x0100, value),
    u16,
    st.binary(max_size=20),
)
frames = st.one_of(reports.map(encode_report), commands)


def _no_header(b: bytes) -> bool:
    return H("F4F3F2F1") not in b and H("FDFCFBFA") not in b


noise = st.binary(max_size=40).filter(_no_header)


@settings(deadline=None)
@given(st.binary(max_size=300))
def test_decode_frame_never_raises(data: bytes) -> None:
    decoded = decode_frame(data)
    assert isinstance(decoded, RadarReport | RadarAck | RadarCommand | FrameError)


@settings(deadline=None)
@given(st.lists(st.binary(max_size=64), max_size=20))
def test_framer_never_raises_and_stays_bounded(chunks: list[bytes]) -> None:
    framer = Ld2410Framer()
    for chunk in chunks:
        for item in framer.feed(chunk):
            assert isinstance(item, RadarReport | RadarAck | RadarCommand | FrameError)
        assert framer.pending <= 74


@settings(deadline=None)
@given(st.lists(st.sampled_from([BASIC_STILL, ENGINEERING, H("F4F3F2F1"), H("FDFC")]), max_size=12))
def test_spliced_frames_and_header_fragments_never_raise(pieces: list[bytes]) -> None:
    framer = Ld2410Framer()
    for piece in pieces:
        for item in framer.feed(piece):
            assert isinstance(item, RadarReport | RadarAck | RadarCommand | FrameError)


@settings(deadline=None)
@given(reports)
def test_report_roundtrip(report: RadarReport) -> None:
    assert decode_frame(encode_report(report)) == report


@settings(deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(st.lists(st.tuples(noise, frames), max_size=8), noise, st.data())
def test_every_frame_is_found_between_noise_in_any_chunking(
    parts: list[tuple[bytes, bytes]], trailing: bytes, data: st.DataObject
) -> None:
    stream = b"".join(n + f for n, f in parts) + trailing
    expected = [decode_frame(f) for _, f in parts]
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    framer = Ld2410Framer()
    got = []
    last = 0
    for cut in [*cuts, len(stream)]:
        got.extend(framer.feed(stream[last:cut]))
        last = cut
    assert [d for d in got if not isinstance(d, FrameError)] == expected
