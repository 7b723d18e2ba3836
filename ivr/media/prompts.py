"""The prompt cache: audio made from text ahead of calls, kept as 8 kHz PCM files.

Key = hash of (engine, engine version, language, voice, text). Campaign prompts are made when a
campaign is loaded; during a call only look-ups happen, except for a templated text heard with a new
value for the first time, which `render` makes off the event loop and caches too.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import tempfile
from pathlib import Path

from .audio import to_telephony
from .tts import TtsEngine, engine_for

log = logging.getLogger(__name__)


class PromptCache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self._memory: dict[str, bytes] = {}
        self._versions: dict[str, str] = {}
        self.generated = 0

    def key(self, text: str, language: str, voice: str | None, engine: TtsEngine) -> str:
        version = self._versions.setdefault(engine.name, engine.version())
        material = "\x00".join([engine.name, version, language, voice or "", text])
        return hashlib.sha256(material.encode()).hexdigest()[:32]

    def path(self, key: str) -> Path:
        return self.directory / f"{key}.pcm"

    def lookup(self, text: str, language: str, voice: str | None = None) -> bytes | None:
        """Cached audio, never synthesising."""
        key = self.key(text, language, voice, engine_for(language))
        if key in self._memory:
            return self._memory[key]
        path = self.path(key)
        if path.exists():
            self._memory[key] = path.read_bytes()
            return self._memory[key]
        return None

    def make(self, text: str, language: str, voice: str | None = None) -> bytes:
        """Cached audio, synthesising it first when missing (blocking: run off the loop)."""
        engine = engine_for(language)
        key = self.key(text, language, voice, engine)
        cached = self.lookup(text, language, voice)
        if cached is not None:
            return cached
        with tempfile.TemporaryDirectory() as tmp:
            wav = Path(tmp) / "speech.wav"
            engine.synthesize(text, language, voice, wav)
            pcm = to_telephony(wav)
        partial = self.path(key).with_suffix(".tmp")
        partial.write_bytes(pcm)
        partial.replace(self.path(key))
        self._memory[key] = pcm
        self.generated += 1
        return pcm

    async def make_async(self, text: str, language: str, voice: str | None = None) -> bytes:
        return await asyncio.to_thread(self.make, text, language, voice)
