"""Prints JSON: the highest steady rate of outbound calls one `ivr serve` node places here with no failed
call, beside SIPp placing the same calls itself (SIPp UAC -> SIPp UAS) as the reference.

On loopback, bounded (about 5 minutes): a SIPp phone (bench/sipp/uas_answer.xml) answers every call at once
and logs each INVITE on its own clock; the caller hangs up about a second later (ivr: its flow plays
"Hello." and ends; SIPp: -d 1000). For each rate R of RATES, `--seconds` worth of calls are placed:

* ivr: an outbound campaign of R*seconds numbers at rate R (API: create, CSV audience, start), through
  `--outbound-trunk` pointed at the phone; the step passes when every number's result is "completed" and
  the phone got every INVITE at a pace of at least 90 % of R (SIPp's clock, first to last INVITE).
* SIPp: `sipp -sn uac -r R -m R*seconds -d 1000` against the same phone; passes with no failed call and the
  same pace condition.

Rates go up until a step fails (tried once more); the figure is the highest passing R.

    .venv/bin/python bench/outbound.py [--seconds 8] [--out bench/outbound_results.json]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))    # this checkout's ivr, not an installed one

from servers import BENCH, PROMPT_CACHE, ROOT, free_port, machine   # noqa: E402

RATES = (10, 20, 40, 60, 80, 100, 140, 200)
NUMBER = "7999"
CAMPAIGN = f"""id: bench-out
name: Outbound benchmark
numbers: {{voice: ["{NUMBER}"]}}
languages: [en]
start: hello
nodes:
  hello: {{type: end, text: Hello.}}
"""


class Phone:
    """The SIPp UAS every call reaches; its log of INVITEs."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.log = workdir / "phone_invites.log"
        self.proc = subprocess.Popen(
            [shutil.which("sipp") or "sipp", "-sf", str(BENCH / "sipp" / "uas_answer.xml"), "-i", "127.0.0.1",
             "-p", str(self.port), "-mp", str(free_port()), "-trace_logs", "-log_file", str(self.log), "-nostdin",
             "-timeout", "1200s", "-max_recv_loops", "100000"],
            cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)

    def invites(self, prefix: str) -> list[int]:
        """SIPp-clock times (ms) of the first INVITE of each call to numbers starting with `prefix`."""
        seen: dict[str, int] = {}
        for line in self.log.read_text(errors="replace").splitlines() if self.log.exists() else []:
            parts = line.split()
            if len(parts) >= 3 and parts[0].isdigit() and parts[1].startswith(prefix):
                seen.setdefault(parts[2], int(parts[0]))
        return sorted(seen.values())

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def pace(times: list[int]) -> float:
    """Calls per second from the first to the last INVITE."""
    return (len(times) - 1) / ((times[-1] - times[0]) / 1000) if len(times) > 1 and times[-1] > times[0] else 0.0


class Ivr:
    """`ivr serve` placing calls to the phone, with a business key and the campaign in service."""

    def __init__(self, workdir: Path, phone: Phone) -> None:
        self.workdir = workdir
        self.db = f"sqlite:///{workdir / 'ivr.db'}"
        sip, self.http = free_port(), free_port(socket.SOCK_STREAM)
        (workdir / "dialplans").mkdir(exist_ok=True)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ivr.cli", "serve", "--sip", f"127.0.0.1:{sip}", "--no-tcp",
             "--http", f"127.0.0.1:{self.http}", "--db", self.db, "--data", str(workdir / "var"),
             "--dialplans", str(workdir / "dialplans"), "--prompts", str(PROMPT_CACHE), "--rtp-ports", "30000-39998",
             "--max-calls", "5000", "--outbound-trunk", f"sip:127.0.0.1:{phone.port}", "--outbound-rate", "1000",
             "--outbound-concurrent", "5000", "--node-name", "bench"],
            cwd=ROOT, stdout=open(workdir / "ivr.log", "w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 300
        while not self._healthy():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((workdir / "ivr.log").read_text()[-3000:])
            time.sleep(0.3)
        keys = []
        for argv in (["keys", "create", "--tenant", "bench", "--role", "business"], ["numbers", "add", NUMBER],
                     ["numbers", "lease", NUMBER, "--tenant", "bench", "--from", "2025-01-01"]):
            out = subprocess.run([sys.executable, "-m", "ivr.cli", *argv, "--db", self.db], cwd=ROOT,
                                 capture_output=True, text=True, check=True)
            keys.append(out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "")
        self.key = keys[0]
        self.api("POST", "/api/campaigns/bench-out/versions?activate=1", CAMPAIGN.encode(), "application/yaml")

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http}/health", timeout=3) as reply:
                return reply.status == 200
        except OSError:
            return False

    def api(self, method: str, path: str, body: bytes | None = None, content_type: str = "application/json"):
        request = urllib.request.Request(f"http://127.0.0.1:{self.http}{path}", data=body, method=method,
                                         headers={"Authorization": f"Bearer {self.key}", "Content-Type": content_type})
        with urllib.request.urlopen(request, timeout=60) as reply:
            data = reply.read()
            return json.loads(data) if reply.headers.get_content_type() == "application/json" else data.decode()

    def step(self, phone: Phone, rate: int, seconds: float, index: int) -> dict:
        prefix = f"+3805{index:02d}"
        calls = int(rate * seconds)
        made = self.api("POST", "/api/outbound", json.dumps({
            "campaign_id": "bench-out", "name": f"bench {rate}/s", "channel": "voice", "number": NUMBER,
            "rate": rate, "concurrent": max(10, rate * 4), "max_attempts": 1, "hours": ["00:00", "24:00"]}).encode())
        audience = "number\n" + "".join(f"{prefix}{n:07d}\n" for n in range(calls))
        self.api("POST", f"/api/outbound/{made['id']}/audience", audience.encode(), "text/csv")
        self.api("POST", f"/api/outbound/{made['id']}/start")
        deadline = time.monotonic() + seconds * 3 + 30
        while self.api("GET", f"/api/outbound/{made['id']}")["state"] != "done" and time.monotonic() < deadline:
            time.sleep(0.5)
        rows = list(csv.DictReader(io.StringIO(self.api("GET", f"/api/outbound/{made['id']}/results.csv"))))
        results: dict[str, int] = {}
        for row in rows:
            results[row["result"] or row["state"]] = results.get(row["result"] or row["state"], 0) + 1
        times = phone.invites(prefix)
        achieved = pace(times)
        ok = results == {"completed": calls} and len(times) == calls and achieved >= 0.9 * rate
        return {"rate": rate, "calls": calls, "results": results, "invites_at_phone": len(times),
                "achieved_per_second": round(achieved, 2), "passed": ok}

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def sipp_step(phone: Phone, workdir: Path, rate: int, seconds: float, index: int) -> dict:
    """SIPp's own UAC placing the same calls to the phone (the called number carries the step's prefix)."""
    calls = int(rate * seconds)
    prefix = f"+3806{index:02d}"
    stat = workdir / f"uac_{rate}.csv"
    proc = subprocess.run(
        [shutil.which("sipp") or "sipp", f"127.0.0.1:{phone.port}", "-sn", "uac", "-s", f"{prefix}0000000",
         "-i", "127.0.0.1", "-p", str(free_port()), "-m", str(calls), "-r", str(rate), "-l", str(rate * 4),
         "-d", "1000", "-timeout", f"{int(seconds * 3 + 30)}s", "-nostdin", "-trace_stat", "-stf", str(stat)],
        cwd=workdir, capture_output=True, text=True, timeout=seconds * 3 + 60)
    failed = successful = 0
    if stat.exists():
        rows = stat.read_text().strip().splitlines()
        if len(rows) >= 2:
            values = dict(zip(rows[0].split(";"), rows[-1].split(";")))
            successful = int(values.get("SuccessfulCall(C)", 0) or 0)
            failed = int(values.get("FailedCall(C)", 0) or 0)
    times = phone.invites(prefix)
    achieved = pace(times)
    ok = proc.returncode == 0 and successful == calls and failed == 0 and achieved >= 0.9 * rate
    return {"rate": rate, "calls": calls, "successful": successful, "failed": failed, "invites_at_phone": len(times),
            "achieved_per_second": round(achieved, 2), "passed": ok}


def climb(step) -> tuple[int, list[dict]]:
    """Run steps up the rates until one fails twice in a row; the highest passing rate and every step."""
    best, steps = 0, []
    for rate in RATES:
        result = step(rate)
        print(json.dumps(result), file=sys.stderr)
        steps.append(result)
        if not result["passed"]:
            result = step(rate)
            print(json.dumps(result), file=sys.stderr)
            steps.append(result)
            if not result["passed"]:
                break
        best = rate
    return best, steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0, help="seconds of calls per step")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ivr-outbound-bench-") as tmp:
        workdir = Path(tmp)
        phone = Phone(workdir)
        counter = iter(range(1, 100))
        try:
            sipp_best, sipp_steps = climb(lambda rate: sipp_step(phone, workdir, rate, args.seconds, next(counter)))
            ivr = Ivr(workdir, phone)
            try:
                ivr_best, ivr_steps = climb(lambda rate: ivr.step(phone, rate, args.seconds, next(counter)))
            finally:
                ivr.stop()
        finally:
            phone.stop()
    report = {"benchmark": "outbound calls per second, one node, no failed call", "machine": machine(),
              "seconds_per_step": args.seconds, "call_length": "about 1 s after the answer",
              "ivr": {"highest_steady_calls_per_second": ivr_best, "steps": ivr_steps},
              "sipp_reference": {"highest_steady_calls_per_second": sipp_best, "steps": sipp_steps},
              "ivr_vs_sipp": round(ivr_best / sipp_best, 2) if sipp_best else None}
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
