"""Both engines on a caller's speech (our TTS through μ-law at 8 kHz): PocketSphinx, English without
the whisper extra (and a choice with it), on the vote demo; Vosk with the packaged Korean model on the Korean test line (Whisper,
for Russian and Ukrainian, is heard over SIP calls in tests/integration/test_speech_calls.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ivr.flow.interpreter import FlowSession, Listen, ListenSpec
from ivr.flow.loader import load_file
from ivr.speech.grammar import grammar_for
from ivr.speech.recognizer import Result
from ivr.speech.service import SpeechConfig, SpeechService
from tests.speech_audio import frames, silence, spoken

ROOT = Path(__file__).resolve().parents[3]
VOTE = ROOT / "dialplans" / "vote.yaml"
KOREAN = ROOT / "tests" / "dialplans" / "ko-fruit.yaml"


def first_listen(path: Path) -> tuple[ListenSpec, str]:
    """The first question of a campaign as the interpreter asks it, and the campaign's language."""
    campaign = load_file(path)
    session = FlowSession(campaign, "voice", "+15550001")
    return next(a.spec for a in session.start() if isinstance(a, Listen)), session.language



@pytest.fixture(scope="module")
def service():
    service = SpeechService(SpeechConfig(workers=2, engines={"en": "pocketsphinx"}))
    yield service
    service.close()


def recognize(service: SpeechService, spec: ListenSpec, language: str, pcm: bytes) -> Result:
    recognizer = service.engine(language).recognizer(grammar_for(spec, language))
    for frame in frames(pcm):
        recognizer.accept(frame)
    return recognizer.finish()


def test_engines_by_language(service: SpeechService) -> None:
    assert service.source("en") == ("pocketsphinx", None)              # chosen for these tests
    default = SpeechService(SpeechConfig(workers=1))
    assert default.source("en") == ("whisper", None)                   # the default when Whisper is installed
    default.close()
    assert service.source("ko")[0] == "vosk"
    assert service.source("uk") == service.source("ru-RU") == ("whisper", None)
    assert service.source("tlh") is None and not service.available("tlh")      # Klingon: nothing hears it
    configured = SpeechService(SpeechConfig(vosk_models={"*": Path("/models/en")}, engines={"ru": "whisper"},
                                            workers=1))
    assert configured.source("en") == ("vosk", Path("/models/en"))
    assert configured.source("ru") == ("whisper", None)                     # chosen beats the Vosk model for all
    configured.close()


@pytest.mark.parametrize("path", [VOTE, KOREAN], ids=["pocketsphinx-en", "vosk-ko"])
def test_every_choice_of_the_question_is_recognised(service: SpeechService, path: Path) -> None:
    spec, language = first_listen(path)
    assert spec.mode == "both" and spec.grammar
    heard = {word: recognize(service, spec, language, spoken(word, language)) for word in spec.grammar}
    wrong = {word: r for word, r in heard.items() if r.text != word}
    assert not wrong, wrong
    assert all(0.5 <= r.confidence <= 1.0 for r in heard.values())


@pytest.mark.parametrize("language,phrases", [
    ("en", ["what is the weather like today", "hello"]),
    ("ko", ["안녕하세요 반갑습니다", "저는 학생입니다"]),
], ids=["pocketsphinx-en", "vosk-ko"])
def test_out_of_grammar_speech_and_silence_give_no_answer(service: SpeechService, language: str,
                                                           phrases: list[str]) -> None:
    spec, _ = first_listen(VOTE if language == "en" else KOREAN)
    for phrase in phrases:
        result = recognize(service, spec, language, spoken(phrase, language))
        assert result.text == "" and result.confidence == 0.0, (phrase, result)
    assert recognize(service, spec, language, silence(1.0)).text == ""


def test_free_input_hears_spoken_digits(service: SpeechService) -> None:
    result = recognize(service, ListenSpec(mode="speech"), "en", spoken("four two seven", "en"))
    assert result.text == "427", result


def test_words_a_model_cannot_hear_are_named(service: SpeechService) -> None:
    async def check() -> tuple[list[str], list[str], list[str]]:
        return (await service.unknown_words("en", ["Anna", "Zxqvb Smith", "order status"]),
                await service.unknown_words("ko", ["바나나", "쿼크쿼크"]),
                await service.unknown_words("uk", ["так"]))
    assert asyncio.run(check()) == (["zxqvb"], ["쿼크쿼크"], [])
