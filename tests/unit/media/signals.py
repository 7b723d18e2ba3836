"""Test signals for the media tests: DTMF tones at given levels, silence, noise, and espeak-ng speech,
all as 16-bit little-endian linear PCM at 8 kHz."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

from ivr.media.goertzel import HIGH, KEYS, LOW

RATE = 8000
FULL_SCALE_DBM0 = 3.17                       # a full-scale G.711 sine is +3.17 dBm0


def amplitude(dbm0: float) -> float:
    """Peak amplitude of a sine at `dbm0`."""
    return 32768 * 10 ** ((dbm0 - FULL_SCALE_DBM0) / 20)


def frequencies(key: str) -> tuple[float, float]:
    row = next(i for i, keys in enumerate(KEYS) if key in keys)
    return LOW[row], HIGH[KEYS[row].index(key)]


def tone(key: str, ms: float, dbm0: float = -10.0, low_dev: float = 0.0, high_dev: float = 0.0,
         twist_db: float = 0.0, harmonic_db: float | None = None) -> np.ndarray:
    """Key `key` for `ms`: each tone at `dbm0` (the high one `twist_db` louder), frequencies off by the
    given fractions, optionally with the high tone's 2nd harmonic `harmonic_db` below it."""
    low, high = frequencies(key)
    t = np.arange(round(RATE * ms / 1000)) / RATE
    a = amplitude(dbm0)
    b = a * 10 ** (twist_db / 20)
    x = a * np.sin(2 * np.pi * low * (1 + low_dev) * t) + b * np.sin(2 * np.pi * high * (1 + high_dev) * t + 1.0)
    if harmonic_db is not None:
        x += b * 10 ** (-harmonic_db / 20) * np.sin(4 * np.pi * high * (1 + high_dev) * t)
    return x


def silence(ms: float) -> np.ndarray:
    return np.zeros(round(RATE * ms / 1000))


def noise(ms: float, dbm0: float, seed: int = 1) -> np.ndarray:
    """White Gaussian noise with a mean power of `dbm0`."""
    rms = amplitude(dbm0) / np.sqrt(2)
    return np.random.default_rng(seed).normal(0.0, rms, round(RATE * ms / 1000))


def pcm(*parts: np.ndarray) -> bytes:
    """Concatenate and convert to 16-bit little-endian PCM."""
    return np.clip(np.round(np.concatenate(parts)), -32768, 32767).astype("<i2").tobytes()


def samples(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<i2").astype(np.float64)


def speech(directory: Path, voice: str, text: str, *options: str) -> bytes:
    """`text` spoken by espeak-ng, resampled by sox to 8 kHz 16-bit mono PCM."""
    missing = [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]
    assert not missing, f"{missing} not installed: the speech tests need them (apt-get install espeak-ng sox)"
    wav, raw = directory / "speech.wav", directory / "speech.raw"
    subprocess.run(["espeak-ng", "-v", voice, *options, "-w", str(wav), text], check=True, capture_output=True)
    subprocess.run(["sox", str(wav), "-t", "raw", "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer",
                    "-L", str(raw)], check=True, capture_output=True)
    return raw.read_bytes()
