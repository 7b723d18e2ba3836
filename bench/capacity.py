"""Prints JSON: how many calls `ivr serve` carries on this machine, against a minimal pyVoIP app.

Everything runs on loopback in one bounded run (about 20 minutes, 7 with --quick):

1. concurrency: N callers (SIPp) hold calls that play a 70 s prompt (bench/dialplans/prompt.yaml);
   the server's RTP goes to one kernel-timestamped receiver (bench/rtp_sink.py), which answers each
   packet with 20 ms of silence as a phone would. Once all N calls are up, the send jitter of every
   call is measured over a window: each packet's distance from the time its RTP timestamp stands
   for (RFC 3550's consecutive-packet figure is reported beside it). N doubles until a step fails
   (a failed step is tried once more), then the boundary is bisected. A step passes when the jitter
   p99 is at most 5 ms, every call was answered, stayed up, lost no packet and skipped no audio.
2. calls per second: SIPp places 1 s calls at a fixed rate; INVITE→200 setup time p50/p99 and the
   highest rate with no failed call (a 200 later than 5 s is a failure).
3. CPU and memory per call, from /proc of the server process: % of one core per call while the
   prompt plays, resident memory per call, CPU milliseconds per call placed; compared at steps both
   servers reach (25 calls, 20 calls a second).
4. DTMF: calls key in 8 random digits and # as RFC 4733 events with 5 % of the packets lost and
   5 % duplicated (seeded); the fraction of digits ivr's flow collected, read from the store, and
   the fraction the pyVoIP app's get_dtmf collected from the same packets.
5. the same 1-3 against bench/pyvoip_app.py playing the same prompt, and the ratios ivr ÷ pyVoIP.

    .venv/bin/python bench/capacity.py [--quick] [--out bench/results.json] [--no-pyvoip]
    .venv/bin/python bench/capacity.py --hold 300 [--profile prof.txt]     # one step, optionally profiled
    .venv/bin/python bench/capacity.py --rate 100 [--profile prof.txt]
    .venv/bin/python bench/capacity.py --keys 40
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import difflib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Callable

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))    # this checkout's ivr, not an installed one

from dtmf_delivery import open_phones
from rtp_sink import RtpSink, jitter, percentile
from servers import BENCH, PROMPT_CACHE, Server, Sipp, machine, start_ivr, start_pyvoip

JITTER_LIMIT_MS = 5.0
HOLD = BENCH / "sipp" / "uac_hold.xml"
KEYS = BENCH / "sipp" / "uac_keys.xml"
ANSWER_SLACK = 1.5            # s: pyVoIP rings 1 s before answering
FIRST_CALLS, FIRST_RATE = 25, 10
COMPARE_CALLS, COMPARE_RATE = 25, 20     # steps both servers always get to


class Budget:
    """The run's time limit: searches stop starting new steps when it is spent."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def left(self) -> float:
        return self.deadline - time.monotonic()


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- 1. concurrent calls -----------------------------------------------------------------------------

def hold_step(server: Server, sipp: Sipp, sink: RtpSink, calls: int, measure: float,
              profile: Path | None = None) -> dict:
    """N calls playing the prompt together; jitter, CPU and memory over a window once all are up."""
    rate = max(10, min(50, calls // 4))
    ramp = calls / rate + ANSWER_SLACK
    settle = 2.0
    hold_ms = int((ramp + settle + measure + 3.0) * 1000)
    sink.take()
    drops_before = sink.drops
    before = server.usage()
    started = time.time()
    proc = sipp.start(server.target, HOLD, service="9001", calls=calls, limit=calls, rate=rate, hold_ms=hold_ms,
                      keys={"rtpsink": str(sink.port)}, timeout=hold_ms / 1000 + 60)
    time.sleep(max(0.0, started + ramp + settle - time.time()))
    window_start, first, clock_before = time.time(), server.usage(), server.metrics()
    spy = py_spy(server, measure, profile)
    time.sleep(measure)
    window_end, second, clock_after = time.time(), server.usage(), server.metrics()
    if spy is not None:
        spy.wait(timeout=120)
    run = sipp.finish(proc)
    streams = sink.take()
    figures = jitter(streams, window_start, window_end)
    up = sum(1 for s in streams.values() if s.arrivals and s.arrivals[0][0] <= window_start
             and s.arrivals[-1][0] >= window_end)
    window = window_end - window_start
    problems = []
    if run.successful != calls or run.failed:
        problems.append(f"SIPp: {run.successful} of {calls} calls completed, {run.failed} failed")
    if up != calls:
        problems.append(f"{up} of {calls} calls were sending during the whole window")
    if figures.lost:
        problems.append(f"{figures.lost} packets missing")
    if figures.skipped_ms:
        problems.append(f"{figures.skipped_ms} ms of audio skipped")
    if not figures.schedule_p99_ms <= JITTER_LIMIT_MS:
        problems.append(f"jitter p99 {figures.schedule_p99_ms} ms")
    result = {
        "calls": calls, "passed": not problems, "problems": problems,
        "jitter": asdict(figures), "window_seconds": round(window, 1), "call_rate": rate,
        "cpu_percent_per_call": round(100 * (second.cpu_seconds - first.cpu_seconds) / window / calls, 3),
        "cpu_percent_total": round(100 * (second.cpu_seconds - first.cpu_seconds) / window, 1),
        "rss_kib_per_call": round((first.rss_bytes - before.rss_bytes) / 1024 / calls, 1),
        "rss_mib": round(first.rss_bytes / 2**20, 1),
        "runqueue_wait_ms": round(1000 * (second.runqueue_wait - first.runqueue_wait)),
        "receiver_drops": sink.drops - drops_before,
    }
    for name in ("clock_late_ticks", "clock_dropped_ticks"):
        if f"ivr_media_{name}" in clock_after:
            result[name] = int(clock_after[f"ivr_media_{name}"] - clock_before[f"ivr_media_{name}"])
    log(f"{server.name} hold {calls}: {'pass' if not problems else 'FAIL ' + '; '.join(problems)}; "
        f"jitter p50/p99/max {figures.schedule_p50_ms}/{figures.schedule_p99_ms}/{figures.schedule_max_ms} ms "
        f"(interval p99 {figures.interval_p99_ms}), "
        f"cpu {result['cpu_percent_total']} %")
    time.sleep(3.0)                                          # let the server tidy up the calls
    return result


class Subject:
    """The server under test; started afresh after a failed step, so that a server left wedged by an
    overload does not fail the steps after it."""

    def __init__(self, start: Callable[[], Server]) -> None:
        self._start = start
        self.server = start()

    def restart(self) -> None:
        self.server.stop()
        self.server = self._start()


def py_spy(server: Server, seconds: float, out: Path | None) -> subprocess.Popen | None:
    """Start sampling the server with py-spy for `seconds` into `out` (collapsed stacks), when asked."""
    if out is None:
        return None
    return subprocess.Popen([str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(server.proc.pid),
                             "--duration", str(int(seconds)), "--rate", "100", "--format", "raw", "--nonblocking",
                             "-o", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def search(step, start: int, limit: int, budget: Budget, step_seconds, refine: int, after_failure,
           retries: int = 0) -> dict:
    """Double from `start` until a step fails (or `limit`), then bisect `refine` times. A failed step is
    tried again `retries` times (a one-off stall of a shared machine should not decide the figure);
    every attempt is kept in `steps`."""
    steps: list[dict] = []

    def attempt(n: int) -> bool:
        for retry in range(retries + 1):
            result = step(n)
            result["attempt"] = retry + 1
            steps.append(result)
            if result["passed"]:
                return True
            after_failure()
        return False

    passed, failed = 0, None
    n = start
    while n <= limit and budget.left() > step_seconds(n):
        if not attempt(n):
            failed = n
            break
        passed = n
        n *= 2
    for _ in range(refine):
        if failed is None or failed - passed <= max(2, passed // 10):
            break
        n = (passed + failed) // 2
        if budget.left() <= step_seconds(n):
            break
        if attempt(n):
            passed = n
        else:
            failed = n
    return {"max": passed, "first_failure": failed,
            "steps": sorted(steps, key=lambda s: (s.get("calls") if "rate" not in s else s["rate"], s["attempt"]))}


# -- 2. calls per second -----------------------------------------------------------------------------

def rate_step(server: Server, sipp: Sipp, sink: RtpSink, rate: int, seconds: float,
              profile: Path | None = None) -> dict:
    """`rate` calls a second for `seconds`, each on the line for 1 s."""
    calls = int(rate * seconds)
    before = server.usage()
    proc = sipp.start(server.target, HOLD, service="9001", calls=calls, limit=max(20, rate * 10), rate=rate,
                      hold_ms=1000, keys={"rtpsink": str(sink.port)}, timeout=seconds + 60)
    spy = py_spy(server, seconds, profile)
    run = sipp.finish(proc)
    after = server.usage()
    if spy is not None:
        spy.wait(timeout=120)
    sink.take()
    passed = run.successful == calls and not run.failed
    setup = sorted(run.setup_ms)
    result = {
        "rate": rate, "calls": calls, "passed": passed, "successful": run.successful, "failed": run.failed,
        "setup_ms_p50": percentile(setup, 0.5), "setup_ms_p99": percentile(setup, 0.99),
        "seconds": round(run.elapsed, 1),
        "cpu_ms_per_call": round(1000 * (after.cpu_seconds - before.cpu_seconds) / max(1, run.successful), 2),
    }
    log(f"{server.name} {rate} calls/s: {'pass' if passed else 'FAIL'} {run.successful}/{calls}, "
        f"setup p50/p99 {result['setup_ms_p50']}/{result['setup_ms_p99']} ms")
    time.sleep(3.0)
    return result


# -- 4. keys under loss ------------------------------------------------------------------------------

async def _key_calls(server: Server, sipp: Sipp, workdir: Path, calls: int, digits: int, loss: float,
                     duplicate: float, seed: int) -> list:
    keyed, ports, transports = await open_phones(calls, digits, loss, duplicate, seed)
    injection = workdir / "ports.csv"
    injection.write_text("SEQUENTIAL\n" + "".join(f"{port};\n" for port in ports))
    proc = sipp.start(server.target, KEYS, service="9002", calls=calls, limit=10, rate=5, hold_ms=0,
                      timeout=calls + 120, extra=("-inf", str(injection)))
    run = await asyncio.get_running_loop().run_in_executor(None, sipp.finish, proc)
    for transport in transports:
        transport.close()
    return [keyed, run]


def stored_keys(db_path: Path) -> dict[str, str]:
    """What the benchmark campaign stored: each caller's keys (read once the engine has stopped)."""
    with sqlite3.connect(db_path) as db:
        return dict(db.execute("SELECT caller, value FROM outcomes WHERE campaign_id = 'bench-dtmf' "
                               "AND name = 'entered'").fetchall())


def collected_keys(path: Path) -> dict[str, str]:
    """What the pyVoIP app collected: its "caller keys" lines."""
    lines = path.read_text().splitlines() if path.exists() else []
    return {caller: keys for caller, _, keys in (line.partition(" ") for line in lines)}


def dtmf_delivery(server: Server, sipp: Sipp, workdir: Path, collected: Callable[[], dict[str, str]], calls: int,
                  digits: int = 8, loss: float = 0.05, duplicate: float = 0.05, seed: int = 4733) -> dict:
    """Key calls, then stop `server` and compare what it `collected` (caller -> keys) with what was keyed."""
    keyed, run = asyncio.run(_key_calls(server, sipp, workdir, calls, digits, loss, duplicate, seed))
    server.stop()
    got_by_caller = collected()
    correct = extra = exact = 0
    for n, call in enumerate(keyed, start=1):
        got = got_by_caller.get(f"+1555{n}", "")
        matched = sum(b.size for b in difflib.SequenceMatcher(None, call.digits, got).get_matching_blocks())
        correct += matched
        extra += len(got) - matched
        exact += got == call.digits
    sent = digits * calls
    result = {
        "calls": calls, "calls_completed": run.successful, "digits_sent": sent, "loss": loss, "duplication": duplicate,
        "seed": seed, "packets_sent": sum(c.sent for c in keyed), "packets_dropped": sum(c.dropped for c in keyed),
        "packets_duplicated": sum(c.duplicated for c in keyed),
        "digits_correct_fraction": round(correct / sent, 4), "extra_digits": extra,
        "calls_exact_fraction": round(exact / calls, 4),
    }
    log(f"dtmf ({server.name}): {correct}/{sent} digits correct, {exact}/{calls} calls exact, {extra} extra, "
        f"{run.successful}/{calls} calls completed")
    return result


# -- the run -------------------------------------------------------------------------------------------

def prompt_audio(workdir: Path) -> Path:
    """The benchmark prompt's audio from the cache the engine filled at start, for the pyVoIP app."""
    from ivr.media.prompt_cache import PromptCache, PromptRequest

    text = yaml.safe_load((BENCH / "dialplans" / "prompt.yaml").read_text())["nodes"]["play"]["text"]
    pcm = PromptCache(PROMPT_CACHE).get_or_none(PromptRequest(text=text, language="en"))
    if pcm is None:
        raise RuntimeError("the benchmark prompt is not in the cache: the engine should have made it")
    path = workdir / "prompt.pcm"
    path.write_bytes(pcm)
    return path


def measure(subject: Subject, sipp: Sipp, sink: RtpSink, quick: bool, seconds: float) -> dict:
    """Concurrency then calls per second, each search within its share of `seconds`."""
    measure_window = 4.0 if quick else 10.0
    hold_step(subject.server, sipp, sink, 10, 2.0)          # warm-up, not counted: first calls, caches, imports
    concurrency = search(lambda n: hold_step(subject.server, sipp, sink, n, measure_window), FIRST_CALLS, 3000,
                         Budget(0.65 * seconds), lambda n: n / 40 + measure_window + 15, 1 if quick else 3,
                         subject.restart, retries=1)
    rates = search(lambda r: rate_step(subject.server, sipp, sink, r, 4.0 if quick else 8.0), FIRST_RATE, 640,
                   Budget(0.35 * seconds), lambda r: 25, 1 if quick else 2, subject.restart)
    return {"concurrency": concurrency, "calls_per_second": rates}


def summary(figures: dict) -> dict:
    """The headline figures of one server. Costs per call are taken where both servers are always
    measured (the first steps: 25 calls, 20 calls a second), so that the two compare."""
    holds, rates = figures["concurrency"]["steps"], figures["calls_per_second"]["steps"]
    best = next((s for s in reversed(holds) if s["passed"]), None)
    fastest = next((s for s in reversed(rates) if s["passed"]), None)
    at_calls = next((s for s in holds if s["calls"] == COMPARE_CALLS), None)
    at_rate = next((s for s in rates if s["rate"] == COMPARE_RATE), None)
    return {
        "max_concurrent_calls": figures["concurrency"]["max"],
        "jitter_p99_ms_at_max": best["jitter"]["schedule_p99_ms"] if best else None,
        "cpu_percent_per_call_at_max": best["cpu_percent_per_call"] if best else None,
        f"jitter_p99_ms_at_{COMPARE_CALLS}_calls": at_calls["jitter"]["schedule_p99_ms"] if at_calls else None,
        f"cpu_percent_per_call_at_{COMPARE_CALLS}_calls": at_calls["cpu_percent_per_call"] if at_calls else None,
        f"rss_kib_per_call_at_{COMPARE_CALLS}_calls": at_calls["rss_kib_per_call"] if at_calls else None,
        "max_calls_per_second": figures["calls_per_second"]["max"],
        "setup_ms_p50_at_max": fastest["setup_ms_p50"] if fastest else None,
        "setup_ms_p99_at_max": fastest["setup_ms_p99"] if fastest else None,
        f"cpu_ms_per_call_at_{COMPARE_RATE}_per_second": at_rate["cpu_ms_per_call"] if at_rate else None,
    }


def ratios(ivr: dict, other: dict) -> dict:
    """ivr ÷ pyVoIP for each headline figure both have (more calls: better; more CPU or memory: worse)."""
    return {name: round(ivr[name] / other[name], 2) if ivr.get(name) and other.get(name) else None
            for name in ("max_concurrent_calls", "max_calls_per_second", f"cpu_percent_per_call_at_{COMPARE_CALLS}_calls",
                         f"rss_kib_per_call_at_{COMPARE_CALLS}_calls", f"cpu_ms_per_call_at_{COMPARE_RATE}_per_second")}


def top_functions(raw_profile: Path, count: int = 25) -> list[dict]:
    """Where the samples of a py-spy raw (collapsed stacks) profile end: self time per function."""
    own: Counter[str] = Counter()
    total = 0
    for line in raw_profile.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        if not samples.isdigit():
            continue
        total += int(samples)
        own[stack.split(";")[-1]] += int(samples)
    return [{"function": name, "percent": round(100 * n / total, 1)} for name, n in own.most_common(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="shorter windows, fewer steps (about 7 minutes)")
    parser.add_argument("--out", type=Path, help="also write the JSON here (e.g. bench/results.json)")
    parser.add_argument("--no-pyvoip", action="store_true", help="measure ivr only")
    parser.add_argument("--hold", type=int, metavar="N", help="only one concurrency step of N calls against ivr")
    parser.add_argument("--rate", type=int, metavar="R", help="only one calls-per-second step at R against ivr")
    parser.add_argument("--workdir", type=Path, help="keep the logs, store and SIPp files here (default: a temporary folder)")
    parser.add_argument("--keys", type=int, metavar="N", help="only the DTMF test (both servers), with N calls")
    parser.add_argument("--profile", type=Path, help="with --hold or --rate: py-spy profile of the engine (raw)")
    args = parser.parse_args()
    seconds = 200 if args.quick else 900                    # for ivr; then about 1 min of keys, and pyVoIP's own
    started = time.monotonic()
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
    with (contextlib.nullcontext(str(args.workdir)) if args.workdir
          else tempfile.TemporaryDirectory(prefix="ivr-bench-")) as tmp:
        workdir = Path(tmp)
        sink = RtpSink()
        sipp = Sipp(workdir)
        db_path = workdir / "ivr.db"
        log("starting ivr serve (the first run makes the prompts)")
        ivr = Subject(lambda: start_ivr(workdir, f"sqlite:///{db_path}"))
        results: dict = {"bench": "capacity", "mode": "quick" if args.quick else "full", "machine": machine(),
                         "criteria": {"jitter_p99_ms": JITTER_LIMIT_MS, "setup_timeout_ms": 5000}}
        key_calls = args.keys or (10 if args.quick else 40)
        try:
            if args.hold or args.rate:
                if args.hold:
                    results["hold"] = hold_step(ivr.server, sipp, sink, args.hold, 10.0, args.profile)
                else:
                    results["rate"] = rate_step(ivr.server, sipp, sink, args.rate, 8.0, args.profile)
                if args.profile:
                    results["profile"] = top_functions(args.profile)
            else:
                if not args.keys:
                    ivr_figures = measure(ivr, sipp, sink, args.quick, seconds)
                    results["ivr"] = {"summary": summary(ivr_figures), **ivr_figures}
                    ivr.restart()                            # keys on a fresh node, not one the last step overloaded
                results.setdefault("ivr", {})["dtmf"] = dtmf_delivery(ivr.server, sipp, workdir,
                                                                      lambda: stored_keys(db_path), key_calls)
        finally:
            ivr.server.stop()
        if not (args.hold or args.rate or args.no_pyvoip):
            log("starting the pyVoIP app")
            prompt = prompt_audio(workdir)
            if not args.keys:
                pyvoip = Subject(lambda: start_pyvoip(workdir, prompt, sipp.port))
                try:
                    pyvoip_figures = measure(pyvoip, sipp, sink, args.quick, 150 if args.quick else 480)
                finally:
                    pyvoip.server.stop()
                results["pyvoip"] = {"summary": summary(pyvoip_figures), **pyvoip_figures}
                results["ivr_over_pyvoip"] = ratios(results["ivr"]["summary"], results["pyvoip"]["summary"])
            keys_out = workdir / "pyvoip_keys.txt"
            collector = start_pyvoip(workdir, prompt, sipp.port, keys_out=keys_out)
            try:
                keys = dtmf_delivery(collector, sipp, workdir, lambda: collected_keys(keys_out), key_calls)
            finally:
                collector.stop()
            results.setdefault("pyvoip", {})["dtmf"] = keys
            ivr_keys = results["ivr"]["dtmf"]["digits_correct_fraction"]
            results.setdefault("ivr_over_pyvoip", {})["dtmf_digits_correct_fraction"] = (
                round(ivr_keys / keys["digits_correct_fraction"], 2) if keys["digits_correct_fraction"] else None)
        sink.close()
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["seconds"] = round(time.monotonic() - started)
    text = json.dumps(results, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
