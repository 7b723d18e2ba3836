"""A call's prompt player: prompts queued back to back, 20 ms of linear PCM per tick, barge-in stop."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from .g711 import FRAME_SAMPLES

FRAME_BYTES = FRAME_SAMPLES * 2
SILENCE = b"\x00" * FRAME_BYTES


@dataclass
class PlaybackStarted:
    prompt_id: str


@dataclass
class PlaybackFinished:
    prompt_id: str
    interrupted: bool


class Player:
    """Queue of prompts (16-bit linear 8 kHz mono); `next_frame` gives the next 20 ms."""

    def __init__(self) -> None:
        self._queue: deque[tuple[str, bytes]] = deque()
        self._current: tuple[str, bytes] | None = None
        self._offset = 0
        self.events: list[PlaybackStarted | PlaybackFinished] = []

    @property
    def playing(self) -> bool:
        return self._current is not None or bool(self._queue)

    def play(self, prompt_id: str, pcm: bytes) -> None:
        if len(pcm) % 2:
            pcm = pcm[:-1]
        self._queue.append((prompt_id, pcm))

    def stop(self) -> None:
        """Barge-in: drop everything queued and playing now."""
        if self._current is not None:
            self.events.append(PlaybackFinished(self._current[0], interrupted=True))
        for prompt_id, _ in self._queue:
            self.events.append(PlaybackFinished(prompt_id, interrupted=True))
        self._queue.clear()
        self._current = None
        self._offset = 0

    def next_frame(self) -> bytes | None:
        """The next 20 ms of audio, or None when nothing plays (the caller sends silence)."""
        frame = b""
        while len(frame) < FRAME_BYTES:
            if self._current is None:
                if not self._queue:
                    break
                self._current = self._queue.popleft()
                self._offset = 0
                self.events.append(PlaybackStarted(self._current[0]))
            prompt_id, pcm = self._current
            take = pcm[self._offset:self._offset + FRAME_BYTES - len(frame)]
            frame += take
            self._offset += len(take)
            if self._offset >= len(pcm):
                self.events.append(PlaybackFinished(prompt_id, interrupted=False))
                self._current = None
        if not frame:
            return None
        return frame + SILENCE[len(frame):]

    def drain_events(self) -> list[PlaybackStarted | PlaybackFinished]:
        events, self.events = self.events, []
        return events
