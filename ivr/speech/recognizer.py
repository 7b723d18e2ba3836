"""The recognizer interface shared by every speech engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .grammar import Grammar

SAMPLE_RATE = 8000               # what the call delivers: 16-bit linear PCM, mono


class SpeechError(RuntimeError):
    """A speech engine or model cannot be used."""


@dataclass(frozen=True)
class Result:
    """What was understood, as the flow should see it (keys as digits), with a confidence in [0, 1].
    Empty text: nothing of the grammar was said (out-of-grammar speech)."""

    text: str
    confidence: float
    heard: str = ""              # the engine's words, before mapping to the answer's text


class Recognizer(Protocol):
    """One utterance: audio in, then the final result. Not thread-safe; used by one worker at a time."""

    def accept(self, pcm: bytes) -> None:
        """16-bit linear PCM at 8 kHz, any length."""

    def finish(self) -> Result:
        """End of speech: the final result (the recognizer is spent afterwards)."""


class SpeechEngine(Protocol):
    """A loaded model, shared by every call of the process."""

    name: str

    def recognizer(self, grammar: Grammar) -> Recognizer: ...

    def unknown(self, words: list[str]) -> list[str]:
        """The words the model cannot hear (not in its vocabulary or dictionary)."""
