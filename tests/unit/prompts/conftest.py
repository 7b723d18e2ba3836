"""Shared helpers of the prompt tests: independent measurements of telephony audio, a counting engine,
and recordings made with ffmpeg."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from ivr.media.tts import EspeakNg, Flite, TtsEngine, TtsRegistry


def samples_of(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0


@dataclass
class Measure:
    seconds: float
    level_dbfs: float          # RMS of the 20 ms frames louder than -45 dBFS
    peak_dbfs: float
    lead_silence: float        # seconds before the first frame louder than -45 dBFS
    tail_silence: float


def measure(pcm: bytes, rate: int = 8000) -> Measure:
    x = samples_of(pcm)
    frame = rate // 50
    frames = x[: len(x) // frame * frame].reshape(-1, frame)
    rms = np.sqrt(np.mean(frames ** 2, axis=1))
    loud = rms > 10 ** (-45 / 20)
    assert loud.any(), "no sound at all"
    idx = np.flatnonzero(loud)
    return Measure(seconds=len(x) / rate,
                   level_dbfs=float(10 * np.log10(np.mean(rms[loud] ** 2))),
                   peak_dbfs=float(20 * np.log10(np.abs(x).max())),
                   lead_silence=idx[0] * frame / rate,
                   tail_silence=(len(frames) - idx[-1] - 1) * frame / rate)


def tone_level_db(x: np.ndarray, rate: int, frequency: float) -> float:
    """Level (dB re full scale sine) of one frequency, by a windowed DFT."""
    window = np.hanning(len(x))
    spectrum = np.abs(np.fft.rfft(x * window)) / (window.sum() / 2)
    freqs = np.fft.rfftfreq(len(x), 1 / rate)
    near = np.abs(freqs - frequency) <= 20
    return float(20 * np.log10(spectrum[near].max() + 1e-12))


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


class CountingEngine:
    """A real engine that counts how often it is asked to speak."""

    def __init__(self, inner: TtsEngine, version_suffix: str = "") -> None:
        self.inner = inner
        self.name = inner.name
        self.version_suffix = version_suffix
        self.spoken: list[str] = []

    def is_available(self) -> bool:
        return self.inner.is_available()

    def version(self) -> str:
        return self.inner.version() + self.version_suffix

    def default_voice(self, language: str) -> str:
        return self.inner.default_voice(language)

    def synthesize(self, text: str, language: str, voice: str, rate: float, out_wav: Path) -> None:
        self.spoken.append(text)
        self.inner.synthesize(text, language, voice, rate, out_wav)


@pytest.fixture
def flite() -> CountingEngine:
    return CountingEngine(Flite())


@pytest.fixture
def espeak() -> CountingEngine:
    return CountingEngine(EspeakNg())


@pytest.fixture
def registry(flite: CountingEngine, espeak: CountingEngine) -> TtsRegistry:
    return TtsRegistry(engines=[flite, espeak], defaults={"en": "flite"})
