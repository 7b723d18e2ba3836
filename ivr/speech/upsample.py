"""8 kHz → 16 kHz for the engines whose models take 16 kHz: zero-stuffing, then a windowed-sinc
low-pass at 4 kHz, streaming (the filter's history is kept between chunks)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .grammar import Grammar

MODEL_RATE = 16000


def _interpolation_filter(taps: int = 64, beta: float = 8.0) -> np.ndarray:
    """Low-pass at the old Nyquist (4 kHz at 16 kHz), gain 2 for the zero-stuffed samples."""
    n = np.arange(taps) - (taps - 1) / 2
    h = np.sinc(n / 2) * np.kaiser(taps, beta)
    return (2 * h / h.sum()).astype(np.float32)


class Upsampler:
    """8 kHz → 16 kHz 16-bit PCM, chunk by chunk."""

    def __init__(self) -> None:
        self.taps = _interpolation_filter()
        self._history = np.zeros(len(self.taps) - 1, dtype=np.float32)

    def process(self, pcm: bytes) -> bytes:
        x = np.frombuffer(pcm, dtype="<i2").astype(np.float32)
        stuffed = np.zeros(2 * len(x), dtype=np.float32)
        stuffed[::2] = x
        data = np.concatenate([self._history, stuffed])
        out = np.convolve(data, self.taps, mode="valid")
        self._history = data[len(data) - (len(self.taps) - 1):]
        return np.clip(np.round(out), -32768, 32767).astype("<i2").tobytes()


class UpsampledUtterance:
    """An utterance for a 16 kHz engine: the call's audio upsampled as it comes, kept until `take`."""

    def __init__(self, grammar: "Grammar") -> None:
        self.grammar = grammar
        self._upsampler = Upsampler()
        self._audio: list[bytes] = []

    def accept(self, pcm: bytes) -> None:
        self._audio.append(self._upsampler.process(pcm))

    def take(self) -> bytes:
        """The whole utterance at 16 kHz (the recognizer is spent afterwards)."""
        audio, self._audio = b"".join(self._audio), []
        return audio
