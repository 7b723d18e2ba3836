"""Prints JSON: speech recognition figures per engine on the phrase set `bench/speech_phrases.yaml`,
said by our TTS voices and passed through G.711 μ-law at 8 kHz as a call carries them.

Per engine (PocketSphinx for English, Vosk with the packaged Korean model for Korean, Whisper with
the packaged base model for Russian and Ukrainian, and for English with `--engine en=whisper`): `accuracy` (the
answer expected, out-of-grammar phrases included: they must give none), `in_grammar` and
`out_of_grammar` accuracies, `rtf` (recognition time over audio time, one worker), `latency_ms` p50/p95
from the end of speech to the result (the endpointer's `end_silence` wait plus the final decoding; the
streaming work before it keeps up while rtf < 1), and `streams_per_core` (1 / rtf: recognitions one core
sustains at once). The recognizers run as the engine runs them: audio in 100 ms chunks, then finish.
`event_loop` shows recognition kept off the loop: how late a 20 ms ticker on the event loop (the media
clock's pace) fires while `streams` calls' listeners are fed a phrase each as fast as possible, against
the same ticker idle.

    .venv/bin/python bench/speech.py [--languages en ko ru uk] [--streams 8] [--engine en=whisper]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ivr.flow.events import ListenSpec  # noqa: E402
from ivr.speech.grammar import grammar_for  # noqa: E402
from ivr.speech.service import CHUNK_FRAMES, SpeechConfig, SpeechService  # noqa: E402
from ivr.speech.vad import EndpointConfig, FRAME  # noqa: E402
from tests.speech_audio import spoken  # noqa: E402

PHRASES = Path(__file__).with_name("speech_phrases.yaml")


def voice_of(spec: str) -> tuple[str, str, float]:
    """"flite/slt" or "espeak-ng/ko@0.85" → (engine, voice, rate)."""
    engine, _, rest = spec.partition("/")
    voice, _, rate = rest.partition("@")
    return engine, voice, float(rate or 1.0)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(service: SpeechService, language: str, plan: dict) -> dict:
    engine = service.engine(language)
    chunk = CHUNK_FRAMES * FRAME * 2
    results = {"in": [], "out": []}
    busy = audio_seconds = 0.0
    finishes: list[float] = []
    misses: list[dict] = []
    for voice in plan["voices"]:
        tts, name, rate = voice_of(voice)
        for question in plan["questions"]:
            grammar = grammar_for(ListenSpec(grammar=question["grammar"]), language)
            for text, expected in question["say"].items():
                pcm = spoken(text, language, rate=rate, voice=name, engine=tts)
                started = time.perf_counter()
                recognizer = engine.recognizer(grammar)
                for i in range(0, len(pcm), chunk):
                    recognizer.accept(pcm[i:i + chunk])
                before_finish = time.perf_counter()
                result = recognizer.finish()
                done = time.perf_counter()
                finishes.append(done - before_finish)
                busy += done - started
                audio_seconds += len(pcm) / 16000
                ok = result.text == expected
                results["in" if expected else "out"].append(ok)
                if not ok:
                    misses.append({"voice": voice, "said": text, "heard": result.heard, "answer": result.text})
    end_silence = EndpointConfig().end_silence
    latencies = [end_silence + f for f in finishes]
    every = results["in"] + results["out"]
    rtf = busy / audio_seconds
    return {
        "engine": engine.name, "language": language, "phrases": len(every),
        "accuracy": round(sum(every) / len(every), 3),
        "in_grammar": round(sum(results["in"]) / len(results["in"]), 3),
        "out_of_grammar": round(sum(results["out"]) / len(results["out"]), 3) if results["out"] else None,
        "rtf": round(rtf, 4), "streams_per_core": int(1 / rtf),
        "latency_ms_p50": round(statistics.median(latencies) * 1e3), "latency_ms_p95": round(percentile(latencies, 0.95) * 1e3),
        "end_silence_s": end_silence, "audio_seconds": round(audio_seconds, 1), "misses": misses,
    }


async def ticker_lateness(until: Callable[[], bool], limit: float) -> list[float]:
    """Lateness in seconds of a 20 ms ticker on this event loop, until `until()` or `limit` seconds."""
    loop = asyncio.get_running_loop()
    late: list[float] = []
    due = loop.time()
    end = due + limit
    while due < end and not until():
        due += 0.02
        await asyncio.sleep(max(0.0, due - loop.time()))
        late.append(max(0.0, loop.time() - due))
    return late


async def event_loop_figures(service: SpeechService, language: str, plan: dict, streams: int) -> dict:
    question = plan["questions"][0]
    said = next(text for text, expected in question["say"].items() if expected)
    pcm = spoken(said, language) + b"\0" * 16000
    spec = ListenSpec(grammar=question["grammar"])
    await service.prepare([language])
    idle = await ticker_lateness(lambda: False, 1.0)
    delivered: list[float] = []
    ticking = asyncio.ensure_future(ticker_lateness(lambda: len(delivered) == streams, 30.0))
    listeners = [service.listen(spec, language, lambda r: delivered.append(time.perf_counter()))
                 for _ in range(streams)]
    started = time.perf_counter()
    for i in range(0, len(pcm), FRAME * 2):
        for listener in listeners:
            listener.feed(pcm[i:i + FRAME * 2], (i // (FRAME * 2) + 1) * 0.02)
        await asyncio.sleep(0)
    busy = await ticking
    return {"streams": streams, "results": len(delivered),
            "all_results_after_s": round(max(delivered, default=started) - started, 2),
            "tick_late_ms_p99_idle": round(percentile(idle, 0.99) * 1e3, 2),
            "tick_late_ms_p99_recognising": round(percentile(busy, 0.99) * 1e3, 2),
            "tick_late_ms_max_recognising": round(max(busy) * 1e3, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--languages", nargs="+", default=["en", "ko", "ru", "uk"])
    parser.add_argument("--streams", type=int, default=8)
    parser.add_argument("--engine", action="append", default=[], metavar="LANG=ENGINE",
                        help="hear LANG with ENGINE (pocketsphinx, whisper), as ivr serve --speech-engine")
    args = parser.parse_args()
    plans = yaml.safe_load(PHRASES.read_text())
    engines = dict(item.split("=", 1) for item in args.engine)
    service = SpeechService(SpeechConfig(workers=1, engines=engines))
    try:
        figures = [measure(service, language, plans[language]) for language in args.languages]
    finally:
        service.close()
    service = SpeechService(SpeechConfig(engines=engines))   # as the engine runs: one worker per core
    try:
        for entry in figures:
            entry["event_loop"] = asyncio.run(event_loop_figures(service, entry["language"], plans[entry["language"]],
                                                                 args.streams))
    finally:
        service.close()
    print(json.dumps(figures, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
