"""Integration fixtures: a real `ivr serve` process on loopback, and SIPp runs against it."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

from ivr.media.prompt_cache import PromptCache, PromptRequest

ROOT = Path(__file__).resolve().parents[2]
SIPP_DIR = Path(__file__).parent / "sipp"
PROMPT_CACHE = ROOT / "prompts" / "cache"      # shared between runs: prompts are generated once
SMS_TOKEN = "sms-gateway-token-for-tests"     # what the test "SMS gateway" authenticates with


def cached_prompt(text: str, codec: int) -> bytes:
    """The prompt cache's G.711 bytes (`codec`: g711.PCMU or PCMA) for an English text: what an engine
    started by these tests plays for it."""
    cache = PromptCache(PROMPT_CACHE)
    return cache.load_encoded(cache.key(PromptRequest(text=text, language="en")), codec)


def free_port(udp_and_tcp: bool = True) -> int:
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            if not udp_and_tcp:
                return port
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port")


@contextlib.asynccontextmanager
async def loopback_site(app: web.Application) -> AsyncIterator[int]:
    """Serve `app` on a free 127.0.0.1 port (yielded) for the block's duration."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield site._server.sockets[0].getsockname()[1]
    finally:
        await runner.cleanup()


@dataclass
class EngineProcess:
    """A running `ivr serve` and how to reach it."""

    proc: subprocess.Popen
    sip_port: int
    http_port: int
    db_url: str
    log_path: Path
    data_dir: Path

    @property
    def sip(self) -> str:
        return f"127.0.0.1:{self.sip_port}"

    def http_get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.http_port}{path}", headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def metrics(self, headers: dict[str, str] | None = None) -> dict[str, float]:
        """/metrics parsed: each sample's value by its series as written (`name` or `name{labels}`)."""
        status, body = self.http_get("/metrics", headers)
        assert status == 200, (status, body[:200])
        samples = {}
        for line in body.decode().splitlines():
            if line and not line.startswith("#"):
                series, _, value = line.rpartition(" ")
                samples[series] = float(value)
        return samples

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def call_records(self) -> list[dict]:
        """The structured per-call log lines the engine wrote."""
        out = []
        for line in self.log().splitlines():
            start = line.find("{")
            if start >= 0 and '"event": "call_' in line:
                out.append(json.loads(line[start:]))
        return out

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_engine(tmp: Path, *extra: str, db_url: str | None = None, timeout: float = 180.0,
                 dialplans: Path = ROOT / "dialplans", english_speech: str | None = "pocketsphinx") -> EngineProcess:
    """`ivr serve` on free loopback ports. English speech is heard by PocketSphinx unless a test asks for the
    node's default (`english_speech=None`, Whisper) or names engines itself: loading Whisper takes ~4 s of
    every start, and only the tests about speech need it."""
    if english_speech is not None and "--speech-engine" not in extra:
        extra = (*extra, "--speech-engine", f"en={english_speech}")
    sip_port, http_port = free_port(), free_port(udp_and_tcp=False)
    rtp_low = 20000 + (sip_port % 100) * 400
    db_url = db_url or f"sqlite:///{tmp / 'ivr.db'}"
    log_path = tmp / "engine.log"
    cmd = [sys.executable, "-m", "ivr.cli", "serve", "--sip", f"127.0.0.1:{sip_port}",
           "--http", f"127.0.0.1:{http_port}", "--db", db_url, "--data", str(tmp / "var"),
           "--dialplans", str(dialplans), "--prompts", str(PROMPT_CACHE),
           "--rtp-ports", f"{rtp_low}-{rtp_low + 398}", "--sms-token", SMS_TOKEN, *extra]
    log_file = open(log_path, "w")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT)
    engine = EngineProcess(proc, sip_port, http_port, db_url, log_path, tmp / "var")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"engine exited with {proc.returncode}:\n{engine.log()[-4000:]}")
        try:
            status, _ = engine.http_get("/health")
            if status == 200:
                return engine
        except OSError:
            pass
        time.sleep(0.2)
    engine.stop()
    raise RuntimeError(f"engine not ready after {timeout}s:\n{engine.log()[-4000:]}")


def stored_outcomes(engine: EngineProcess) -> list[tuple[str, str, str, str]]:
    """(caller, kind, name, value) of the outcomes in a SQLite engine's store, oldest first; waits up to 5 s
    for the first one (the store writes behind the call)."""
    path = engine.db_url.removeprefix("sqlite:///")
    deadline = time.monotonic() + 5
    while True:
        with sqlite3.connect(path) as db:
            rows = db.execute("SELECT caller, kind, name, value FROM outcomes ORDER BY at").fetchall()
        if rows or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


@pytest.fixture
def engine(tmp_path: Path):
    """A fresh engine (own SQLite store) for one test."""
    proc = start_engine(tmp_path)
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def shared_engine(tmp_path_factory):
    """One engine for a module's tests that do not need a fresh store."""
    proc = start_engine(tmp_path_factory.mktemp("engine"))
    yield proc
    proc.stop()


@dataclass
class SippResult:
    returncode: int
    successful: int
    failed: int
    output: str


def run_sipp(target: str, scenario: str | Path, *, service: str = "3838", calls: int = 1,
             concurrent: int = 1, rate: float | None = None, timeout: float = 60.0,
             extra: tuple[str, ...] = (), workdir: Path) -> SippResult:
    """Run SIPp as a caller, bounded in calls and time; returns its call counts."""
    sipp = shutil.which("sipp")
    assert sipp, "SIPp (Debian package sip-tester) is not installed: run scripts/bootstrap"
    scenario_args = ["-sn", scenario] if isinstance(scenario, str) and not scenario.endswith(".xml") \
        else ["-sf", str(scenario)]
    stat_file = workdir / "sipp_stats.csv"
    cmd = [sipp, target, *scenario_args, "-s", service, "-i", "127.0.0.1", "-p", str(free_port()),
           "-mp", str(free_port()), "-m", str(calls), "-l", str(concurrent),
           "-r", str(rate or concurrent), "-timeout", f"{int(timeout)}s", "-timeout_error",
           "-recv_timeout", "40000", "-nostdin", "-trace_stat", "-stf", str(stat_file),
           "-trace_err", "-error_file", str(workdir / "sipp_errors.log"), *extra]
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, errors="replace", timeout=timeout + 30)
    successful = failed = 0
    if stat_file.exists():
        rows = stat_file.read_text().strip().splitlines()
        if len(rows) >= 2:
            header = rows[0].split(";")
            last = rows[-1].split(";")
            values = dict(zip(header, last))
            successful = int(values.get("SuccessfulCall(C)", 0) or 0)
            failed = int(values.get("FailedCall(C)", 0) or 0)
    errors = (workdir / "sipp_errors.log")
    output = proc.stdout[-3000:] + proc.stderr[-3000:] + (errors.read_text()[-3000:] if errors.exists() else "")
    return SippResult(proc.returncode, successful, failed, output)


@pytest.fixture(scope="session")
def phones(tmp_path_factory):
    """Kamailio as a carrier trunk and the SIPp phones behind it (`outbound_peers`), started once for every
    outbound test."""
    from .outbound_peers import Phones
    started = Phones(tmp_path_factory.mktemp("phones")).start()
    yield started
    started.stop()
