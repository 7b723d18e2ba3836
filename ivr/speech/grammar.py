"""What a caller may say to one `ask`: the choices' words, or spoken digits for free input.

A `ListenSpec` with a grammar (the choices' `words`) allows exactly those phrases, returned as written
in the campaign so the interpreter matches them; without words (free input such as a code) any
sequence of the language's spoken digits is allowed ("one two three" → "123"). Engines add the
language's filler words as a rival to the answers: a caller who says something else is heard as a
filler word, and the result is empty (a nomatch) instead of the nearest answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ivr.flow.events import ListenSpec

# Spoken digits per language, for free numeric input.
DIGITS: dict[str, dict[str, str]] = {
    "en": {"zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
           "six": "6", "seven": "7", "eight": "8", "nine": "9"},
    "ko": {"영": "0", "공": "0", "하나": "1", "일": "1", "둘": "2", "이": "2", "셋": "3", "삼": "3", "넷": "4",
           "사": "4", "다섯": "5", "오": "5", "여섯": "6", "육": "6", "일곱": "7", "칠": "7", "여덟": "8",
           "팔": "8", "아홉": "9", "구": "9"},
    "ru": {"ноль": "0", "нуль": "0", "один": "1", "одна": "1", "два": "2", "две": "2", "три": "3", "четыре": "4",
           "пять": "5", "шесть": "6", "семь": "7", "восемь": "8", "девять": "9"},
    "uk": {"нуль": "0", "один": "1", "одна": "1", "два": "2", "дві": "2", "три": "3", "чотири": "4",
           "п'ять": "5", "шість": "6", "сім": "7", "вісім": "8", "дев'ять": "9"},
}

# Common words that are none of the answers, per language (those of the grammar are left out). Short
# function words ("a", "the") are not among them: they soak up short answers. bench/speech.py weighs
# answers heard against out-of-grammar speech rejected when this list changes.
FILLER: dict[str, tuple[str, ...]] = {
    "en": tuple(("hello please thanks sorry wait okay maybe something nothing because really people morning "
                 "evening today tomorrow money problem question what where when like just").split()),
    "ko": tuple("안녕하세요 감사합니다 모르겠어요 잠깐만요 뭐라고요 괜찮아요 그러니까".split()),
}


def normalize(text: str) -> str:
    """Lower case, punctuation out, single spaces (as the interpreter compares answers); an apostrophe
    inside a word stays, as ' ("don't", Ukrainian "п’ять")."""
    text = re.sub(r"[’ʼ`]", "'", text.lower())
    return " ".join(re.sub(r"(?<!\w)'|'(?!\w)|[^\w\s']", " ", text).split())


@dataclass
class Grammar:
    """Phrases the recognizer may return, each mapped to the text given to the flow.
    `digits`: free input, any sequence of the language's spoken digits."""

    language: str
    phrases: dict[str, str] = field(default_factory=dict)
    digits: bool = False

    @property
    def digit_words(self) -> dict[str, str]:
        return DIGITS.get(self.language, {})

    def words(self) -> set[str]:
        """Every word the grammar uses."""
        out = {w for phrase in self.phrases for w in phrase.split()}
        return out | set(self.digit_words) if self.digits else out

    def fillers(self) -> list[str]:
        """The language's filler words that the grammar does not use."""
        used = self.words()
        return [w for w in FILLER.get(self.language, ()) if w not in used]

    def meaning(self, said: str) -> str:
        """The flow's text for what the engine returned ("" when it is not in the grammar)."""
        said = normalize(said)
        if said in self.phrases:
            return self.phrases[said]
        if self.digits and said:
            spoken = said.split()
            if all(w in self.digit_words for w in spoken):
                return "".join(self.digit_words[w] for w in spoken)
        return ""

    def restrict(self, vocabulary: set[str] | None) -> "Grammar":
        """Only the phrases whose words the model knows (None: no restriction)."""
        if vocabulary is None:
            return self
        phrases = {p: m for p, m in self.phrases.items() if all(w in vocabulary for w in p.split())}
        known_digits = self.digits and all(w in vocabulary for w in self.digit_words)
        return Grammar(self.language, phrases, known_digits)


def grammar_for(spec: ListenSpec, language: str) -> Grammar:
    """The grammar of one listen: its choices' words, or free spoken digits when it has none."""
    phrases = {normalize(w): w for w in spec.grammar if normalize(w)}
    return Grammar(language, phrases, digits=not phrases)
