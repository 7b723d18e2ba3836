"""Prints JSON: how well spoken answers are heard, per language and recognizer, on the clean and the
noisy lines of a split (bench/speech_set.py: the held-out split by default, voices and phrases that no
test and no tuning uses), and which detector and recognizer each language should default to.

Every utterance goes through the project's own `SpeechService` as a call runs it: a listener per
answer, fed 20 ms frames stamped with the line's time (as fast as the machine goes), its endpointer
deciding when the caller started and stopped, the recognizer working on the service's workers. Per
language, recognizer and line (`clean`, `noisy`):

- `accuracy`: answers right among the in-grammar phrases; `wrong`: another answer; `nomatch`: no
  answer (nothing heard, or heard as none of the answers);
- `rejected`: off-topic phrases (in the language, looping, garbled) that gave no answer;
- `cpu_s_p50`: CPU seconds per answer (this process and the recognizer's worker processes);
- `latency_s_p50`/`p95`: from the caller's last word to the result (the endpointer's wait plus the
  recognizer's work after it);
- `vad`: speech not detected, starts before the words (on noise), end detected p50/p95 after the words.

    nice -n 15 .venv/bin/python bench/speech.py [--split heldout|tune] [--languages en ru uk]
        [--recognizers en=pocketsphinx,whisper ru=whisper,whisper-text] [--detector energy]
    nice -n 15 .venv/bin/python bench/speech.py --detectors energy webrtc silero   # endpointing only
    nice -n 15 .venv/bin/python bench/speech.py --tune ru uk en                     # Whisper's FLOOR, MARGIN and GAP
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pickle
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.speech_set import CACHE, Utterance, utterances  # noqa: E402
from ivr.flow.events import ListenSpec  # noqa: E402
from ivr.speech.grammar import grammar_for  # noqa: E402
from ivr.speech.recognizer import Result  # noqa: E402
from ivr.speech.service import SpeechConfig, SpeechService  # noqa: E402
from ivr.speech.vad import FRAME, EndpointConfig, Endpointer, SpeechEnded, SpeechStarted  # noqa: E402

DEFAULT_RECOGNIZERS = {"en": ["pocketsphinx", "whisper"], "ru": ["whisper", "whisper-text"],
                       "uk": ["whisper", "whisper-text"], "ko": ["vosk"]}
TICKS = os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


def cpu_seconds() -> float:
    """CPU time of this process and its children still running (the recognizers' worker processes)."""
    total = time.process_time()
    for task in Path("/proc/self/task").iterdir():
        for pid in (task / "children").read_text().split():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def frames_of(pcm: bytes) -> list[bytes]:
    size = FRAME * 2
    return [pcm[i:i + size] for i in range(0, len(pcm) - size + 1, size)]


async def hear(service: SpeechService, utterance: Utterance) -> dict:
    """One answer through a listener as a call feeds it."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[tuple[Result, float]] = loop.create_future()
    spec = ListenSpec(mode="speech", grammar=list(utterance.grammar))

    def deliver(result: Result) -> None:
        if not done.done():
            done.set_result((result, time.perf_counter()))
    listener = service.listen(spec, utterance.language, deliver)
    assert listener is not None
    started = ended = ended_wall = None
    cpu = cpu_seconds()
    for i, frame in enumerate(frames_of(utterance.pcm)):
        for event in listener.feed(frame, (i + 1) * FRAME / 8000):
            if isinstance(event, SpeechStarted):
                started = event.at
            elif isinstance(event, SpeechEnded):
                ended, ended_wall = event.at, time.perf_counter()
        if ended is not None:
            break
    record = {"said": utterance.text, "expected": utterance.expected, "voice": utterance.voice,
              "line": utterance.line.background, "started": started, "ended": ended}
    if ended is None:
        listener.cancel()
        return record | {"answer": "", "heard": "", "not_heard": True, "cpu": cpu_seconds() - cpu}
    result, at = await asyncio.wait_for(done, 300)
    return record | {"answer": result.text, "heard": result.heard, "confidence": result.confidence,
                     "cpu": cpu_seconds() - cpu,
                     "latency": ended - utterance.speech_end + (at - ended_wall)}


def summary(records: list[dict], utterances_: list[Utterance]) -> dict:
    topical = [r for r in records if r["expected"]]
    off = [r for r in records if not r["expected"]]
    heard = [r for r in records if "latency" in r]
    starts = [(r, u) for r, u in zip(records, utterances_) if r["started"] is not None]
    return {
        "answers": len(topical), "off_topic": len(off),
        "accuracy": round(sum(r["answer"] == r["expected"] for r in topical) / len(topical), 3),
        "wrong": round(sum(r["answer"] not in ("", r["expected"]) for r in topical) / len(topical), 3),
        "nomatch": round(sum(r["answer"] == "" for r in topical) / len(topical), 3),
        "rejected": round(sum(r["answer"] == "" for r in off) / len(off), 3) if off else None,
        "cpu_s_p50": percentile([r["cpu"] for r in heard], 0.5),
        "latency_s_p50": percentile([r["latency"] for r in heard], 0.5),
        "latency_s_p95": percentile([r["latency"] for r in heard], 0.95),
        "vad": {"not_heard": sum(r["started"] is None for r in records),
                "early_start": sum(r["started"] < u.speech_start - 0.2 for r, u in starts),
                "end_after_words_s_p50": percentile([r["ended"] - u.speech_end for r, u in starts if r["ended"]], 0.5),
                "end_after_words_s_p95": percentile([r["ended"] - u.speech_end for r, u in starts if r["ended"]], 0.95)},
    }


def measure(split: str, language: str, recognizer: str, endpoint: EndpointConfig) -> dict:
    engines = {language: recognizer} if recognizer != "vosk" else {}
    service = SpeechService(SpeechConfig(workers=1, engines=engines, endpoint=endpoint))
    every = utterances(split, language)
    try:
        asyncio.run(service.prepare([language]))
        records = [asyncio.run(hear(service, u)) for u in every]
    finally:
        service.close()
    out = {"language": language, "recognizer": recognizer, "detector": endpoint.detector}
    for name, noisy in (("clean", False), ("noisy", True)):
        pairs = [(r, u) for r, u in zip(records, every) if u.line.noisy == noisy]
        out[name] = summary([r for r, _ in pairs], [u for _, u in pairs])
    out["misses"] = [f"{r['voice']} {r['line']}: {r['said']!r} → {r['answer']!r} ({r['heard']!r})"
                     for r in records if r["answer"] != r["expected"]][:40]
    return out


def endpointing(split: str, languages: list[str], detector: str) -> dict:
    """The endpointer alone on every utterance: missed speech, starts on noise, end delays, and its
    cost on the event loop (CPU microseconds per 20 ms frame)."""
    found = {"clean": [], "noisy": []}
    busy = frames = 0
    for language in languages:
        for u in utterances(split, language):
            endpointer = Endpointer(replace(EndpointConfig(), detector=detector))
            started = ended = None
            t = time.process_time()
            for i, frame in enumerate(frames_of(u.pcm)):
                frames += 1
                for event in endpointer.feed(frame, (i + 1) * FRAME / 8000):
                    if isinstance(event, SpeechStarted):
                        started = event.at
                    elif isinstance(event, SpeechEnded):
                        ended = event.at
                if ended is not None:
                    break
            busy += time.process_time() - t
            found["noisy" if u.line.noisy else "clean"].append((u, started, ended))
    out: dict = {"detector": detector, "us_per_frame": round(busy / frames * 1e6, 1)}
    for name, rows in found.items():
        ends = [e - u.speech_end for u, s, e in rows if e is not None and s is not None and s >= u.speech_start - 0.2]
        out[name] = {"utterances": len(rows), "not_heard": sum(s is None for _, s, _ in rows),
                     "early_start": sum(s is not None and s < u.speech_start - 0.2 for u, s, _ in rows),
                     "no_end": sum(s is not None and e is None for _, s, e in rows),
                     "end_after_words_s_p50": percentile(ends, 0.5), "end_after_words_s_p95": percentile(ends, 0.95),
                     "ends_within_0.8_s": round(sum(x <= 0.8 for x in ends) / max(1, len(rows)), 3)}
    return out


def tune(languages: list[str]) -> dict:
    """Whisper's FLOOR, MARGIN and GAP on the tuning split: every answer's scores once (cached), then
    the values that reject at least 95 % of off-topic phrases in every language with the most answers
    right."""
    from ivr.speech import whisper_engine
    from ivr.speech.upsample import Upsampler
    cache = CACHE / f"scores-{whisper_engine.WINDOW}-{whisper_engine.SCORING_VERSION}-{'-'.join(languages)}.pickle"
    if cache.is_file():
        rows = pickle.loads(cache.read_bytes())
    else:
        service = SpeechService(SpeechConfig(workers=1, engines={language: "whisper" for language in languages}))
        rows = []
        try:
            for language in languages:
                engine = service.engine(language)
                for u in utterances("tune", language):
                    if not u.grammar:
                        continue
                    grammar = grammar_for(ListenSpec(grammar=list(u.grammar)), language)
                    cut = u.pcm[int((u.speech_start - 0.3) * 8000) * 2:int((u.speech_end + 0.3) * 8000) * 2]
                    scores = engine.score(language, Upsampler().process(cut), list(grammar.phrases))
                    rows.append((grammar, scores, u.expected))
        finally:
            service.close()
        cache.write_bytes(pickle.dumps(rows))
    best = None
    for floor in (-4.0, -5.0, -6.0, -7.0, -8.0, -9.0, -10.0, -12.0, -100.0):
        for margin in (0.0, 0.5, 1.0, 1.5, 2.0, 3.0):
            for gap in (2.0, 3.0, 5.0, 8.0, 100.0):
                whisper_engine.FLOOR, whisper_engine.MARGIN, whisper_engine.GAP = floor, margin, gap
                decided = [(g.language, whisper_engine.decide(g, s).text, e) for g, s, e in rows]
                answers = [text == e for _, text, e in decided if e]
                rejected = {language: [text == "" for lang, text, e in decided if not e and lang == language]
                            for language in languages}
                worst = min(sum(r) / len(r) for r in rejected.values() if r)
                point = (worst >= 0.95, sum(answers) / len(answers), worst)
                if best is None or point > best[0]:
                    best = (point, floor, margin, gap)
    assert best is not None
    by_language = {}
    whisper_engine.FLOOR, whisper_engine.MARGIN, whisper_engine.GAP = best[1], best[2], best[3]
    for language in languages:
        mine = [(g, s, e) for g, s, e in rows if g.language == language]
        by_language[language] = {
            "accuracy": round(sum(whisper_engine.decide(g, s).text == e for g, s, e in mine if e) / max(1, sum(bool(e) for *_, e in mine)), 3),
            "rejected": round(sum(whisper_engine.decide(g, s).text == "" for g, s, e in mine if not e) / max(1, sum(not e for *_, e in mine)), 3)}
    return {"tuned_on": languages, "window": whisper_engine.WINDOW, "utterances": len(rows),
            "floor": best[1], "margin": best[2], "gap": best[3], "accuracy": round(best[0][1], 3),
            "worst_rejected": round(best[0][2], 3),
            "by_language": by_language}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("heldout", "tune"), default="heldout")
    parser.add_argument("--languages", nargs="+", default=["en", "ru", "uk"])
    parser.add_argument("--recognizers", nargs="*", default=[], metavar="LANG=A,B",
                        help="recognizers to measure per language (default: " +
                        " ".join(f"{k}={','.join(v)}" for k, v in DEFAULT_RECOGNIZERS.items()) + ")")
    parser.add_argument("--detector", default=EndpointConfig().detector)
    parser.add_argument("--detectors", nargs="+", help="measure only the endpointing with these detectors")
    parser.add_argument("--tune", nargs="+", metavar="LANG", help="tune Whisper's MARGIN and GAP on these languages")
    args = parser.parse_args()
    if args.tune:
        print(json.dumps(tune(args.tune), indent=1))
        return
    if args.detectors:
        print(json.dumps([endpointing(args.split, args.languages, d) for d in args.detectors], indent=1))
        return
    chosen = {k: v.split(",") for k, v in (item.split("=", 1) for item in args.recognizers)}
    endpoint = replace(EndpointConfig(), detector=args.detector)
    figures = []
    for language in args.languages:
        for recognizer in chosen.get(language, DEFAULT_RECOGNIZERS.get(language, ["whisper"])):
            figures.append(measure(args.split, language, recognizer, endpoint))
            print(json.dumps(figures[-1], ensure_ascii=False), file=sys.stderr, flush=True)
    defaults = {}
    for language in args.languages:
        ranked = sorted((f for f in figures if f["language"] == language),
                        key=lambda f: (min(f["clean"]["rejected"] or 0, f["noisy"]["rejected"] or 0) >= 0.95,
                                       f["clean"]["accuracy"] + f["noisy"]["accuracy"]), reverse=True)
        defaults[language] = ranked[0]["recognizer"]
    print(json.dumps({"split": args.split, "figures": [{k: v for k, v in f.items() if k != "misses"} for f in figures],
                      "default_recognizer": defaults, "misses": {f"{f['language']}/{f['recognizer']}": f["misses"]
                                                                 for f in figures}},
                     ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
