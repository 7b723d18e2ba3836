"""The callers of bench/speech.py: each phrase of a split said by each of its voices, on a clean and a
noisy line, as 8 kHz 16-bit PCM after G.711, cached on disk (bench/.cache, git-ignored) so a second run
synthesises nothing.

A line (`Line`) is chosen per utterance from a hash of its voice and text, so the set is the same on
every run: tempo ±10 % or pitch ±2 semitones (sox), then a background laid under 3 s of line before
and after the words:

- clean lines: digital silence (a muted phone), comfort noise (-60 dBFS), or 50 Hz mains hum with its
  harmonics (-35 dBFS);
- noisy lines: pink noise or babble (other sentences of the language, in other voices, summed) at
  20 dB or 10 dB below the words' speech level;

and the whole through G.711 μ-law or A-law and back.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ivr.media import g711  # noqa: E402
from ivr.media.audio import speech_level_dbfs  # noqa: E402
from ivr.media.prompt_cache import PromptCache, PromptRequest  # noqa: E402

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
SPLITS = {"tune": HERE / "speech_phrases.yaml", "heldout": HERE / "speech_heldout.yaml"}
RATE = 8000
AROUND = 3.0                     # s of line before and after the words
CLEAN = ("silence", "comfort", "hum")
NOISY = ("pink20", "pink10", "babble20", "babble10")
BABBLE = {
    "en": ["the meeting was moved to thursday afternoon", "please leave your parcel at the door",
           "we were talking about the football last night", "she bought three kilos of apples"],
    "ru": ["мы вчера долго гуляли по парку", "поезд опоздал на двадцать минут",
           "передайте пожалуйста соль и хлеб", "на улице сегодня очень холодно"],
    "uk": ["ми вчора довго гуляли парком", "потяг запізнився на двадцять хвилин",
           "передайте будь ласка сіль і хліб", "на вулиці сьогодні дуже холодно"],
    "ko": ["어제 공원에서 오래 산책했어요", "기차가 이십 분 늦었어요", "소금하고 빵 좀 주세요", "오늘 밖이 아주 추워요"],
}
BABBLE_VOICES = {"en": ["flite/awb", "flite/slt", "espeak-ng/en-us+f2", "flite/rms"],
                 "ru": ["festival/msu_ru_nsh_clunits", "espeak-ng/ru+f2", "espeak-ng/ru+m2", "espeak-ng/ru"],
                 "uk": ["espeak-ng/uk+f4", "espeak-ng/uk+m2", "espeak-ng/uk", "espeak-ng/uk+f1"],
                 "ko": ["espeak-ng/ko+f2", "espeak-ng/ko+m2", "espeak-ng/ko", "espeak-ng/ko+f4"]}


@dataclass(frozen=True)
class Line:
    """How a phone line changes what a caller said."""

    tempo: float                 # 1.0, 0.9 or 1.1
    semitones: int               # 0, -2 or +2
    background: str              # one of CLEAN or NOISY
    law: str                     # "ulaw" or "alaw"

    @property
    def noisy(self) -> bool:
        return self.background in NOISY


@dataclass(frozen=True)
class Utterance:
    """One phrase said by one voice on one line: what the ask allows, what is expected."""

    language: str
    grammar: tuple[str, ...]
    text: str
    expected: str                # "" for off-topic speech
    voice: str
    line: Line
    pcm: bytes
    speech_start: float          # s into `pcm` where the words begin and end
    speech_end: float


def voice_of(spec: str) -> tuple[str, str, float]:
    """"flite/slt" or "espeak-ng/ko@0.85" → (engine, voice, rate)."""
    engine, _, rest = spec.partition("/")
    voice, _, rate = rest.partition("@")
    return engine, voice, float(rate or 1.0)


def _seed(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("|".join(parts).encode()).digest()[:4], "big")


def line_for(voice: str, text: str, noisy: bool) -> Line:
    seed = _seed(voice, text, str(noisy))
    change = seed % 5                               # none, tempo -/+, pitch -/+
    tempo = {1: 0.9, 2: 1.1}.get(change, 1.0)
    semitones = {3: -2, 4: 2}.get(change, 0)
    backgrounds = NOISY if noisy else CLEAN
    return Line(tempo, semitones, backgrounds[(seed >> 4) % len(backgrounds)], "alaw" if (seed >> 8) % 3 == 0 else "ulaw")


def said(text: str, language: str, voice: str) -> np.ndarray:
    """A voice saying `text`: telephony PCM as float samples (cached by the prompt cache)."""
    engine, name, rate = voice_of(voice)
    pcm = PromptCache(CACHE / "tts").synthesize(PromptRequest(text=text, language=language, engine=engine,
                                                               voice=name, rate=rate))
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64)


def _sox(samples: np.ndarray, *effects: str) -> np.ndarray:
    raw = np.clip(samples, -32768, 32767).astype("<i2").tobytes()
    fmt = ["-t", "raw", "-r", str(RATE), "-e", "signed", "-b", "16", "-c", "1"]
    out = subprocess.run(["sox", *fmt, "-", *fmt, "-", *effects], input=raw, capture_output=True, check=True).stdout
    return np.frombuffer(out, dtype="<i2").astype(np.float64)


def _pink(count: int, rng: np.random.Generator) -> np.ndarray:
    spectrum = np.fft.rfft(rng.normal(size=count))
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
    noise = np.fft.irfft(spectrum, count)
    return noise / np.sqrt(np.mean(noise ** 2))


def _babble(language: str, count: int) -> np.ndarray:
    total = np.zeros(count)
    for i, (text, voice) in enumerate(zip(BABBLE[language], BABBLE_VOICES[language])):
        talk = said(text, language, voice)
        talk = np.tile(talk, count // len(talk) + 2)
        offset = (i * 3301) % len(talk)
        total += talk[offset:offset + count]
    return total / np.sqrt(np.mean(total ** 2))


def _background(kind: str, language: str, count: int, speech_dbfs: float, rng: np.random.Generator) -> np.ndarray:
    if kind == "silence":
        return np.zeros(count)
    if kind == "comfort":
        return rng.normal(size=count) * 32768 * 10 ** (-60 / 20)
    if kind == "hum":
        t = np.arange(count) / RATE
        hum = sum(np.sin(2 * np.pi * 50 * k * t + k) / k for k in (1, 2, 3, 5, 7, 9))
        return hum / np.sqrt(np.mean(hum ** 2)) * 32768 * 10 ** (-35 / 20)
    snr = float(kind[-2:])
    noise = _pink(count, rng) if kind.startswith("pink") else _babble(language, count)
    return noise * 32768 * 10 ** ((speech_dbfs - snr) / 20)


def on_line(words: np.ndarray, language: str, line: Line, seed: int) -> tuple[bytes, float, float]:
    """The words as the far end hears them: (PCM after G.711, where they start, where they end)."""
    effects = (["tempo", "-s", str(line.tempo)] if line.tempo != 1.0 else []) + \
              (["pitch", str(line.semitones * 100)] if line.semitones else [])
    if effects:
        words = _sox(words, *effects)
    level = speech_level_dbfs(words / 32768.0)
    around = int(AROUND * RATE)
    signal = np.concatenate([np.zeros(around), words, np.zeros(around)])
    signal = signal + _background(line.background, language, len(signal), level, np.random.default_rng(seed))
    pcm = np.clip(np.round(signal), -32768, 32767).astype("<i2").tobytes()
    law = g711.PCMU if line.law == "ulaw" else g711.PCMA
    return g711.decode(law, g711.encode(law, pcm)), AROUND, AROUND + len(words) / RATE


def utterances(split: str, language: str) -> list[Utterance]:
    """Every utterance of a split for one language (made on first use, then read from the cache)."""
    plan = yaml.safe_load(SPLITS[split].read_text())[language]
    out = []
    for voice in plan["voices"]:
        for question in plan["questions"]:
            for text, expected in question["say"].items():
                for noisy in (False, True):
                    line = line_for(voice, text, noisy)
                    name = hashlib.sha256(repr((language, voice, text, line)).encode()).hexdigest()[:24]
                    path = CACHE / "lines" / f"{name}.pcm"
                    meta = path.with_suffix(".yaml")
                    if not path.is_file():
                        pcm, start, end = on_line(said(text, language, voice), language, line, _seed(name))
                        path.parent.mkdir(parents=True, exist_ok=True)
                        meta.write_text(yaml.safe_dump({"start": start, "end": end}))
                        path.write_bytes(pcm)
                    times = yaml.safe_load(meta.read_text())
                    out.append(Utterance(language, tuple(question["grammar"]), text, expected, voice, line,
                                         path.read_bytes(), times["start"], times["end"]))
    return out


if __name__ == "__main__":                 # make (or check) the whole set: python bench/speech_set.py
    for split_name in SPLITS:
        for code in yaml.safe_load(SPLITS[split_name].read_text()):
            print(split_name, code, len(utterances(split_name, code)))
