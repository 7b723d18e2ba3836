"""In-band DTMF detection (ITU-T Q.23/Q.24) for callers whose keys arrive as tones in the audio.

Every `HOP` samples (5 ms) the detector examines the last `WINDOW` samples (25 ms, Hann window). Windows
that are loud enough and steady (check 6) go through a bank of Goertzel filters, evaluated together as
one matrix product: each DTMF frequency from -5 % to +5 % in 1 % steps, and the high group's second
harmonics. A window holds a key when

1. level: both tones reach `min_level_dbm0`;
2. dominance: in each group the strongest tone beats the other three by `group_margin_db`;
3. frequency: each tone peaks within ±2 % of its nominal frequency, so it is off by less than 2.5 %
   (Q.24: accept 1.5 %, reject 3.5 %);
4. twist: the low tone at most `normal_twist_db` above the high one, at most `reverse_twist_db` below;
5. purity: the two tones carry at least `min_purity` of the window's energy, and the high tone's
   second harmonic is `harmonic_db` below it (speech has harmonics and a broad spectrum; the low
   group's second harmonics fall on the high group's tones, where checks 2 and 5 catch them);
6. steadiness: the energies of the window's quarters are within `steady_db` of each other, so the tone
   fills the window: not a burst, not the edge of a short tone, whatever its level.

A key is reported at once (not at its end) when `hits` consecutive windows hold it: 3 windows span
280 samples, so tones of 36 ms and more are always detected, tones of 28 ms and less never are.
It is not reported again until `release` consecutive windows lack it: interruptions up to 20 ms are
bridged, pauses from 30 ms on separate two presses of the same key. A different key needs no pause.
"""

from __future__ import annotations

import audioop  # Python >= 3.13 gets the same module name from the audioop-lts package

import numpy as np

LOW = (697.0, 770.0, 852.0, 941.0)
HIGH = (1209.0, 1336.0, 1477.0, 1633.0)
KEYS = ("123A", "456B", "789C", "*0#D")
RATE = 8000
WINDOW = 200
HOP = 40
QUARTERS = 4
GRID = np.arange(-5, 6) / 100                  # each tone is examined from -5 % to +5 % in 1 % steps
TOLERANCE = 2                                  # a tone peaks within ±2 steps: off by less than 2.5 %
DBM0_POWER = (32768 / 10 ** (3.17 / 20)) ** 2 / 2   # mean square of a 0 dBm0 sine (G.711 peaks at +3.17 dBm0)

_TONES = np.array(LOW + HIGH)
_ZOOM = np.outer(_TONES, 1 + GRID)                              # (8, 11)
_FREQS = np.concatenate((_ZOOM.ravel(), 2 * _ZOOM[4:].ravel()))  # then the high group's 2nd harmonics
_HANN = np.hanning(WINDOW)
_PHASE = 2 * np.pi * np.outer(_FREQS, np.arange(WINDOW)) / RATE
_BANK = (np.concatenate((np.cos(_PHASE), np.sin(_PHASE))) * _HANN).T  # real and imaginary parts: (WINDOW, 264)
_POWER_SCALE = 2.0 / _HANN.sum() ** 2          # a sine of amplitude A reads A²/2, its mean square
_ENERGY_SCALE = 1.0 / (_HANN ** 2).sum()       # windowed mean square, on the same scale
_CENTRE = len(GRID) // 2


def _db(value: float) -> float:
    return float(10 ** (value / 10))


class DtmfDetector:
    """Sans-I/O detector fed 16-bit little-endian linear PCM at 8 kHz in chunks of any size."""

    def __init__(self, min_level_dbm0: float = -30.0, group_margin_db: float = 6.0, normal_twist_db: float = 9.0,
                 reverse_twist_db: float = 5.0, min_purity: float = 0.8, harmonic_db: float = 10.0,
                 steady_db: float = 3.0, hits: int = 3, release: int = 9) -> None:
        self.min_level = DBM0_POWER * _db(min_level_dbm0)
        self.group_margin = _db(group_margin_db)
        self.normal_twist = _db(normal_twist_db)
        self.reverse_twist = _db(reverse_twist_db)
        self.min_purity = min_purity
        self.harmonic = _db(harmonic_db)
        self.steady = _db(steady_db)
        self.hits = hits
        self.release = release
        self._buffer = b""
        self._candidate: str | None = None
        self._count = 0
        self._active: str | None = None
        self._misses = 0

    def feed(self, pcm: bytes) -> list[str]:
        """Add audio; return the keys recognised in it, in order."""
        self._buffer += pcm
        count = (len(self._buffer) // 2 - WINDOW) // HOP + 1
        if count <= 0:
            return []
        span, self._buffer = self._buffer[:2 * (HOP * (count - 1) + WINDOW)], self._buffer[2 * HOP * count:]
        if self._quiet(span):
            if self._active is not None or self._candidate is not None:
                for _ in range(count):
                    self._track(None)
            return []
        samples = np.frombuffer(span, dtype="<i2").astype(np.float64)
        windows = samples[HOP * np.arange(count)[:, None] + np.arange(WINDOW)]      # (count, WINDOW)
        out: list[str] = []
        for key in self._classify(windows):
            out.extend(self._track(key))
        return out

    def _quiet(self, span: bytes) -> bool:
        """Whether no window of `span` can pass the level check: the whole span holds less energy than
        one window needs. Most audio (silence, pauses, quiet callers) stops here without numpy."""
        rms = audioop.rms(span, 2) + 1                  # rounded down by audioop: +1 keeps this an upper bound
        return rms * rms * (len(span) // 2) * _ENERGY_SCALE < 2 * self.min_level

    def _classify(self, windows: np.ndarray) -> list[str | None]:
        """The key each window holds, or None."""
        keys: list[str | None] = [None] * len(windows)
        energy = np.sum((windows * _HANN) ** 2, axis=1) * _ENERGY_SCALE
        quarters = np.sum(windows.reshape(len(windows), QUARTERS, -1) ** 2, axis=2)
        steady = quarters.max(axis=1) <= self.steady * quarters.min(axis=1)
        candidates = np.flatnonzero(steady & (energy >= 2 * self.min_level))
        if not len(candidates):                  # silence and most speech stop here, cheaply
            return keys
        n = len(candidates)
        parts = windows[candidates] @ _BANK
        spectrum = (parts[:, :len(_FREQS)] ** 2 + parts[:, len(_FREQS):] ** 2) * _POWER_SCALE
        zoom = spectrum[:, :_ZOOM.size].reshape(n, 8, len(GRID))
        harmonics = spectrum[:, _ZOOM.size:].reshape(n, 4, len(GRID))
        peak = np.argmax(zoom, axis=2)                                     # (n, 8) grid step of each peak
        tone = zoom[:, :, _CENTRE - TOLERANCE:_CENTRE + TOLERANCE + 1].max(axis=2)
        rows = np.arange(n)
        low_i, high_i = np.argmax(tone[:, :4], axis=1), 4 + np.argmax(tone[:, 4:], axis=1)
        low, high = tone[rows, low_i], tone[rows, high_i]
        others = tone.copy()
        others[rows, low_i] = others[rows, high_i] = 0.0
        ok = (low >= self.min_level) & (high >= self.min_level)
        ok &= (low >= self.group_margin * others[:, :4].max(axis=1)) & (high >= self.group_margin * others[:, 4:].max(axis=1))
        ok &= (np.abs(peak[rows, low_i] - _CENTRE) <= TOLERANCE) & (np.abs(peak[rows, high_i] - _CENTRE) <= TOLERANCE)
        ok &= (low <= self.normal_twist * high) & (high <= self.reverse_twist * low)
        ok &= low + high >= self.min_purity * energy[candidates]
        ok &= harmonics[rows, high_i - 4, peak[rows, high_i]] * self.harmonic <= high
        for index, li, hi in zip(candidates[ok], low_i[ok], high_i[ok]):
            keys[index] = KEYS[li][hi - 4]
        return keys

    def _track(self, key: str | None) -> list[str]:
        """Debounce window decisions into key presses."""
        if key is not None and key == self._candidate:
            self._count += 1
        else:
            self._candidate, self._count = key, int(key is not None)
        if self._active is not None:
            self._misses = 0 if key == self._active else self._misses + 1
            if self._misses >= self.release:
                self._active = None
        if key is not None and key != self._active and self._count >= self.hits:
            self._active, self._misses = key, 0
            return [key]
        return []
