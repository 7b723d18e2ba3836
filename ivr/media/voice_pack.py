"""Voice packs: a business's recorded words, played one after another to say any text made of them,
values included (as Asterisk's SayNumber plays digits/1.gsm, digits/20.gsm ...), so a brand with a
recorded voice gets order numbers, balances, dates and times in that voice.

A pack is a folder `ROOT/NAME/` of recordings named by the word they say, `гривні.wav`, `п'ять.mp3`,
`ваш.ogg`, in lower case (WAV, MP3 or OGG). A text is said word by word after `verbalize.words`
(numbers, money, dates, times and codes written out with agreement), each word from its recording,
with a short pause between. `VoicePackEngine` is the TTS engine `voice-pack` (the voice is the pack's
name): campaigns choose it like any engine (`voice: {engine: voice-pack, voice: brand}`), and a prompt
with a word the pack lacks cannot be made, with the missing words listed (so a campaign using it is
refused on upload). `missing` lists what a pack lacks to say every value of a language.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from . import audio
from .tts import EngineUnavailable, SynthesisFailed, UnsupportedLanguage, base_language
from .verbalize import NUMERALS, vocabulary, words

SUFFIXES = (".wav", ".mp3", ".ogg")
GAP = 0.06                       # s of silence between two words
_NAME = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")


def word_key(word: str) -> str:
    """A word as a pack names its file: lower case, any apostrophe as '."""
    return re.sub(r"[’ʼ`]", "'", word.lower())


class VoicePack:
    """One pack's folder of recorded words."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def recordings(self) -> dict[str, Path]:
        """Word → its recording."""
        if not self.folder.is_dir():
            return {}
        return {word_key(p.stem): p for p in sorted(self.folder.iterdir())
                if p.suffix.lower() in SUFFIXES and _NAME.fullmatch(p.stem)}

    def missing(self, language: str, texts: list[str] = []) -> list[str]:   # noqa: B006 (read only)
        """The words the pack lacks to say every value of `language` and the given texts."""
        have = self.recordings()
        wanted = set(vocabulary(base_language(language))) if base_language(language) in NUMERALS else set()
        wanted |= {word_key(w) for text in texts for w in words(text, language)}
        return sorted(w for w in wanted if w not in have)

    def say(self, text: str, language: str) -> bytes:
        """The text as telephony PCM from the recorded words (SynthesisFailed naming the words lacking)."""
        said = [word_key(w) for w in words(text, language)]
        have = self.recordings()
        lacking = sorted({w for w in said if w not in have})
        if lacking:
            raise SynthesisFailed(f"voice pack {self.folder.name!r} has no recording of: {', '.join(lacking)}")
        if not said:
            raise SynthesisFailed("nothing to say")
        gap = np.zeros(int(GAP * audio.SAMPLE_RATE), dtype="<i2").tobytes()
        return gap.join(audio.to_telephony(have[w]) for w in said)


class VoicePackEngine:
    """The TTS engine `voice-pack`: the voice names a pack under `root`."""

    name = "voice-pack"

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else None

    def is_available(self) -> bool:
        return self.root is not None and self.root.is_dir()

    def version(self) -> str:
        """Changes whenever a recording is added, replaced or removed in any pack (cache keys follow)."""
        assert self.root is not None
        folders = [self.root, *(p for p in self.root.iterdir() if p.is_dir())]
        return f"voice-pack {max(os.stat(p).st_mtime_ns for p in folders)}"

    def default_voice(self, language: str) -> str:
        raise UnsupportedLanguage("a voice pack must be named: voice: {engine: voice-pack, voice: NAME}")

    def pack(self, voice: str) -> VoicePack:
        if self.root is None or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}", voice):
            raise EngineUnavailable(f"no voice pack {voice!r}")
        folder = self.root / voice
        if not folder.is_dir():
            raise EngineUnavailable(f"no voice pack {voice!r} in {self.root}")
        return VoicePack(folder)

    def synthesize(self, text: str, language: str, voice: str, rate: float, out_wav: Path) -> None:
        audio.write_wav(out_wav, self.pack(voice).say(text, language))
