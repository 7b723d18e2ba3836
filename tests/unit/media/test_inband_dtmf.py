"""In-band DTMF detection against ITU-T Q.24 limits, and no false keys on speech."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from ivr.media.goertzel import HIGH, KEYS, LOW, DtmfDetector

SILENCE = np.zeros(800, dtype="<i2").tobytes()


def tone(low: float, high: float, ms: float, amp: float = 4000.0, deviation: float = 0.0,
         twist_db: float = 0.0) -> bytes:
    n = np.arange(int(8000 * ms / 1000))
    high_amp = amp * 10 ** (twist_db / 20)
    x = amp * np.sin(2 * np.pi * low * (1 + deviation) * n / 8000)
    x += high_amp * np.sin(2 * np.pi * high * (1 + deviation) * n / 8000)
    return x.astype("<i2").tobytes()


def detect(pcm: bytes, chunk: int = 320) -> list[str]:
    detector = DtmfDetector()
    out: list[str] = []
    for i in range(0, len(pcm), chunk):
        out += detector.feed(pcm[i:i + chunk])
    return out


@pytest.mark.parametrize("row", range(4))
@pytest.mark.parametrize("col", range(4))
def test_every_key_is_detected(row: int, col: int) -> None:
    assert detect(SILENCE + tone(LOW[row], HIGH[col], 60) + SILENCE) == [KEYS[row][col]]


@pytest.mark.parametrize("deviation", [-0.015, -0.01, 0.01, 0.015])
def test_accepts_within_one_and_a_half_percent(deviation: float) -> None:
    for low, high in ((697, 1209), (941, 1633), (852, 1477)):
        assert detect(SILENCE + tone(low, high, 60, deviation=deviation) + SILENCE) != []


@pytest.mark.parametrize("deviation", [-0.035, -0.03, 0.03, 0.035])
def test_rejects_three_and_a_half_percent(deviation: float) -> None:
    for low, high in ((697, 1209), (941, 1633), (852, 1477)):
        assert detect(SILENCE + tone(low, high, 60, deviation=deviation) + SILENCE) == []


def test_duration_limits() -> None:
    assert detect(SILENCE + tone(770, 1336, 40) + SILENCE) == ["5"]
    assert detect(SILENCE + tone(770, 1336, 23) + SILENCE) == []
    assert detect(SILENCE + tone(770, 1336, 15) + SILENCE) == []


def test_twist_limits() -> None:
    assert detect(SILENCE + tone(770, 1336, 60, twist_db=-8) + SILENCE) == ["5"]     # normal twist 8 dB
    assert detect(SILENCE + tone(770, 1336, 60, twist_db=4) + SILENCE) == ["5"]      # reverse twist 4 dB
    assert detect(SILENCE + tone(770, 1336, 60, twist_db=-12) + SILENCE) == []
    assert detect(SILENCE + tone(770, 1336, 60, twist_db=8) + SILENCE) == []


def test_repeated_key_needs_a_pause_and_counts_twice() -> None:
    key = tone(697, 1209, 60)
    assert detect(SILENCE + key + SILENCE + key + SILENCE) == ["1", "1"]
    assert detect(SILENCE + key + key + SILENCE) == ["1"]


def test_noise_and_tone_in_noise() -> None:
    rng = np.random.default_rng(7)
    noise = rng.normal(0, 2000, 8000 * 3).astype("<i2").tobytes()
    assert detect(noise) == []
    noisy = np.frombuffer(tone(852, 1336, 80), dtype="<i2") + rng.normal(0, 300, 640)
    assert detect(SILENCE + noisy.astype("<i2").tobytes() + SILENCE) == ["8"]


SPEECH = [
    ("en", "one two three four five six seven eight nine zero"),
    ("en", "Hello, thank you for calling. Please press one to vote for Anna, two for Boris."),
    ("en-us+f3", "The quick brown fox jumps over the lazy dog, while the telephone keeps ringing."),
    ("de", "Eins zwei drei vier fünf sechs sieben acht neun null"),
    ("ru", "один два три четыре пять шесть семь восемь девять ноль"),
]


@pytest.mark.parametrize("voice, text", SPEECH)
def test_speech_is_not_taken_for_keys(tmp_path: Path, voice: str, text: str) -> None:
    assert shutil.which("espeak-ng") and shutil.which("sox"), "espeak-ng and sox are installed by scripts/bootstrap"
    wav, raw = tmp_path / "speech.wav", tmp_path / "speech.raw"
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(wav), text], check=True)
    subprocess.run(["sox", str(wav), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", "-L", str(raw)],
                   check=True)
    pcm = raw.read_bytes()
    assert len(pcm) > 16000
    assert detect(pcm) == []
