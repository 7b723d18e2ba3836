"""The embedded English engine: PocketSphinx 5 (its en-us model ships inside the package).

The call's 8 kHz audio is upsampled to the model's 16 kHz by a windowed-sinc interpolation filter
(zero-stuffing, then a 4 kHz low-pass) as it arrives, and decoded at the end of the utterance as one
whole utterance (cepstral mean over all of it: short answers are recognised far better than by live
decoding) against a JSGF grammar: the answers, or one filler word from a list of common words that
catches out-of-grammar speech (the result is then empty). The confidence of an answer that beats the
filler is 0.5 + half its lattice posterior, so a node's default threshold of 0.5 accepts every answer
the grammar prefers and a higher one asks for a surer answer.

PocketSphinx holds the GIL while it decodes, so decoding runs in worker processes (`workers.py`: each
loads the model once, at a lower priority) and never stalls the event loop or the media clock.
"""

from __future__ import annotations

from typing import Any, Callable

from .grammar import Grammar, normalize
from .recognizer import Result, SpeechError
from .upsample import MODEL_RATE, UpsampledUtterance
from .workers import process_pool

_decoder: Any = None                 # per worker process


def jsgf(grammar: Grammar, pronounce: Callable[[str], str | None]) -> str:
    """The JSGF text of a grammar plus the filler alternative; words the dictionary lacks are left out."""
    known = grammar.restrict({w for w in grammar.words() if pronounce(w) is not None})
    answers = list(known.phrases)
    if known.digits:
        answers.append("( " + " | ".join(sorted(known.digit_words)) + " )+")
    if not answers:
        raise SpeechError("no word of the grammar is in the model's dictionary")
    said = {pronounce(w) for w in known.words()}
    filler = [w for w in known.fillers() if pronounce(w) not in (None, *said)]   # no homophones: "for", "four"
    rules = " | ".join(answers + ["<filler>"] * bool(filler))
    text = f"#JSGF V1.0;\ngrammar answers;\npublic <answer> = {rules} ;\n"
    return text + (f"<filler> = {' | '.join(filler)} ;\n" if filler else "")


def _load(options: dict[str, Any]) -> None:
    """Worker process start: load the model."""
    global _decoder
    import pocketsphinx
    _decoder = pocketsphinx.Decoder(**options)


def _unknown(words: list[str]) -> list[str]:
    return [w for w in words if _decoder.lookup_word(w) is None]


def _decode(grammar: Grammar, audio: bytes) -> tuple[str, float]:
    """In a worker process: (words, posterior of the answer words) of 16 kHz audio."""
    decoder = _decoder
    decoder.add_jsgf_string("answers", jsgf(grammar, decoder.lookup_word))   # replaces the last one
    decoder.activate_search("answers")
    decoder.start_utt()
    decoder.process_raw(audio, False, True)
    decoder.end_utt()
    hyp = decoder.hyp()
    if hyp is None:
        return "", 0.0
    words = [s for s in decoder.seg() if not s.word.startswith(("<", "["))]
    return hyp.hypstr, float(min((s.prob for s in words), default=0.0))


class SphinxEngine:
    """English by PocketSphinx's bundled model (or the model folder `model_dir`), in `workers` processes."""

    name = "pocketsphinx"

    def __init__(self, model_dir: str | None = None, workers: int = 2) -> None:
        try:
            import pocketsphinx  # noqa: F401  (fail here, not in a worker)
        except ImportError as exc:
            raise SpeechError("pocketsphinx is not installed (run scripts/bootstrap)") from exc
        options: dict[str, Any] = {"samprate": MODEL_RATE, "lm": None, "loglevel": "ERROR", "bestpath": True}
        if model_dir is not None:
            options["hmm"] = model_dir
        self._pool = process_pool(workers, _load, options)
        self._pool.submit(_decode, Grammar("en", {"yes": "yes"}), b"\0" * 3200).result(timeout=60)

    def recognizer(self, grammar: Grammar) -> "SphinxRecognizer":
        return SphinxRecognizer(self, grammar)

    def unknown(self, words: list[str]) -> list[str]:
        return self._pool.submit(_unknown, words).result(timeout=60)

    def decode(self, grammar: Grammar, audio: bytes) -> tuple[str, float]:
        return self._pool.submit(_decode, grammar, audio).result(timeout=60)

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)


class SphinxRecognizer(UpsampledUtterance):
    """One utterance: the audio is upsampled as it comes and decoded at `finish`."""

    def __init__(self, engine: SphinxEngine, grammar: Grammar) -> None:
        super().__init__(grammar)
        self.engine = engine

    def finish(self) -> Result:
        heard, posterior = self.engine.decode(self.grammar, self.take())
        text = self.grammar.meaning(normalize(heard))
        return Result(text, round(0.5 + posterior / 2, 3) if text else 0.0, heard)
