"""Voice messages for `record` nodes: the caller's audio after a beep, kept as 8 kHz WAV files."""

from __future__ import annotations

import math
import struct
import wave
from dataclasses import dataclass, field
from pathlib import Path

import audioop

SILENCE_RMS = 200                      # below this a 20 ms frame counts as silence


def beep(seconds: float = 0.25, freq: float = 1000.0, amplitude: int = 8000) -> bytes:
    """The tone that tells the caller to speak now."""
    n = int(8000 * seconds)
    return struct.pack(f"<{n}h", *(int(amplitude * math.sin(2 * math.pi * freq * i / 8000)) for i in range(n)))


@dataclass
class Recording:
    """Audio gathered for one `record` node until the time limit, '#', or a long silence."""

    path: Path
    max_seconds: float
    started: float
    silence_limit: float = 4.0
    frames: list[bytes] = field(default_factory=list)
    _silent_since: float | None = None
    _heard_voice: bool = False

    def add(self, pcm: bytes, now: float) -> None:
        self.frames.append(pcm)
        if audioop.rms(pcm, 2) < SILENCE_RMS:
            if self._silent_since is None:
                self._silent_since = now
        else:
            self._silent_since = None
            self._heard_voice = True

    def done(self, now: float) -> bool:
        if now - self.started >= self.max_seconds:
            return True
        return (self._heard_voice and self._silent_since is not None
                and now - self._silent_since >= self.silence_limit)

    @property
    def duration(self) -> float:
        return sum(len(f) for f in self.frames) / 16000

    def save(self) -> None:
        """Write the WAV file (trailing silence trimmed)."""
        frames = list(self.frames)
        while frames and audioop.rms(frames[-1], 2) < SILENCE_RMS:
            frames.pop()
        self.frames = frames
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(self.path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(8000)
            out.writeframes(b"".join(frames))
