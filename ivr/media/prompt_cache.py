"""The prompt cache: every `say`/`ask` made into telephony audio ahead of calls.

An entry is 16-bit linear PCM, 8 kHz mono (`KEY.pcm`), with its ready-to-send G.711 encodings beside it
(`KEY.ulaw`, `KEY.alaw`) and what it says (`KEY.json`: the request). The key hashes everything the audio depends on: the text (or the recording's
content), language, engine and its version, voice, rate and the audio processing version. Prompts are
made by `build` when a dialplan is loaded or uploaded; during a call only `get_or_none` runs, which never
synthesises: a miss is None and the caller decides (`synthesize_in_background` makes a new templated
value off the event loop).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path

from ivr.i18n import t

from . import audio, g711
from .tts import MAX_RATE, MIN_RATE, TtsError, TtsRegistry
from .verbalize import VERBALIZE_VERSION, verbalize

log = logging.getLogger(__name__)

DEFAULT_DIRECTORY = Path("prompts/cache")
ENCODINGS = {g711.PCMU: ".ulaw", g711.PCMA: ".alaw"}
_SUFFIXES = (".pcm", *ENCODINGS.values(), ".json")
_TAG = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*(?:\|\s*([^}]*?)\s*)?\}\}")
_SPEAKABLE = re.compile(r"\w")


class PromptError(Exception):
    """Base error of the prompt cache."""


class PromptMissing(PromptError, KeyError):
    """No cached audio under that key."""


class PromptFailed(PromptError):
    """Audio could not be made for a request (engine or conversion error)."""


@dataclass(frozen=True)
class PromptRequest:
    """One prompt to make: a text to speak or a recording to convert (exactly one of the two)."""

    text: str | None = None
    audio_path: Path | None = None
    language: str = "en"
    voice: str | None = None
    engine: str | None = None
    rate: float = 1.0

    def __post_init__(self) -> None:
        if (self.text is None) == (self.audio_path is None):
            raise PromptError(t("a prompt request needs exactly one of text and audio_path"))
        if self.text is not None and not self.text.strip():
            raise PromptError(t("a prompt text is empty"))
        if not MIN_RATE <= self.rate <= MAX_RATE:
            raise PromptError(t("rate {rate} is outside {low}..{high}", rate=self.rate, low=MIN_RATE, high=MAX_RATE))


@dataclass(frozen=True)
class Slot:
    """A variable of a templated prompt: `{{ name }}` or `{{ name | default }}`."""

    name: str
    default: str | None = None


def split_template(text: str) -> list[str | Slot]:
    """`Your order {{status}} today` → ["Your order", Slot("status"), "today"]: fixed parts (stripped, empty
    ones left out) and the variables between them, in order."""
    parts: list[str | Slot] = []
    position = 0
    for match in _TAG.finditer(text):
        parts.append(text[position:match.start()].strip())
        parts.append(Slot(match.group(1), match.group(2)))
        position = match.end()
    parts.append(text[position:].strip())
    return [p for p in parts if p != ""]


def is_template(text: str) -> bool:
    """True when the text has a `{{ variable }}`."""
    return _TAG.search(text) is not None


def value_pattern(template: str) -> re.Pattern[str]:
    """What the texts rendered from a template look like: its fixed text with anything for each variable."""
    pieces, position = [], 0
    for match in _TAG.finditer(template):
        pieces += [re.escape(template[position:match.start()]), ".*?"]
        position = match.end()
    pieces.append(re.escape(template[position:]))
    return re.compile("".join(pieces), re.DOTALL)


def fixed_parts(request: PromptRequest) -> list[PromptRequest]:
    """What can be made ahead of calls: the request itself, or for a template its speakable fixed parts."""
    if request.text is None or not is_template(request.text):
        return [request]
    return [PromptRequest(text=part, language=request.language, voice=request.voice, engine=request.engine,
                          rate=request.rate)
            for part in split_template(request.text) if isinstance(part, str) and _SPEAKABLE.search(part)]


@dataclass
class BuildFailure:
    request: PromptRequest
    error: str


@dataclass
class BuildReport:
    """What `build` did: the keys the requests need (give them to `clean`), which were made now, and failures."""

    keys: set[str] = field(default_factory=set)
    generated: list[str] = field(default_factory=list)
    failures: list[BuildFailure] = field(default_factory=list)

    @property
    def reused(self) -> int:
        return len(self.keys) - len(self.generated)


class PromptCache:
    """Prompt audio on disk (`directory`), with a small in-memory LRU of recently played entries."""

    def __init__(self, directory: Path = DEFAULT_DIRECTORY, registry: TtsRegistry | None = None,
                 memory_entries: int = 512) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.registry = registry or TtsRegistry()
        self.generated = 0                      # entries made by this object (synthesised or converted)
        self._memory: OrderedDict[str, bytes] = OrderedDict()
        self._memory_entries = memory_entries
        self._lock = threading.Lock()
        self._content_digests: dict[tuple[Path, int, int], str] = {}
        self._in_flight: dict[str, asyncio.Future[bytes]] = {}

    # -- keys and files

    def key(self, request: PromptRequest) -> str:
        """The cache key of a request (TtsError when its engine is not available here)."""
        if request.audio_path is not None:
            material = {"audio": self._digest_of(Path(request.audio_path))}
        else:
            engine = self.registry.choose(request.language, request.engine)
            voice = request.voice or engine.default_voice(request.language)
            versions = getattr(engine, "voice_version", None)          # engines whose voices change (voice packs)
            material = {"text": request.text, "language": request.language, "engine": engine.name,
                        "engine_version": versions(voice) if versions is not None else engine.version(),
                        "voice": voice, "rate": request.rate}
        material["processing"] = audio.PROCESSING_VERSION
        if request.text is not None:
            material["verbalize"] = VERBALIZE_VERSION
        blob = json.dumps(material, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()[:32]

    def path(self, key: str, suffix: str = ".pcm") -> Path:
        return self.directory / f"{key}{suffix}"

    def has(self, key: str) -> bool:
        return self.path(key).is_file()

    def keys(self) -> set[str]:
        """Keys of every complete entry on disk."""
        return {p.stem for p in self.directory.glob("*.pcm")}

    def load_pcm(self, key: str) -> bytes:
        """16-bit 8 kHz mono PCM of an entry (PromptMissing if absent)."""
        with self._lock:
            if key in self._memory:
                self._memory.move_to_end(key)
                return self._memory[key]
        try:
            pcm = self.path(key).read_bytes()
        except FileNotFoundError:
            raise PromptMissing(key) from None
        self._remember(key, pcm)
        return pcm

    def load_encoded(self, key: str, payload_type: int) -> bytes:
        """The entry as G.711 bytes for `payload_type` (g711.PCMU or g711.PCMA), ready to packetise."""
        suffix = ENCODINGS.get(payload_type)
        if suffix is None:
            raise g711.CodecError(f"unsupported payload type {payload_type}")
        try:
            return self.path(key, suffix).read_bytes()
        except FileNotFoundError:
            raise PromptMissing(key) from None

    # -- during a call

    def get_or_none(self, request: PromptRequest) -> bytes | None:
        """Cached PCM for a request, or None. Never synthesises (also None when the engine is missing)."""
        try:
            return self.load_pcm(self.key(request))
        except (PromptMissing, TtsError, OSError):
            return None

    async def synthesize_in_background(self, request: PromptRequest) -> bytes:
        """Make (or load) a request's PCM in a worker thread; concurrent asks for one key share the work."""
        key = await asyncio.to_thread(self.key, request)
        running = self._in_flight.get(key)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._in_flight[key] = future
        try:
            pcm = await asyncio.to_thread(self.synthesize, request)
        except Exception as exc:
            future.set_exception(exc)
            future.exception()          # marked retrieved: the waiters get it, nobody else has to
            raise
        except BaseException:
            future.cancel()
            raise
        else:
            future.set_result(pcm)
            return pcm
        finally:
            del self._in_flight[key]

    # -- ahead of calls

    def synthesize(self, request: PromptRequest) -> bytes:
        """PCM for a request, making the entry first when missing (blocking: keep it off the event loop)."""
        return self.load_pcm(self.ensure(request))

    def ensure(self, request: PromptRequest) -> str:
        """Make the entry of a request unless it is cached; its key. PromptFailed when it cannot be made."""
        try:
            key = self.key(request)
        except (TtsError, OSError) as exc:
            raise PromptFailed(str(exc)) from exc
        if self.has(key):
            return key
        try:
            pcm = self._make(request)
        except (TtsError, audio.AudioError, OSError) as exc:
            raise PromptFailed(str(exc)) from exc
        self._write(self.path(key, ".json"), json.dumps(_what(request), ensure_ascii=False).encode())
        for payload_type, suffix in ENCODINGS.items():
            self._write(self.path(key, suffix), g711.encode(payload_type, pcm))
        self._write(self.path(key), pcm)        # last: a .pcm file means the entry is complete
        self._remember(key, pcm)
        with self._lock:
            self.generated += 1
        log.info("prompt made: %s (%.2f s) %s", key, len(pcm) / 2 / audio.SAMPLE_RATE, _describe(request))
        return key

    def build(self, requests: Iterable[PromptRequest], workers: int = 2,
              progress: Callable[[int, int, BuildFailure | PromptRequest], None] | None = None) -> BuildReport:
        """Make every prompt the requests need (templates: their fixed parts), `workers` at a time.
        `progress(done, total, made_or_failure)` is called after each prompt made (or failed) now."""
        report = BuildReport()
        wanted: dict[str, PromptRequest] = {}
        for request in requests:
            for part in fixed_parts(request):
                try:
                    wanted.setdefault(self.key(part), part)
                except (TtsError, OSError) as exc:
                    report.failures.append(BuildFailure(part, str(exc)))
        missing = {key: request for key, request in wanted.items() if not self.has(key)}
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            outcomes = {pool.submit(self.ensure, request): key for key, request in missing.items()}
            for done, outcome in enumerate(as_completed(outcomes), 1):
                key = outcomes[outcome]
                error = outcome.exception()
                item: BuildFailure | PromptRequest = missing[key]
                if error is None:
                    report.generated.append(key)
                else:
                    item = BuildFailure(missing[key], str(error))
                    report.failures.append(item)
                if progress is not None:
                    progress(done, len(missing), item)
        report.keys = {key for key in wanted if self.has(key)}
        return report

    def clean(self, keep_keys: Iterable[str], templates: Iterable[PromptRequest] = (), stale_after: float = 0.0,
              values_for: float = 0.0) -> list[str]:
        """Delete every entry whose key is not kept, and leftovers of interrupted writes; the keys deleted.

        Spared: entries made (or last kept) less than `stale_after` seconds ago, and values of `templates`
        (texts rendered from them, in their voice) made less than `values_for` seconds ago. Kept entries
        are touched, so their age counts from this clean."""
        keep = set(keep_keys)
        now = time.time()
        patterns = [(request, value_pattern(request.text)) for request in templates if request.text is not None]
        removed: set[str] = set()
        for path in self.directory.glob("*.pcm"):
            key = path.stem
            try:
                age = now - path.stat().st_mtime
                if key in keep:
                    os.utime(path)
                    continue
            except FileNotFoundError:          # another process cleaned it meanwhile
                continue
            if age < stale_after or age < values_for and self._is_value(key, patterns):
                continue
            for suffix in _SUFFIXES:
                self.path(key, suffix).unlink(missing_ok=True)
            removed.add(key)
        for path in self.directory.iterdir():
            if path.suffix == ".tmp" or path.suffix in _SUFFIXES and not self.has(path.stem):
                try:                             # a leftover, or part of an entry being written right now
                    if now - path.stat().st_mtime >= stale_after and path.stem not in keep:
                        path.unlink(missing_ok=True)
                except FileNotFoundError:
                    continue
        with self._lock:
            for key in removed:
                self._memory.pop(key, None)
        return sorted(removed)

    def _is_value(self, key: str, patterns: list[tuple[PromptRequest, re.Pattern[str]]]) -> bool:
        """Whether the entry is a text rendered from one of the templates, in that template's voice."""
        try:
            text = json.loads(self.path(key, ".json").read_text(encoding="utf-8")).get("text")
        except (OSError, ValueError, AttributeError):
            return False
        if not isinstance(text, str):
            return False
        for request, pattern in patterns:
            if pattern.fullmatch(text):
                try:
                    if self.key(replace(request, text=text)) == key:
                        return True
                except (TtsError, OSError, PromptError):
                    continue
        return False

    # -- helpers

    def _make(self, request: PromptRequest) -> bytes:
        if request.audio_path is not None:
            return audio.to_telephony(Path(request.audio_path))
        assert request.text is not None
        engine = self.registry.choose(request.language, request.engine)
        voice = request.voice or engine.default_voice(request.language)
        with tempfile.TemporaryDirectory(prefix="ivr-tts-") as tmp:
            wav = Path(tmp) / "speech.wav"
            # values written out for the engines (a voice pack reads them itself, word by word)
            text = request.text if engine.name == "voice-pack" else verbalize(request.text, request.language)
            engine.synthesize(text, request.language, voice, request.rate, wav)
            if not wav.is_file() or wav.stat().st_size == 0:
                raise PromptFailed(f"{engine.name} wrote no audio")
            return audio.to_telephony(wav)

    def _digest_of(self, path: Path) -> str:
        stat = path.stat()
        marker = (path.resolve(), stat.st_mtime_ns, stat.st_size)
        digest = self._content_digests.get(marker)
        if digest is None:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            self._content_digests[marker] = digest
        return digest

    def _remember(self, key: str, pcm: bytes) -> None:
        with self._lock:
            self._memory[key] = pcm
            self._memory.move_to_end(key)
            while len(self._memory) > self._memory_entries:
                self._memory.popitem(last=False)

    def _write(self, path: Path, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=path.name + ".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _what(request: PromptRequest) -> dict[str, object]:
    """An entry's request, kept beside it (`KEY.json`)."""
    if request.audio_path is not None:
        return {"audio": str(request.audio_path)}
    return {"text": request.text, "language": request.language, "engine": request.engine, "voice": request.voice,
            "rate": request.rate}


def _describe(request: PromptRequest) -> str:
    if request.audio_path is not None:
        return f"recording {request.audio_path}"
    return f"{request.language}/{request.engine or 'default'}: {request.text!r}"[:120]
