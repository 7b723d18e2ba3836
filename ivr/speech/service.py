"""Speech for the engine: which engine hears which language, models loaded once, recognition on
worker threads, and the `SpeechListener` a call feeds while it waits for an answer.

Engine per language: the one the operator chose for it (`engines`); else a Vosk model folder
configured for it (or for every language, `*`); else Vosk with the packaged Korean model for `ko`;
else Whisper with the packaged base model for the languages it knows (when installed: English
included, chosen over PocketSphinx by bench/speech.py's held-out figures); else PocketSphinx for `en`;
other languages have no speech (a speech-only ask then hears nothing and times out, keys still work
on `input: both`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from ivr.flow.events import ListenSpec

from .grammar import Grammar, grammar_for, normalize
from .recognizer import Recognizer, Result, SpeechEngine, SpeechError
from .vad import FRAME, EndpointConfig, Endpointer, SpeechEnded, SpeechStarted, VadEvent

log = logging.getLogger(__name__)

CHOOSABLE = ("pocketsphinx", "whisper", "whisper-text")     # engines an operator may pick for a language (Vosk: by model)
DEFAULT_MODEL_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ivr" / "models"
CHUNK_FRAMES = 5                 # 20 ms frames handed to the recognizer at once while the caller speaks


@dataclass
class SpeechConfig:
    """Vosk model folders by language, engines chosen by language, where packaged models are unpacked,
    recognition workers (default: one per core) and endpointing."""

    vosk_models: dict[str, Path] = field(default_factory=dict)   # language (or "*") → Vosk model folder
    engines: dict[str, str] = field(default_factory=dict)        # language → one of CHOOSABLE
    model_cache: Path = field(default_factory=lambda: DEFAULT_MODEL_CACHE)
    workers: int = max(2, os.cpu_count() or 2)
    endpoint: EndpointConfig = field(default_factory=EndpointConfig)


class SpeechService:
    """Engines by language (each loaded once, on first use or by `prepare`) and the worker threads."""

    def __init__(self, config: SpeechConfig | None = None) -> None:
        self.config = config or SpeechConfig()
        self.executor = ThreadPoolExecutor(self.config.workers, thread_name_prefix="asr")
        self._engines: dict[str, SpeechEngine] = {}
        self._broken: dict[str, str] = {}     # engine key → why its model could not be loaded
        self._lock = threading.Lock()

    def source(self, language: str) -> tuple[str, Path | None] | None:
        """(engine name, model folder) that hears `language` (`en-GB` as `en`), or None."""
        from .vosk_engine import packaged_korean_model
        from .whisper_engine import whisper_installed, whisper_languages
        language = language.split("-")[0].lower()
        if language in self.config.engines:
            return self.config.engines[language], None
        model = self.config.vosk_models.get(language) or self.config.vosk_models.get("*")
        if model is not None:
            return "vosk", Path(model)
        if language == "ko" and (packaged := packaged_korean_model()) is not None:
            return "vosk", packaged
        if language in whisper_languages() and whisper_installed():
            return "whisper", None
        if language == "en":
            return "pocketsphinx", None
        return None

    def available(self, language: str) -> bool:
        """Something hears this language (and its model did not fail to load)."""
        source = self.source(language)
        return source is not None and _key(source) not in self._broken

    def engine(self, language: str) -> SpeechEngine:
        """The loaded engine for a language (loads the model on first use: call off the event loop)."""
        source = self.source(language)
        if source is None:
            raise SpeechError(f"no speech recognition for language {language!r}")
        key = _key(source)
        with self._lock:
            if key in self._broken:
                raise SpeechError(self._broken[key])
            if key not in self._engines:
                try:
                    self._engines[key] = self._load(*source)
                except Exception as exc:       # a broken model folder: this language has no speech
                    self._broken[key] = f"{key} cannot be loaded: {exc}"
                    raise SpeechError(self._broken[key]) from exc
                log.info("speech: %s loaded for %s", key, language)
            return self._engines[key]

    def _load(self, name: str, model: Path | None) -> SpeechEngine:
        if name == "vosk":
            from .vosk_engine import VoskEngine
            assert model is not None
            return VoskEngine(model)
        if name in ("whisper", "whisper-text"):
            from .whisper_engine import WhisperEngine
            return WhisperEngine(self.config.model_cache, workers=self.config.workers, scoring=name == "whisper")
        from .sphinx import SphinxEngine
        return SphinxEngine(workers=self.config.workers)

    async def prepare(self, languages: list[str]) -> None:
        """Load the engines of these languages now (off the event loop), so the first call waits not."""
        loop = asyncio.get_running_loop()
        for language in sorted(set(languages)):
            # off the loop too: the first look at Whisper's languages imports faster-whisper
            if await loop.run_in_executor(self.executor, self.source, language) is None:
                log.warning("speech: nothing hears %r (configure a Vosk model, docs/speech.md); its asks take keys "
                            "only", language)
                continue
            try:
                await loop.run_in_executor(self.executor, self.engine, language)
            except SpeechError as exc:
                log.error("speech for %r cannot be used: %s", language, exc)

    async def unknown_words(self, language: str, phrases: list[str]) -> list[str]:
        """Words of these phrases the language's recognizer cannot hear (it drops them from grammars)."""
        if not self.available(language):
            return []
        words = sorted({w for phrase in phrases for w in normalize(phrase).split()})
        loop = asyncio.get_running_loop()
        try:
            engine = await loop.run_in_executor(self.executor, self.engine, language)
            return await loop.run_in_executor(self.executor, engine.unknown, words)
        except SpeechError:
            return []

    def listen(self, spec: ListenSpec, language: str, deliver: Callable[[Result], None],
               loop: asyncio.AbstractEventLoop | None = None) -> "SpeechListener | None":
        """A listener for one answer, or None when nothing hears this language. The ask's own
        `end_silence` and `max_speech` override the configured endpointing."""
        if not self.available(language):
            return None
        endpoint = replace(self.config.endpoint, **{
            name: value for name in ("end_silence", "max_speech") if (value := getattr(spec, name)) is not None})
        return SpeechListener(self, spec, language, endpoint, deliver, loop or asyncio.get_running_loop())

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        for engine in self._engines.values():
            close = getattr(engine, "close", None)
            if close is not None:
                close()


def _key(source: tuple[str, Path | None]) -> str:
    return f"{source[0]}:{source[1]}" if source[1] is not None else source[0]


class SpeechListener:
    """One answer of one call. `feed` runs on the event loop (only the cheap endpointer); the
    recognizer's work runs in order on the worker threads; the result comes back through `deliver`
    on the loop (an empty result with confidence 0 when recognition failed)."""

    def __init__(self, service: SpeechService, spec: ListenSpec, language: str, endpoint: EndpointConfig,
                 deliver: Callable[[Result], None], loop: asyncio.AbstractEventLoop) -> None:
        self.endpointer = Endpointer(endpoint)
        self.cancelled = False
        self._service = service
        self._deliver = deliver
        self._loop = loop
        self._preroll: deque[bytes] = deque()
        self._preroll_bytes = int(endpoint.preroll * 8000) * 2
        self._chunk: list[bytes] = []
        self._jobs: deque[Callable[[], None]] = deque()
        self._running = False
        self._lock = threading.Lock()
        self._recognizer: Recognizer | None = None
        self._failed: Exception | None = None
        grammar = grammar_for(spec, language)
        self._submit(lambda: self._start(language, grammar))

    @property
    def hearing(self) -> bool:
        """The caller has started to speak: the answer is on its way (no no-input timeout now)."""
        return not self.cancelled and self.endpointer.state != "idle"

    def feed(self, pcm: bytes, now: float) -> list[VadEvent]:
        """The caller's audio (16-bit 8 kHz) that arrived at `now`."""
        if self.cancelled or self.endpointer.state == "ended":
            return []
        was_idle = self.endpointer.state == "idle"
        if was_idle:
            self._preroll.append(pcm)
            while sum(map(len, self._preroll)) - len(self._preroll[0]) > self._preroll_bytes:
                self._preroll.popleft()
        events = self.endpointer.feed(pcm, now)
        if was_idle and any(isinstance(e, SpeechStarted) for e in events):
            self._chunk, self._preroll = list(self._preroll), deque()
        elif not was_idle:
            self._chunk.append(pcm)
        ended = any(isinstance(e, SpeechEnded) for e in events)
        if self._chunk and (ended or sum(map(len, self._chunk)) >= CHUNK_FRAMES * FRAME * 2):
            audio, self._chunk = b"".join(self._chunk), []
            self._submit(lambda: self._accept(audio))
        if ended:
            self._submit(self._finish)
        return events

    def poll(self, now: float) -> None:
        """A clock tick: ends the utterance when the caller's phone stopped sending audio."""
        if not self.cancelled and self.endpointer.poll(now) is not None:
            audio, self._chunk = b"".join(self._chunk), []
            if audio:
                self._submit(lambda: self._accept(audio))
            self._submit(self._finish)

    def cancel(self) -> None:
        """No result is wanted any more (keys answered, timeout, hang-up)."""
        self.cancelled = True
        with self._lock:
            self._jobs.clear()

    # -- worker side ------------------------------------------------------------------------------

    def _submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            if self.cancelled:
                return
            self._jobs.append(job)
            if self._running:
                return
            self._running = True
        self._service.executor.submit(self._drain)

    def _drain(self) -> None:
        """Run this listener's jobs one after another (one worker at a time per listener)."""
        while True:
            with self._lock:
                if not self._jobs:
                    self._running = False
                    return
                job = self._jobs.popleft()
            try:
                job()
            except SpeechError as exc:      # e.g. no word of the ask is in the model's vocabulary
                log.warning("speech recognition cannot hear this ask: %s", exc)
                self._failed = exc
            except Exception as exc:        # an engine failure ends this answer, not the call
                log.exception("speech recognition failed")
                self._failed = exc

    def _start(self, language: str, grammar: Grammar) -> None:
        self._recognizer = self._service.engine(language).recognizer(grammar)

    def _accept(self, audio: bytes) -> None:
        if self._recognizer is not None:
            self._recognizer.accept(audio)

    def _finish(self) -> None:
        result = Result("", 0.0)
        if self._recognizer is not None and self._failed is None:
            try:
                result = self._recognizer.finish()
            except Exception:
                log.exception("speech recognition failed")
        if not self.cancelled:
            self._loop.call_soon_threadsafe(self._hand_over, result)

    def _hand_over(self, result: Result) -> None:
        if not self.cancelled:
            self.cancelled = True
            self._deliver(result)
