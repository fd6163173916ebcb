"""The kiosk's sound with the real programs: espeak-ng renders, the cache keeps, aplay plays.

Phrases are rendered by Debian's espeak-ng into WAV files, read back with the standard `wave`
module and measured (a silent file has no peak). Playing goes through the real `aplay`, onto
ALSA's `file` device, which writes what it was given to a file: so the whole path is tested on
a machine without a sound card, and what a speaker would have got is measured too. Without
espeak-ng or aplay (.ci/run installs both) these tests skip and say so.
"""

from __future__ import annotations

import array
import math
import shutil
import wave
from pathlib import Path

import pytest

from station.ops.doctor import DoctorOptions, check_sound
from station.sound import probe_sound, sound_cards
from station.ui_config import UiConfig
from tests.simstation import sim_config_data
from ui.voice import AlsaPlayer, Phrase, PhraseCache, SilentPlayer, SpeechSettings, open_player

ESPEAK = shutil.which("espeak-ng")
APLAY = shutil.which("aplay")
needs_espeak = pytest.mark.skipif(
    ESPEAK is None, reason="Debian's espeak-ng is not installed (.ci/run installs it)"
)
needs_aplay = pytest.mark.skipif(
    APLAY is None, reason="Debian's alsa-utils (aplay) is not installed (.ci/run installs it)"
)
CARD = " 0 [Headphones     ]: bcm2835_headpho - bcm2835 Headphones\n" + " " * 22 + "bcm2835\n"
DOOR_ZH = Phrase("A03 号柜门已打开。请取出工具，然后关好柜门", "zh")
DOOR_EN = Phrase("Door A03 is open. Take the tool and close the door", "en")


def measure(path: Path) -> tuple[float, int, float]:
    """Seconds, peak and RMS of a 16-bit mono WAV file."""
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth()) == (1, 2)
        samples = array.array("h", w.readframes(w.getnframes()))
        seconds = w.getnframes() / w.getframerate()
    if not samples:
        return seconds, 0, 0.0
    return (
        seconds,
        max(abs(s) for s in samples),
        math.sqrt(sum(s * s for s in samples) / len(samples)),
    )


def cache(tmp_path: Path, **ui: object) -> PhraseCache:
    assert ESPEAK is not None
    return PhraseCache(tmp_path / "voice", SpeechSettings.of(UiConfig(**ui)), ESPEAK)


@needs_espeak
@pytest.mark.parametrize("phrase", [DOOR_ZH, DOOR_EN], ids=["zh", "en"])
def test_a_phrase_renders_to_a_wav_that_is_not_silent(tmp_path: Path, phrase: Phrase) -> None:
    seconds, peak, rms = measure(cache(tmp_path).wav(phrase))
    assert 1.0 < seconds < 15.0, seconds
    assert peak > 5_000, peak  # 16-bit full scale is 32767
    assert rms > 500, rms


@needs_espeak
def test_the_cache_renders_a_phrase_once(tmp_path: Path) -> None:
    phrases = cache(tmp_path)
    first = phrases.wav(DOOR_ZH)
    made = first.stat().st_mtime_ns, first.stat().st_ino
    again = phrases.wav(DOOR_ZH)
    assert again == first and phrases.rendered == 1  # the second time is the file
    assert (again.stat().st_ino, again.stat().st_mtime_ns >= made[0]) == (made[1], True)
    assert (
        PhraseCache(phrases.directory, phrases.settings, "/nonexistent/espeak-ng").wav(DOOR_ZH)
        == first
    )
    phrases.wav(DOOR_EN)
    assert phrases.rendered == 2
    # Another setting sounds different, so it is another file, never the old one played.
    louder = cache(tmp_path, volume=100)
    assert louder.wav(DOOR_ZH) != first and louder.rendered == 1
    assert sorted(p.name for p in phrases.directory.iterdir() if p.suffix != ".wav") == []


@needs_espeak
def test_the_volume_setting_scales_the_sound(tmp_path: Path) -> None:
    _, quiet_peak, quiet = measure(cache(tmp_path, volume=30).wav(DOOR_EN))
    _, loud_peak, loud = measure(cache(tmp_path, volume=90).wav(DOOR_EN))
    assert 0.2 < quiet / loud < 0.5, (quiet, loud)
    assert quiet_peak < loud_peak
    click_quiet = measure(cache(tmp_path, volume=30).click())[1]
    click_loud = measure(cache(tmp_path, volume=90).click())[1]
    assert 0.25 < click_quiet / click_loud < 0.45


@needs_espeak
@needs_aplay
def test_prompts_and_clicks_play_through_aplay_and_a_hush_cuts_prompts(
    tmp_path: Path,
) -> None:
    out = tmp_path / "speaker.wav"
    player = AlsaPlayer(cache(tmp_path), aplay=str(APLAY), device=f"file:{out},wav")
    try:
        player.say(DOOR_ZH)  # returns at once: rendering and playing are the thread's
        assert player.idle(within=60)
        seconds, peak, _ = measure(out)
        assert seconds > 1.0 and peak > 5_000
        out.unlink()
        player.click()
        assert player.idle(within=30)
        if out.exists():  # a click that waited too long on a loaded machine is dropped
            seconds, peak, _ = measure(out)
            assert seconds < 0.3 and peak > 5_000  # 12 ms, padded to aplay's period
        for _ in range(3):
            player.say(DOOR_ZH)
        player.hush()  # the person left: the one playing (if it began) is cut, the rest go
        assert player.idle(within=60)
        out.unlink(missing_ok=True)
        player.say(DOOR_ZH)  # and the next person's prompt plays whole
        assert player.idle(within=60)
        seconds, peak, _ = measure(out)
        assert seconds > 1.0 and peak > 5_000
    finally:
        player.close()


@needs_espeak
@needs_aplay
def test_key_clicks_can_be_turned_off(tmp_path: Path) -> None:
    out = tmp_path / "speaker.wav"
    player = AlsaPlayer(cache(tmp_path), aplay=str(APLAY), device=f"file:{out},wav", clicks=False)
    try:
        player.click()
        assert player.idle(within=30)
        assert not out.exists()
    finally:
        player.close()


def test_mute_or_volume_zero_is_silent_and_renders_nothing(tmp_path: Path) -> None:
    for ui in (UiConfig(mute=True), UiConfig(volume=0)):
        player = open_player(ui, cache_dir=tmp_path / "voice", cards_file=_cards(tmp_path, CARD))
        assert isinstance(player, SilentPlayer) and "muted" in player.reason
        player.say(DOOR_ZH)
    assert not (tmp_path / "voice").exists()


def test_without_a_sound_card_the_kiosk_is_silent_and_says_why(tmp_path: Path) -> None:
    player = open_player(UiConfig(), cache_dir=tmp_path / "voice", cards_file=tmp_path / "none")
    assert isinstance(player, SilentPlayer)
    if ESPEAK and APLAY:
        assert "no sound card" in player.reason


def test_without_espeak_ng_the_kiosk_is_silent(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing installed here
    player = open_player(UiConfig(), cards_file=_cards(tmp_path, CARD))
    assert isinstance(player, SilentPlayer)
    assert "apt-get install espeak-ng" in player.reason


@needs_espeak
@needs_aplay
def test_with_everything_there_the_kiosk_speaks(tmp_path: Path) -> None:
    player = open_player(
        UiConfig(), cache_dir=tmp_path / "voice", cards_file=_cards(tmp_path, CARD)
    )
    try:
        assert isinstance(player, AlsaPlayer)
    finally:
        player.close()


@needs_espeak
def test_a_voice_espeak_ng_does_not_have_is_named() -> None:
    support = probe_sound(UiConfig(voice_en="xx-nowhere"))
    assert support.missing_voices == ("xx-nowhere",)
    assert "no voice xx-nowhere" in (support.silent_because or "")


def test_alsa_cards_are_read_by_name(tmp_path: Path) -> None:
    two = (
        CARD + " 1 [Device         ]: USB-Audio - USB Audio Device\n                      C-Media\n"
    )
    assert sound_cards(_cards(tmp_path, two)) == ("bcm2835 Headphones", "USB Audio Device")
    assert sound_cards(_cards(tmp_path, "--- no soundcards ---\n")) == ()
    assert sound_cards(tmp_path / "absent") == ()


def test_the_doctor_has_a_line_for_sound(tmp_path: Path) -> None:
    from station.config import StationConfig

    config = StationConfig.model_validate(sim_config_data(tmp_path))
    none = check_sound(config, DoctorOptions(sound_cards_file=tmp_path / "absent"))
    assert none.name == "sound"
    assert none.status == "WARN" and "the kiosk works silently" in none.detail
    muted = StationConfig.model_validate({**sim_config_data(tmp_path), "ui": {"mute": True}})
    line = check_sound(muted, DoctorOptions(sound_cards_file=_cards(tmp_path, CARD)))
    assert (line.status, "muted in [ui]" in line.detail) == ("OK", True)
    if ESPEAK and APLAY:
        card = check_sound(config, DoctorOptions(sound_cards_file=_cards(tmp_path, CARD)))
        assert card.status == "OK" and "bcm2835 Headphones" in card.detail, card
        assert "no sound card" in none.detail


def _cards(tmp_path: Path, text: str) -> Path:
    path = tmp_path / f"cards-{abs(hash(text))}"
    path.write_text(text)
    return path
