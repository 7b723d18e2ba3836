"""Every RFC 4475 and RFC 5118 torture message sent over UDP to a real `ivr serve`, which then still
takes a normal call; and the size limit on a TCP connection."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from ivr.sip.ratelimit import CLASSES
from ivr.sip.ua import UAConfig, UserAgent
from ivr.sip.transaction import Endpoint

from .conftest import ROOT, SIPP_DIR, EngineProcess, run_sipp, start_engine

pytestmark = pytest.mark.integration

TORTURE = sorted((ROOT / "tests/unit/sip/rfc4475").glob("*/*.dat")) + sorted(
    (ROOT / "tests/unit/sip/rfc5118").glob("*/*.dat"))
# Responses go to our address at the port the Via names (mostly 5060). Sending from a loopback
# address no other test uses keeps them away from SIP endpoints on 127.0.0.1.
SENDER = "127.44.75.1"


def sip_counters(engine: EngineProcess) -> dict[str, int]:
    """The engine's SIP message counters, from /metrics."""
    counters: dict[str, int] = {}
    for series, value in engine.metrics().items():
        if series == "ivr_sip_messages_received_total":
            counters["received"] = int(value)
        elif series.startswith('ivr_sip_messages_refused_total{reason="'):
            counters[series.split('"')[1]] = int(value)
    return counters


def expected_counters() -> dict[str, int]:
    """What the sans-I/O core makes of the same datagrams: the oracle for the engine's counters."""
    ua = UserAgent(UAConfig())
    for path in TORTURE:
        ua.receive(path.read_bytes(), Endpoint("UDP", SENDER, 40000), 0.0)
    return ua.counters()


@pytest.fixture
def unlimited_engine(tmp_path: Path):
    """An engine without per-source rate limits: the torture set comes from one address, and what is
    checked here is each message's answer, not the flood protection (tests/integration/test_sip_abuse.py)."""
    proc = start_engine(tmp_path, *[arg for kind in CLASSES for arg in ("--sip-rate", f"{kind}=off")])
    yield proc
    proc.stop()


def test_torture_messages_over_udp_then_a_normal_call(unlimited_engine: EngineProcess, tmp_path: Path) -> None:
    engine = unlimited_engine
    assert len(TORTURE) == 61
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((SENDER, 0))
        for path in TORTURE:
            sock.sendto(path.read_bytes(), ("127.0.0.1", engine.sip_port))
            time.sleep(0.01)
        # mpart01 asks for rport: its 405 comes back to this very socket.
        sock.settimeout(10)
        answer = sock.recvfrom(65535)[0]
        assert answer.startswith(b"SIP/2.0 405 Method Not Allowed\r\n")
        assert b"Call-ID: 3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..\r\n" in answer
    expected = expected_counters()
    deadline = time.monotonic() + 20
    while sip_counters(engine).get("received", 0) < expected["received"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert sip_counters(engine) == expected
    assert expected["invalid"] > 20 and expected["unparseable"] + expected["stray_response"] == 5

    assert engine.proc.poll() is None
    assert engine.http_get("/health")[0] == 200
    result = run_sipp(engine.sip, SIPP_DIR / "uac_dtmf_wait_bye.xml", service="3838", calls=1,
                      timeout=60, workdir=tmp_path)
    assert result.successful == 1, result.output
    assert "Traceback" not in engine.log()


def test_an_oversized_tcp_message_gets_513_and_the_connection_is_closed(engine: EngineProcess) -> None:
    with socket.create_connection(("127.0.0.1", engine.sip_port), timeout=10) as conn:
        port = conn.getsockname()[1]
        head = ("INVITE sip:3838@127.0.0.1 SIP/2.0\r\n"
                f"Via: SIP/2.0/TCP 127.0.0.1:{port};branch=z9hG4bK-too-large\r\n"
                "Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=big\r\nTo: <sip:3838@127.0.0.1>\r\n"
                "Call-ID: too-large@127.0.0.1\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n"
                "Content-Length: 100000\r\n\r\n")
        conn.sendall(head.encode())
        received = b""
        while chunk := conn.recv(65535):
            received += chunk
    assert received.startswith(b"SIP/2.0 513 Message Too Large\r\n")
    assert b"Call-ID: too-large@127.0.0.1\r\n" in received
    assert sip_counters(engine)["too_large"] == 1
    assert engine.http_get("/health")[0] == 200
