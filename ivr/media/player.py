"""A call's prompt player: prompts queued back to back, 20 ms of linear PCM per tick, barge-in stop.

Each prompt says whether a key may stop it (`barge_in`): `barge_in()` stops the prompt playing and
the queue behind it up to the next must-hear prompt, and does nothing while a must-hear one plays."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from .g711 import FRAME_SAMPLES

FRAME_BYTES = FRAME_SAMPLES * 2
SILENCE = b"\x00" * FRAME_BYTES


class PlayerError(ValueError):
    """Audio that is not 16-bit linear PCM (an odd number of bytes)."""


@dataclass(frozen=True)
class PlaybackStarted:
    """The first frame of a prompt went out."""

    prompt_id: str


@dataclass(frozen=True)
class PlaybackFinished:
    """A prompt's last frame went out, or it was stopped (`interrupted`) while playing or queued."""

    prompt_id: str
    interrupted: bool


PlaybackEvent = PlaybackStarted | PlaybackFinished


@dataclass(frozen=True, slots=True)
class _Prompt:
    prompt_id: str
    pcm: bytes
    barge_in: bool


class Player:
    """Queue of prompts (16-bit linear 8 kHz mono); `next_frame` gives the next 20 ms."""

    def __init__(self) -> None:
        self._queue: deque[_Prompt] = deque()
        self._current: _Prompt | None = None
        self._offset = 0
        self._events: list[PlaybackEvent] = []

    @property
    def playing(self) -> bool:
        """Whether the next frame holds prompt audio."""
        return self._current is not None or bool(self._queue)

    def play(self, prompt_id: str, pcm: bytes, barge_in: bool = True) -> None:
        """Queue a prompt after the ones already queued; `barge_in=False`: a key does not stop it."""
        if len(pcm) % 2:
            raise PlayerError(f"prompt {prompt_id!r}: {len(pcm)} bytes is not whole 16-bit samples")
        self._queue.append(_Prompt(prompt_id, pcm, barge_in))

    @property
    def interruptible(self) -> bool:
        """Whether a prompt plays that the caller may stop (not a must-hear one)."""
        first = self._current or (self._queue[0] if self._queue else None)
        return first is not None and first.barge_in

    def barge_in(self) -> bool:
        """A key while playing: stop the prompt playing and the queued ones before the next must-hear
        prompt, each reported finished, interrupted. False (nothing stopped) when a must-hear prompt
        plays or nothing does."""
        if not self.interruptible:
            return False
        if self._current is not None:
            self._events.append(PlaybackFinished(self._current.prompt_id, interrupted=True))
            self._current = None
        while self._queue and self._queue[0].barge_in:
            self._events.append(PlaybackFinished(self._queue.popleft().prompt_id, interrupted=True))
        return True

    def next_frame(self) -> bytes:
        """The next 20 ms: prompt audio running on into the next prompt, silence-padded only after the
        last one; silence when nothing plays."""
        current = self._current
        if current is not None and self._offset + FRAME_BYTES < len(current.pcm):    # mid-prompt: one slice
            start, self._offset = self._offset, self._offset + FRAME_BYTES
            return current.pcm[start:self._offset]
        frame = b""
        while len(frame) < FRAME_BYTES and self.playing:
            if self._current is None:
                self._current, self._offset = self._queue.popleft(), 0
                self._events.append(PlaybackStarted(self._current.prompt_id))
            current = self._current
            take = current.pcm[self._offset:self._offset + FRAME_BYTES - len(frame)]
            frame += take
            self._offset += len(take)
            if self._offset >= len(current.pcm):
                self._events.append(PlaybackFinished(current.prompt_id, interrupted=False))
                self._current = None
        return frame + SILENCE[len(frame):]

    def drain_events(self) -> list[PlaybackEvent]:
        """Playback events since the last call, oldest first."""
        events, self._events = self._events, []
        return events
