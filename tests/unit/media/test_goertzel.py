"""In-band DTMF detection against the ITU-T Q.24 limits, and no keys from noise or speech."""

from __future__ import annotations

import audioop
from pathlib import Path

import numpy as np
import pytest

from ivr.media import g711
from ivr.media.goertzel import DtmfDetector

from .signals import noise, pcm, samples, silence, speech, tone

ALL_KEYS = "123A456B789C*0#D"
LEAD = silence(50)
TAIL = silence(100)


def detect(audio: bytes, chunk_samples: int = 160, detector: DtmfDetector | None = None) -> list[str]:
    detector = detector or DtmfDetector()
    out: list[str] = []
    for i in range(0, len(audio), 2 * chunk_samples):
        out += detector.feed(audio[i:i + 2 * chunk_samples])
    return out


def through_g711(audio: bytes, payload_type: int) -> bytes:
    return g711.decode(payload_type, g711.encode(payload_type, audio))


@pytest.mark.parametrize("payload_type", [g711.PCMU, g711.PCMA])
@pytest.mark.parametrize("dbm0", [-3.0, -10.0, -20.0, -27.0])
def test_every_key_at_every_level_through_g711(payload_type: int, dbm0: float) -> None:
    audio = pcm(*(part for key in ALL_KEYS for part in (tone(key, 60, dbm0), silence(60))))
    assert detect(through_g711(audio, payload_type)) == list(ALL_KEYS)


def test_too_quiet_tones_are_ignored() -> None:
    assert detect(pcm(LEAD, tone("5", 80, -36.0), TAIL)) == []


@pytest.mark.parametrize("key", ALL_KEYS)
@pytest.mark.parametrize("low_dev, high_dev", [(0.015, 0.015), (-0.015, -0.015), (0.015, -0.015), (-0.015, 0.015)])
def test_accepts_frequencies_off_by_one_and_a_half_percent(key: str, low_dev: float, high_dev: float) -> None:
    assert detect(pcm(LEAD, tone(key, 60, low_dev=low_dev, high_dev=high_dev), TAIL)) == [key]


@pytest.mark.parametrize("key", ALL_KEYS)
@pytest.mark.parametrize("low_dev, high_dev", [(0.035, 0.0), (-0.035, 0.0), (0.0, 0.035), (0.0, -0.035),
                                               (0.05, 0.05)])
def test_rejects_a_tone_off_by_three_and_a_half_percent(key: str, low_dev: float, high_dev: float) -> None:
    assert detect(pcm(LEAD, tone(key, 60, low_dev=low_dev, high_dev=high_dev), TAIL)) == []


@pytest.mark.parametrize("dbm0", [-3.0, -25.0])
def test_duration_limits_at_any_alignment_and_level(dbm0: float) -> None:
    for offset in range(0, 40, 4):                   # where the tone starts within the detector's 5 ms hop
        lead = silence(50 + offset / 8)
        assert detect(pcm(lead, tone("0", 40, dbm0), TAIL)) == ["0"], offset
        assert detect(pcm(lead, tone("0", 23, dbm0), TAIL)) == [], offset
        assert detect(pcm(lead, tone("0", 10, dbm0), TAIL)) == [], offset


def test_twist_limits() -> None:
    # twist_db is high group minus low group: normal twist (low louder) up to 8 dB, reverse up to 4 dB
    for key in ALL_KEYS:
        assert detect(pcm(LEAD, tone(key, 60, -12.0, twist_db=-8), TAIL)) == [key]
        assert detect(pcm(LEAD, tone(key, 60, -12.0, twist_db=4), TAIL)) == [key]
        assert detect(pcm(LEAD, tone(key, 60, -12.0, twist_db=-10), TAIL)) == []
        assert detect(pcm(LEAD, tone(key, 60, -12.0, twist_db=6), TAIL)) == []


def test_strong_second_harmonic_is_not_a_key() -> None:
    assert detect(pcm(LEAD, tone("9", 80, harmonic_db=20), TAIL)) == ["9"]
    assert detect(pcm(LEAD, tone("9", 80, harmonic_db=6), TAIL)) == []


def test_a_held_key_counts_once_and_repeats_need_a_pause() -> None:
    assert detect(pcm(LEAD, tone("1", 2000), TAIL)) == ["1"]
    assert detect(pcm(LEAD, tone("1", 60), silence(40), tone("1", 60), TAIL)) == ["1", "1"]
    assert detect(pcm(LEAD, tone("1", 60), silence(10), tone("1", 60), TAIL)) == ["1"]    # Q.24: bridge 10 ms
    assert detect(pcm(LEAD, tone("1", 60), tone("2", 60), TAIL)) == ["1", "2"]          # another key: no pause


def test_a_fast_dialled_number() -> None:
    number = "0800123456#"
    audio = pcm(LEAD, *(part for key in number for part in (tone(key, 45, -15.0), silence(45))), TAIL)
    assert "".join(detect(audio)) == number


@pytest.mark.parametrize("chunk_samples", [1, 7, 80, 160, 333, 4000])
def test_any_chunking_gives_the_same_keys(chunk_samples: int) -> None:
    audio = pcm(LEAD, tone("7", 50), silence(40), tone("7", 50), tone("D", 60), TAIL)
    assert detect(audio, chunk_samples) == ["7", "7", "D"]


def test_noise_gives_no_keys_and_keys_survive_noise() -> None:
    for dbm0 in (-40.0, -20.0, -5.0):
        assert detect(pcm(noise(3000, dbm0, seed=int(-dbm0)))) == []
    for key in ALL_KEYS:                                       # each tone 15 dB above the noise
        keyed = pcm(LEAD, tone(key, 60, -15.0, low_dev=0.01, high_dev=-0.01) + noise(60, -30.0), TAIL)
        assert detect(through_g711(keyed, g711.PCMU)) == [key]


SPEECH = [
    ("en", "one two three four five six seven eight nine zero"),
    ("en-us", "Hello, thank you for calling. Please press one to vote for Anna, two for Boris, or hash to hear "
              "the options again."),
    ("en+f3", "The quick brown fox jumps over the lazy dog, while the telephone keeps ringing in the empty hall."),
    ("en-gb+m3", "Your order number seven seven four two has been shipped and will arrive on Tuesday."),
    ("de", "eins zwei drei vier fünf sechs sieben acht neun null"),
    ("fr", "un deux trois quatre cinq six sept huit neuf zéro"),
    ("ru", "один два три четыре пять шесть семь восемь девять ноль"),
    ("en+f4", "Eeeeeee, ooooooh, aaaaah, mmmmmm, la la la la."),
]


@pytest.mark.parametrize("voice, text", SPEECH)
@pytest.mark.parametrize("pitch", ["10", "50", "90"])
def test_speech_is_not_taken_for_keys(tmp_path: Path, voice: str, text: str, pitch: str) -> None:
    voiced = speech(tmp_path, voice, text, "-p", pitch)
    assert len(voiced) > 2 * 8000 and audioop.rms(voiced, 2) > 1000  # over a second, far above the level floor
    assert detect(voiced) == []
    assert detect(through_g711(voiced, g711.PCMA)) == []
    # the same audio with a key mixed in under the speech level is still heard: the detector is alive
    x = samples(voiced)
    start = len(x) // 2
    keyed = x.copy()
    keyed[start:start + 640] = tone("5", 80, -10.0) + 0.05 * x[start:start + 640]
    assert detect(pcm(keyed)) == ["5"]



class _Ungated(DtmfDetector):
    """The detector with its quiet-audio shortcut turned off: every window goes through the filters."""

    def _quiet(self, span: bytes) -> bool:
        return False


@pytest.mark.parametrize("dbm0", [-40.0, -33.0, -31.0, -30.0, -29.0, -25.0])
def test_the_quiet_audio_shortcut_changes_no_decision(dbm0: float) -> None:
    # tones and noise around the level floor, with pauses the debouncer must count through the shortcut
    audio = pcm(LEAD, tone("4", 60, dbm0), silence(40), tone("4", 60, dbm0), noise(200, dbm0 - 3),
                tone("#", 45, dbm0), silence(25), tone("#", 45, dbm0), TAIL)
    assert detect(audio) == detect(audio, detector=_Ungated())
    assert (detect(audio) != []) == (dbm0 > -30.0)
