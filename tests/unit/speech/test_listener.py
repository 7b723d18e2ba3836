"""The speech listener a call feeds on the event loop: endpointing there, recognition on workers, the
result handed back on the loop; cancelled listeners deliver nothing."""

from __future__ import annotations

import asyncio
import threading

import pytest

from ivr.flow.interpreter import ListenSpec
from ivr.speech.recognizer import Result
from ivr.speech.service import SpeechConfig, SpeechService
from ivr.speech.vad import SpeechEnded, SpeechStarted
from tests.speech_audio import frames, silence, spoken

SPEC = ListenSpec(mode="both", grammar=["yes", "no"], end_silence=0.5)


@pytest.fixture(scope="module")
def service():
    service = SpeechService(SpeechConfig(workers=2))
    yield service
    service.close()


async def say(service: SpeechService, spec: ListenSpec, pcm: bytes, language: str = "en",
              cancel_after: int | None = None) -> tuple[list[Result], list, float]:
    """Feed 20 ms frames at a fake 20 ms pace; returns the delivered results, the VAD events and the time
    the event loop was held at most by one feed."""
    loop = asyncio.get_running_loop()
    results: list[Result] = []
    delivered = asyncio.Event()

    def deliver(result: Result) -> None:
        assert threading.current_thread() is threading.main_thread()
        results.append(result)
        delivered.set()
    listener = service.listen(spec, language, deliver)
    assert listener is not None
    events, held = [], 0.0
    for i, frame in enumerate(frames(pcm)):
        if cancel_after is not None and i == cancel_after:
            listener.cancel()
        start = loop.time()
        events += listener.feed(frame, (i + 1) * 0.02)
        held = max(held, loop.time() - start)
        await asyncio.sleep(0)
    try:
        await asyncio.wait_for(delivered.wait(), 20 if cancel_after is None else 3)
    except asyncio.TimeoutError:
        pass
    return results, events, held


def test_an_answer_comes_back_on_the_loop(service: SpeechService) -> None:
    pcm = silence(0.4) + spoken("yes", "en") + silence(1.0)
    results, events, held = asyncio.run(say(service, SPEC, pcm))
    assert [r.text for r in results] == ["yes"]
    assert [type(e) for e in events] == [SpeechStarted, SpeechEnded]
    assert held < 0.25                       # endpointing only: the recognizer (0.6 s or more) works elsewhere


def test_phone_going_quiet_ends_the_answer_on_the_clock(service: SpeechService) -> None:
    async def scenario() -> list[Result]:
        results: list[Result] = []
        listener = service.listen(SPEC, "en", results.append)
        for i, frame in enumerate(frames(silence(0.4) + spoken("no", "en"))):
            listener.feed(frame, (i + 1) * 0.02)
        listener.poll(60.0)                  # no packets since: silence suppression
        for _ in range(200):
            if results:
                break
            await asyncio.sleep(0.05)
        return results
    assert [r.text for r in asyncio.run(scenario())] == ["no"]


def test_cancelled_listener_delivers_nothing_and_other_languages_have_none(service: SpeechService) -> None:
    pcm = silence(0.4) + spoken("yes", "en") + silence(1.0)
    results, _, _ = asyncio.run(say(service, SPEC, pcm, cancel_after=40))
    assert results == []
    assert service.listen(SPEC, "tlh", print, loop=asyncio.new_event_loop()) is None


def test_broken_vosk_model_means_no_speech_not_a_crash(tmp_path) -> None:
    (tmp_path / "am").mkdir()
    (tmp_path / "am" / "final.mdl").write_bytes(b"not a model")
    broken = SpeechService(SpeechConfig(vosk_models={"en": tmp_path}, workers=1))
    try:
        asyncio.run(broken.prepare(["en"]))
        assert not broken.available("en")
    finally:
        broken.close()
