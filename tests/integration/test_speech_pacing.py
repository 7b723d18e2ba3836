"""Recognition never holds up the event loop: while several callers' answers are recognised at once
(Whisper and PocketSphinx, the engines that keep a core busy), a 20 ms ticker on the loop, standing
for the media clock, keeps its pace. Were an engine to decode on the loop, a tick would wait for a
whole decode (hundreds of milliseconds)."""

from __future__ import annotations

import asyncio
import time

import pytest

from ivr.flow.events import ListenSpec
from ivr.speech.recognizer import Result
from ivr.speech.service import SpeechConfig, SpeechService
from tests.speech_audio import frames, silence, spoken

pytestmark = pytest.mark.integration

ANSWERS = [("ru", ["кофе", "чай", "молоко"], "молоко"), ("en", ["anna", "boris", "chloe"], "chloe")]
CALLERS = 4                      # per language, all at once: Russian heard by Whisper, English by PocketSphinx


def test_the_loop_keeps_its_20_ms_pace_while_answers_are_recognised(tmp_path) -> None:
    service = SpeechService(SpeechConfig(workers=2, model_cache=tmp_path / "models", engines={"en": "pocketsphinx"}))
    audio = {language: silence(0.5) + spoken(word, language) + silence(1.0) for language, _, word in ANSWERS}

    async def run() -> tuple[list[float], list[tuple[str, Result]]]:
        await service.prepare([language for language, _, _ in ANSWERS])   # models loaded before the clock runs
        loop = asyncio.get_running_loop()
        results: list[tuple[str, Result]] = []
        done = asyncio.Event()
        late: list[float] = []
        listeners = []
        for language, words, expected in ANSWERS * CALLERS:
            def deliver(result: Result, expected: str = expected) -> None:
                results.append((expected, result))
                if len(results) == len(ANSWERS) * CALLERS:
                    done.set()
            listeners.append((service.listen(ListenSpec(mode="speech", grammar=words), language, deliver),
                              frames(audio[language])))
        start = time.monotonic()
        tick = 0
        finished = None                                  # ticks go on for a second after the last answer
        while (finished is None or time.monotonic() - finished < 1.0) and time.monotonic() - start < 60:
            if finished is None and done.is_set():
                finished = time.monotonic()
            tick += 1
            due = start + tick * 0.020
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            late.append(time.monotonic() - due)
            for listener, pending in listeners:          # each caller's next frame, as RTP brings it
                if pending:
                    listener.feed(pending.pop(0), loop.time())
                else:
                    listener.poll(loop.time())
        return late, results

    try:
        late, results = asyncio.run(run())
    finally:
        service.close()
    assert len(results) == len(ANSWERS) * CALLERS, "every answer should come back"
    assert all(result.text == expected for expected, result in results), results
    late.sort()
    p99 = late[int(0.99 * (len(late) - 1))]
    assert p99 < 0.040, f"ticks p99 {p99 * 1000:.1f} ms late (worst {late[-1] * 1000:.1f} ms) while recognising"
