"""In-band DTMF detection (ITU-T Q.23/Q.24) for callers whose keys arrive as tones in the audio.

Each 5 ms the detector looks at the last 20 ms (160 samples, Hann window) and
measures the power at the 8 DTMF frequencies and at ±3.5 % beside each (a bank of Goertzel filters,
computed together as one small matrix product). A window holds a key when:
- in each group one frequency beats the others by `group_margin_db` and beats its own ±3.5 % probes
  (so tones off by up to ~1.75 % are accepted, by 3.5 % rejected);
- both tones are loud enough, with twist within limits (low group up to 8 dB stronger, high group up
  to 4 dB stronger);
- the two tones hold at least `min_fill` of the window's power: speech, noise and partly filled
  windows fail this.
A key is reported after `hits` consecutive windows agree (about 35 ms of tone, so 40 ms tones are
detected and 23 ms ones are not) and not again until `release` windows without it.
"""

from __future__ import annotations

import numpy as np

LOW = (697.0, 770.0, 852.0, 941.0)
HIGH = (1209.0, 1336.0, 1477.0, 1633.0)
KEYS = ("123A", "456B", "789C", "*0#D")
RATE = 8000
WINDOW = 160
HOP = 40
OFFSET = 0.035


def _bank() -> np.ndarray:
    freqs = []
    for f in LOW + HIGH:
        freqs += [f * (1 - OFFSET), f, f * (1 + OFFSET)]
    n = np.arange(WINDOW)
    return np.exp(-2j * np.pi * np.outer(freqs, n) / RATE) * _HANN  # (24, 160)


_HANN = np.hanning(WINDOW)
_BANK = _bank()
_POWER_SCALE = 2.0 / _HANN.sum() ** 2
_ENERGY_SCALE = 1.0 / (_HANN ** 2).sum()


class DtmfDetector:
    """Sans-I/O detector fed 16-bit linear PCM at 8 kHz in chunks of any size."""

    def __init__(self, min_level: float = 1.0e4, group_margin_db: float = 8.0, normal_twist_db: float = 9.0,
                 reverse_twist_db: float = 5.0, min_fill: float = 0.75, hits: int = 4, release: int = 3) -> None:
        self.min_level = min_level
        self.group_margin = 10 ** (group_margin_db / 10)
        self.normal_twist = 10 ** (normal_twist_db / 10)
        self.reverse_twist = 10 ** (reverse_twist_db / 10)
        self.min_fill = min_fill
        self.hits = hits
        self.release = release
        self._buffer = np.zeros(0, dtype=np.float64)
        self._candidate: str | None = None
        self._count = 0
        self._active: str | None = None
        self._quiet = 0

    def feed(self, pcm: bytes) -> list[str]:
        """Add audio; return the keys whose tones completed detection in it."""
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
        self._buffer = np.concatenate((self._buffer, samples))
        count = (len(self._buffer) - WINDOW) // HOP + 1
        if count <= 0:
            return []
        idx = np.arange(WINDOW)[None, :] + HOP * np.arange(count)[:, None]
        windows = self._buffer[idx]                                    # (count, 160)
        self._buffer = self._buffer[HOP * count:]
        power = np.abs(windows @ _BANK.T) ** 2 * _POWER_SCALE          # (count, 24)
        total = np.sum((windows * _HANN) ** 2, axis=1) * _ENERGY_SCALE
        out: list[str] = []
        for row, energy in zip(power, total):
            key = self._classify(row, energy)
            out.extend(self._track(key))
        return out

    def _classify(self, row: np.ndarray, energy: float) -> str | None:
        probes = row.reshape(8, 3)
        centre = probes[:, 1]
        low, high = centre[:4], centre[4:]
        li, hi = int(np.argmax(low)), int(np.argmax(high))
        pl, ph = low[li], high[hi]
        if pl < self.min_level or ph < self.min_level:
            return None
        if np.delete(low, li).max() * self.group_margin > pl or np.delete(high, hi).max() * self.group_margin > ph:
            return None
        for i in (li, 4 + hi):
            if probes[i, 1] < probes[i, 0] or probes[i, 1] < probes[i, 2]:
                return None                                            # off by more than ~1.75 %
        if pl > ph * self.normal_twist or ph > pl * self.reverse_twist:
            return None
        if (pl + ph) < self.min_fill * energy:
            return None
        return KEYS[li][hi]

    def _track(self, key: str | None) -> list[str]:
        if key is None or key != self._candidate:
            self._candidate = key
            self._count = 1 if key else 0
        else:
            self._count += 1
        if key is None or key != self._active:
            self._quiet += 1
            if self._quiet >= self.release:
                self._active = None
        else:
            self._quiet = 0
        if key is not None and self._active is None and self._count >= self.hits:
            self._active = key
            self._quiet = 0
            return [key]
        return []
