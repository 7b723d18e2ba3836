"""Half-open calls (INVITE, 200 OK, never an ACK) from 15 loopback addresses at once, each under the
per-source limits, against a real `ivr serve`: the calls waiting for their ACK have a node-wide cap and
a short ACK timeout, and a source whose calls complete keeps its place ahead of those that never ACK,
so 20 legitimate SIPp calls made during the attack all succeed. Also: a SIP TCP connection that sends
nothing is closed, and SIGTERM with many half-open calls exits promptly."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from .conftest import SIPP_DIR, free_port, run_sipp, start_engine

pytestmark = pytest.mark.integration

ATTACKERS = [f"127.0.0.{n}" for n in range(2, 17)]          # 15 addresses
HALF_OPEN = SIPP_DIR / "uac_no_ack.xml"


def attacker(engine, host: str, workdir: Path, seconds: int) -> subprocess.Popen:
    """SIPp from `host`: half-open calls at 10 a second, at most 19 at once (under the per-source limit of 20)."""
    return subprocess.Popen(
        [shutil.which("sipp") or "sipp", engine.sip, "-sf", str(HALF_OPEN), "-s", "3838", "-i", host,
         "-p", str(free_port()), "-mp", str(free_port()), "-l", "19", "-r", "10", "-m", "100000",
         "-timeout", f"{seconds}s", "-nostdin", "-trace_err",
         "-error_file", str(workdir / f"attacker-{host}.log")],
        cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_legitimate_calls_all_succeed_during_a_multi_source_half_open_flood(tmp_path: Path) -> None:
    engine = start_engine(tmp_path)
    attackers = []
    try:
        attackers = [attacker(engine, host, tmp_path, 30) for host in ATTACKERS]
        time.sleep(6)                                          # the flood fills the set-up slots
        # SIPp's own scenario calls as one caller ("sipp"): 2 at once, the per-caller limit
        legit = run_sipp(engine.sip, "uac", service="3838", calls=20, concurrent=2, rate=2, timeout=60,
                         extra=("-d", "1000"), workdir=tmp_path)
        metrics = engine.metrics()
    finally:
        for proc in attackers:
            proc.terminate()
        for proc in attackers:
            proc.wait(10)
        engine.stop()
    refused = metrics['ivr_sip_messages_refused_total{reason="setup_refused"}']
    evicted = metrics['ivr_sip_messages_refused_total{reason="setup_evicted"}']
    print(f"\nlegitimate calls during the flood: {legit.successful} of 20 succeeded, {legit.failed} failed; "
          f"INVITEs refused at the set-up cap: {refused:.0f}; half-open calls evicted: {evicted:.0f}")
    assert (legit.successful, legit.failed) == (20, 0), legit.output
    assert refused > 0 and evicted > 0                          # the flood met the cap


def test_an_idle_tcp_connection_is_closed(tmp_path: Path) -> None:
    engine = start_engine(tmp_path, "--tcp-idle", "1")
    try:
        with socket.create_connection(("127.0.0.1", engine.sip_port), timeout=10) as idle:
            started = time.monotonic()
            assert idle.recv(1) == b""                         # closed by the engine, nothing sent
            waited = time.monotonic() - started
    finally:
        engine.stop()
    assert 0.9 < waited < 5, waited


def test_sigterm_with_many_half_open_calls_exits_promptly(tmp_path: Path) -> None:
    engine = start_engine(tmp_path, "--ack-timeout", "30")
    flood = [attacker(engine, host, tmp_path, 20) for host in ATTACKERS[:3]]
    try:
        deadline = time.monotonic() + 15
        while engine.metrics()["ivr_active_calls"] < 30 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert engine.metrics()["ivr_active_calls"] >= 30
        started = time.monotonic()
        engine.proc.send_signal(signal.SIGTERM)
        engine.proc.wait(15)
        stopped = time.monotonic() - started
    finally:
        for proc in flood:
            proc.terminate()
            proc.wait(10)
        engine.stop()
    assert engine.proc.returncode == 0 and stopped < 5, (stopped, engine.log()[-2000:])
