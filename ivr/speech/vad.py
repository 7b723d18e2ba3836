"""Energy-based voice activity detection and endpointing, sans-I/O.

Fed the call's 8 kHz PCM with the time it arrived, the `Endpointer` says when speech starts (a few
loud 20 ms frames in a row) and when the utterance ends: after `end_silence` seconds of quiet, or
when it has lasted `max_speech` seconds. A phone that sends nothing while its user is quiet (silence
suppression) is heard by `poll`: no audio for `end_silence` ends the utterance too. Loud means above an absolute floor and `margin_db` above
the background noise level, which is tracked while nobody speaks. The no-input timeout is the
channel's (it starts when the prompt has finished), not the endpointer's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

FRAME = 160                      # samples: 20 ms at 8 kHz


@dataclass(frozen=True)
class EndpointConfig:
    end_silence: float = 0.7     # s of quiet that ends the utterance
    max_speech: float = 10.0     # s: longer is cut here
    start_frames: int = 3        # loud 20 ms frames in a row that count as speech
    floor_dbfs: float = -42.0    # never speech below this level
    margin_db: float = 12.0      # above the background noise
    preroll: float = 0.3         # s of audio before the detected start handed to the recognizer


@dataclass(frozen=True)
class SpeechStarted:
    at: float


@dataclass(frozen=True)
class SpeechEnded:
    at: float
    reason: Literal["silence", "max_speech"]


VadEvent = SpeechStarted | SpeechEnded


def frame_dbfs(frame: np.ndarray) -> float:
    """RMS level of int16 samples in dB relative to full scale."""
    rms = float(np.sqrt(np.mean(np.square(frame.astype(np.float64))))) if len(frame) else 0.0
    return 20 * np.log10(max(rms, 1.0) / 32768.0)


class Endpointer:
    """One utterance: idle → speaking → ended."""

    def __init__(self, config: EndpointConfig | None = None) -> None:
        self.config = config or EndpointConfig()
        self.state: Literal["idle", "speaking", "ended"] = "idle"
        self.noise_dbfs = -70.0
        self.started_at: float | None = None
        self._loud = 0
        self._quiet_since: float | None = None
        self._last_frame_at: float | None = None
        self._rest = np.zeros(0, dtype=np.int16)

    def feed(self, pcm: bytes, now: float) -> list[VadEvent]:
        """16-bit PCM that ended at `now`; returns a start and/or end when they happen in it."""
        if self.state == "ended":
            return []
        samples = np.concatenate([self._rest, np.frombuffer(pcm, dtype="<i2")])
        whole = len(samples) // FRAME * FRAME
        self._rest = samples[whole:]
        count = whole // FRAME
        events: list[VadEvent] = []
        for i in range(count):
            at = now - (count - 1 - i) * FRAME / 8000
            event = self._frame(frame_dbfs(samples[i * FRAME:(i + 1) * FRAME]), at)
            if event is not None:
                events.append(event)
                if isinstance(event, SpeechEnded):
                    break
        return events

    def poll(self, now: float) -> SpeechEnded | None:
        """The end of an utterance whose audio stopped coming (called on the clock's ticks)."""
        if self.state != "speaking" or self._last_frame_at is None:
            return None
        if now - self._last_frame_at >= self.config.end_silence:
            self.state = "ended"
            return SpeechEnded(now, "silence")
        return None

    def _frame(self, level: float, at: float) -> VadEvent | None:
        self._last_frame_at = at
        cfg = self.config
        loud = level > max(cfg.floor_dbfs, self.noise_dbfs + cfg.margin_db)
        if self.state == "idle":
            if not loud:                 # follow the background: down quickly, up slowly
                self.noise_dbfs += (level - self.noise_dbfs) * (0.3 if level < self.noise_dbfs else 0.02)
                self._loud = 0
                return None
            self._loud += 1
            if self._loud < cfg.start_frames:
                return None
            self.state = "speaking"
            self.started_at = at - (cfg.start_frames - 1) * FRAME / 8000
            return SpeechStarted(self.started_at)
        assert self.started_at is not None
        if at - self.started_at >= cfg.max_speech:
            self.state = "ended"
            return SpeechEnded(at, "max_speech")
        if loud:
            self._quiet_since = None
        elif self._quiet_since is None:
            self._quiet_since = at
        elif at - self._quiet_since >= cfg.end_silence:
            self.state = "ended"
            return SpeechEnded(at, "silence")
        return None
