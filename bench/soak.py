"""Soak: steady SIPp load on one engine for a long time; prints JSON with the engine's memory (RSS) and
open file descriptors before the load, after a warm-up and at the end (the calls over), with the call
counts. Exits 1 when RSS grew from warm-up to end, or descriptors from before the load to the end
(both idle), beyond the thresholds, or when more than 1% of the calls failed.

Calls are the vote line's (3838): press 1 after 2.5 s, the engine says thank you and hangs up; each call
has its own caller number. The engine runs with its defaults (abuse limits included) on loopback, with
a scratch SQLite store.

    .venv/bin/python bench/soak.py [--duration 600] [--rate 5] [--max-rss-growth-mb 32] [--max-fd-growth 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "tests" / "integration" / "sipp" / "uac_dtmf_wait_bye.xml"
CALL_SECONDS = 6                 # one call: answer, 2.5 s, the key, the thank-you prompt, BYE


def free_port(kinds: tuple[int, ...] = (socket.SOCK_STREAM, socket.SOCK_DGRAM)) -> int:
    """A port free on 127.0.0.1 for every socket kind asked."""
    while True:
        with socket.socket(socket.AF_INET, kinds[0]) as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            try:
                for kind in kinds[1:]:
                    with socket.socket(socket.AF_INET, kind) as other:
                        other.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def sample(pid: int) -> dict[str, int]:
    """The process's resident memory (kB) and open file descriptors, from /proc."""
    status = Path(f"/proc/{pid}/status").read_text()
    rss = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return {"rss_kb": rss, "fds": len(os.listdir(f"/proc/{pid}/fd"))}


def http_get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except OSError:
        return 0, ""


def active_calls(port: int) -> int | None:
    status, text = http_get(port, "/metrics")
    for line in text.splitlines():
        if status == 200 and line.startswith("ivr_active_calls "):
            return int(float(line.split()[1]))
    return None


def start_engine(work: Path) -> tuple[subprocess.Popen, int, int]:
    sip, http = free_port(), free_port((socket.SOCK_STREAM,))
    low = 20000 + sip % 100 * 400
    log = open(work / "engine.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ivr.cli", "serve", "--sip", f"127.0.0.1:{sip}", "--http", f"127.0.0.1:{http}",
         "--db", f"sqlite:///{work / 'ivr.db'}", "--data", str(work / "var"), "--dialplans", str(ROOT / "dialplans"),
         "--prompts", str(ROOT / "prompts" / "cache"), "--rtp-ports", f"{low}-{low + 398}", "--log-level", "WARNING"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while http_get(http, "/health")[0] != 200:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(f"engine did not start:\n{(work / 'engine.log').read_text()[-3000:]}")
        time.sleep(0.2)
    return proc, sip, http


def run_sipp(sip_port: int, work: Path, rate: float, calls: int, seconds: float) -> subprocess.Popen:
    sipp = shutil.which("sipp")
    if sipp is None:
        raise SystemExit("SIPp is not installed (Debian package sip-tester): run scripts/bootstrap")
    return subprocess.Popen(
        [sipp, f"127.0.0.1:{sip_port}", "-sf", str(SCENARIO), "-s", "3838", "-i", "127.0.0.1",
         "-p", str(free_port()), "-mp", str(free_port()), "-r", str(rate), "-m", str(calls),
         "-l", str(int(rate * CALL_SECONDS * 3) + 5), "-timeout", f"{int(seconds)}s", "-recv_timeout", "40000",
         "-nostdin", "-trace_stat", "-fd", "5", "-stf", str(work / "stats.csv")],
        cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def sipp_counts(work: Path) -> dict[str, int]:
    rows = (work / "stats.csv").read_text().strip().splitlines() if (work / "stats.csv").exists() else []
    if len(rows) < 2:
        return {"successful": 0, "failed": 0}
    values = dict(zip(rows[0].split(";"), rows[-1].split(";")))
    return {"successful": int(values.get("SuccessfulCall(C)") or 0), "failed": int(values.get("FailedCall(C)") or 0)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of steady load")
    parser.add_argument("--rate", type=float, default=5.0, help="new calls per second")
    parser.add_argument("--warmup", type=float, help="seconds of load before the start sample (default: 10%%)")
    parser.add_argument("--max-rss-growth-mb", type=float, default=32.0)
    parser.add_argument("--max-fd-growth", type=int, default=5)
    args = parser.parse_args()
    warmup = args.warmup if args.warmup is not None else max(10.0, args.duration / 10)
    with tempfile.TemporaryDirectory(prefix="ivr-soak-") as tmp:
        work = Path(tmp)
        engine, sip, http = start_engine(work)
        try:
            ready = sample(engine.pid)
            calls = int(args.rate * args.duration)
            sipp = run_sipp(sip, work, args.rate, calls, args.duration + 120)
            time.sleep(warmup)
            start = sample(engine.pid)
            peak = dict(start)
            while sipp.poll() is None:
                time.sleep(5)
                now = sample(engine.pid)
                peak = {k: max(peak[k], now[k]) for k in peak}
            deadline = time.monotonic() + 60
            while active_calls(http) != 0 and time.monotonic() < deadline:
                time.sleep(1)
            time.sleep(2)                        # the store writer's last batch
            end = sample(engine.pid)
        finally:
            engine.terminate()
            try:
                engine.wait(30)
            except subprocess.TimeoutExpired:
                engine.kill()
        counts = sipp_counts(work)
    growth = {"rss_kb": end["rss_kb"] - start["rss_kb"], "fds": end["fds"] - ready["fds"]}
    ok = (growth["rss_kb"] <= args.max_rss_growth_mb * 1024 and growth["fds"] <= args.max_fd_growth
          and counts["successful"] > 0 and counts["failed"] <= calls // 100)
    print(json.dumps({"duration_s": args.duration, "rate_cps": args.rate, "warmup_s": warmup,
                      "calls": {"planned": calls, **counts}, "ready": ready, "start": start, "peak": peak, "end": end,
                      "growth": growth, "thresholds": {"rss_kb": int(args.max_rss_growth_mb * 1024),
                                                       "fds": args.max_fd_growth}, "ok": ok}, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
