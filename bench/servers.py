"""The processes a benchmark drives: the servers under test (`ivr serve`, the pyVoIP app), SIPp as
the caller, what /proc says about a process (CPU seconds, resident memory) and about the machine."""

from __future__ import annotations

import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
PROMPT_CACHE = ROOT / "prompts" / "cache"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def machine() -> dict:
    """The machine a figure was taken on (and how busy it was when the run started)."""
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.machine())
    try:
        import uvloop
        loop = f"uvloop {uvloop.__version__}"
    except ImportError:
        loop = "asyncio"
    return {"cores": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "system": f"{platform.system()} {platform.release()}", "event_loop": loop,
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def free_port(kind: socket.SocketKind = socket.SOCK_DGRAM) -> int:
    """A UDP (or TCP) port on 127.0.0.1 that nothing uses right now."""
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Usage:
    """A process's CPU seconds (user + system, its threads included), resident memory, and how long its
    main thread (the event loop) sat runnable waiting for a CPU that other processes held."""

    cpu_seconds: float
    rss_bytes: int
    runqueue_wait: float


def usage(pid: int) -> Usage:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS          # utime, stime
    rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    waited = int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
    return Usage(cpu, rss, waited)


@dataclass
class Server:
    """A server under test, answering SIP on 127.0.0.1:`sip_port`."""

    name: str
    proc: subprocess.Popen
    sip_port: int
    log_path: Path
    http_port: int | None = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.sip_port}"

    def metrics(self) -> dict[str, float]:
        """The engine's /metrics series without labels (empty for a server without them)."""
        if self.http_port is None:
            return {}
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/metrics", timeout=10) as reply:
            lines = reply.read().decode().splitlines()
        return {name: float(value) for name, _, value in (line.partition(" ") for line in lines)
                if not name.startswith("#") and "{" not in name and value}

    def usage(self) -> Usage:
        return usage(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_ivr(workdir: Path, db_url: str, rtp_ports: str = "10000-15998", timeout: float = 300.0) -> Server:
    """`ivr serve` with the benchmark campaigns; returns once /health answers."""
    sip_port, http_port = free_port(), free_port(socket.SOCK_STREAM)
    log_path = workdir / "ivr.log"
    cmd = [sys.executable, "-m", "ivr.cli", "serve", "--sip", f"127.0.0.1:{sip_port}", "--no-tcp",
           "--http", f"127.0.0.1:{http_port}", "--db", db_url, "--data", str(workdir / "var"),
           "--dialplans", str(BENCH / "dialplans"), "--prompts", str(PROMPT_CACHE),
           "--rtp-ports", rtp_ports, "--max-calls", "5000",
           # SIPp stands for a carrier trunk: every call from one address, so no per-source limits
           # (docs/security.md); what is measured is the engine, not its flood protection.
           "--sip-rate", "invite=off", "--sip-rate", "other=off", "--max-setup-per-source", "0"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=open(log_path, "w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"ivr serve exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/health", timeout=5) as reply:
                if reply.status == 200:
                    return Server("ivr", proc, sip_port, log_path, http_port)
        except OSError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("ivr serve did not become ready")


def start_pyvoip(workdir: Path, prompt_pcm: Path, caller_port: int, rtp_ports: str = "16000-19999",
                 keys_out: Path | None = None) -> Server:
    """bench/pyvoip_app.py, answering to SIPp on `caller_port` (collecting keys into `keys_out` when
    given); returns once it says ready."""
    sip_port = free_port()
    log_path = workdir / "pyvoip.log"
    cmd = [sys.executable, str(BENCH / "pyvoip_app.py"), "--sip", f"127.0.0.1:{sip_port}",
           "--peer", f"127.0.0.1:{caller_port}", "--prompt", str(prompt_pcm), "--rtp-ports", rtp_ports,
           *(("--keys-out", str(keys_out)) if keys_out else ())]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=open(log_path, "w"), text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != "ready":
        proc.kill()
        raise RuntimeError(f"pyVoIP app did not start: {line!r} {log_path.read_text()[-2000:]}")
    return Server("pyvoip", proc, sip_port, log_path)


@dataclass
class SippRun:
    """What SIPp reports after a run: calls that completed or failed, and INVITE→200 times (ms)."""

    successful: int
    failed: int
    setup_ms: list[float] = field(default_factory=list)
    returncode: int = 0
    elapsed: float = 0.0


class Sipp:
    """SIPp as the caller, always from the same SIP port (the pyVoIP app answers there)."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.binary = shutil.which("sipp")
        if self.binary is None:
            raise RuntimeError("SIPp (Debian package sip-tester) is not installed: run scripts/bootstrap")
        self.workdir = workdir
        self.port = port or free_port()
        self.runs = 0

    def start(self, target: str, scenario: Path, *, service: str, calls: int, limit: int, rate: float,
              hold_ms: int, keys: dict[str, str] | None = None, timeout: float = 120.0,
              extra: tuple[str, ...] = ()) -> subprocess.Popen:
        """Start a run in the background; `finish` waits for it."""
        self.runs += 1
        run_dir = self.workdir / f"sipp{self.runs}"
        run_dir.mkdir()
        key_args = [arg for name, value in (keys or {}).items() for arg in ("-key", name, value)]
        cmd = [self.binary, target, "-sf", str(scenario), "-s", service, "-i", "127.0.0.1", "-p", str(self.port),
               "-mp", str(free_port()), "-m", str(calls), "-l", str(limit), "-r", str(rate), "-d", str(hold_ms),
               "-timeout", f"{int(timeout)}s", "-timeout_error", "-recv_timeout", "5000", "-nostdin",
               "-trace_stat", "-stf", "stats.csv", "-trace_rtt", "-rtt_freq", "1", "-trace_err",
               "-error_file", "errors.log", *key_args, *extra]
        proc = subprocess.Popen(cmd, cwd=run_dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        proc.run_dir = run_dir                      # type: ignore[attr-defined]
        proc.started = time.monotonic()             # type: ignore[attr-defined]
        proc.timeout = timeout                      # type: ignore[attr-defined]
        return proc

    def finish(self, proc: subprocess.Popen) -> SippRun:
        try:
            proc.wait(timeout=proc.timeout + 30)    # type: ignore[attr-defined]
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        elapsed = time.monotonic() - proc.started   # type: ignore[attr-defined]
        run_dir: Path = proc.run_dir                # type: ignore[attr-defined]
        successful = failed = 0
        stats = run_dir / "stats.csv"
        if stats.exists():
            rows = stats.read_text().strip().splitlines()
            if len(rows) >= 2:
                values = dict(zip(rows[0].split(";"), rows[-1].split(";")))
                successful = int(values.get("SuccessfulCall(C)", 0) or 0)
                failed = int(values.get("FailedCall(C)", 0) or 0)
        setup: list[float] = []
        for rtt in run_dir.glob("*_rtt.csv"):
            for line in rtt.read_text().splitlines()[1:]:
                parts = line.split(";")
                if len(parts) >= 2:
                    try:
                        setup.append(float(parts[1]))
                    except ValueError:
                        pass
        return SippRun(successful, failed, setup, proc.returncode, elapsed)

    def run(self, target: str, scenario: Path, **kwargs) -> SippRun:
        return self.finish(self.start(target, scenario, **kwargs))
