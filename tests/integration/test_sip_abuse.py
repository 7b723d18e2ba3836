"""Abuse on the SIP side, against a real `ivr serve` on loopback: floods from one address (INVITE and
OPTIONS, REGISTER), a scanner
enumerating numbers (SIPVicious `svwar` and a raw comparison), the source allow-list and the limit
of concurrent calls per caller.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from .api.conftest import vote_call
from .conftest import ROOT, run_sipp, start_engine
from .sipp_keys import key_scenario

pytestmark = pytest.mark.integration

FLOODER = "127.0.0.2"
CLOSED = """id: closed-promo
name: Closed promo
numbers: {voice: ["4545"]}
start: hello
schedule: {timezone: UTC, start: "2020-01-01T00:00:00", end: "2020-01-02T00:00:00",
           closed_text: This promotion has ended.}
nodes:
  hello: {type: end, text: Hello}
"""
SDP = ("v=0\r\no=scan 1 1 IN IP4 {host}\r\ns=-\r\nc=IN IP4 {host}\r\nt=0 0\r\n"
       "m=audio 9 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n")


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    """One engine with the demo campaigns and a closed one on 4545, every limit at its default."""
    tmp = tmp_path_factory.mktemp("abuse")
    plans = tmp / "plans"
    plans.mkdir()
    for path in (ROOT / "dialplans").glob("*.yaml"):
        shutil.copy(path, plans)
    (plans / "closed.yaml").write_text(CLOSED)
    engine = start_engine(tmp, "--dialplans", str(plans))
    yield engine
    engine.stop()


def request(method: str, number: str, port: int, n: int, *, host: str = "127.0.0.1", caller: str = "+15550100",
            dialog: int | None = None, to_tag: str = "", cseq: int = 1, body: str = "") -> bytes:
    """One request as a scanner or phone at host:port sends it: branch from `n`, Call-ID and From-tag
    from `dialog` (default `n`)."""
    d = n if dialog is None else dialog
    headers = [f"{method} sip:{number}@127.0.0.1 SIP/2.0",
               f"Via: SIP/2.0/UDP {host}:{port};branch=z9hG4bK-{method.lower()}-{n}",
               "Max-Forwards: 70", f"From: <sip:{caller}@{host}>;tag=f{d}",
               f"To: <sip:{number}@127.0.0.1>" + (f";tag={to_tag}" if to_tag else ""),
               f"Call-ID: scan-{d}@{host}", f"CSeq: {cseq} {method}", f"Contact: <sip:{caller}@{host}:{port}>"]
    if body:
        headers.append("Content-Type: application/sdp")
    headers.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(headers) + "\r\n\r\n" + body).encode()


# -- a flood from one address ---------------------------------------------------------------------------

class Flood(threading.Thread):
    """Requests from 127.0.0.2 as fast as Python sends, the `methods` in turn (INVITEs each from another
    caller number)."""

    def __init__(self, port: int, seconds: float, methods: tuple[str, ...] = ("INVITE", "OPTIONS")) -> None:
        super().__init__(daemon=True)
        self.port, self.seconds, self.methods = port, seconds, methods
        self.sent = 0
        self.answers: Counter[int] = Counter()

    def run(self) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((FLOODER, 0))
            sock.setblocking(False)
            local = sock.getsockname()[1]
            body = SDP.format(host=FLOODER)
            end = time.monotonic() + self.seconds
            while time.monotonic() < end:
                for _ in range(50):
                    n = self.sent
                    method = self.methods[n % len(self.methods)]
                    data = request(method, "3838", local, n, host=FLOODER, caller=f"+1999{n}",
                                   body=body if method == "INVITE" else "")
                    try:
                        sock.sendto(data, ("127.0.0.1", self.port))
                        self.sent += 1
                    except BlockingIOError:
                        break
                self._read(sock)
                time.sleep(0.002)
            time.sleep(1.0)
            self._read(sock)

    def _read(self, sock: socket.socket) -> None:
        while True:
            try:
                data = sock.recv(65535)
            except BlockingIOError:
                return
            self.answers[int(data.split(b" ", 2)[1])] += 1


def test_a_flood_from_one_address_does_not_stop_another_callers_vote(node, tmp_path: Path) -> None:
    flood = Flood(node.sip_port, seconds=6.0)
    flood.start()
    time.sleep(0.5)
    vote_call(node, tmp_path, "+15550777", "3")                       # from 127.0.0.1, during the flood
    flood.join(30)
    assert not flood.is_alive()
    ended = [r for r in node.call_records() if r["event"] == "call_ended" and r["from"] == "+15550777"]
    assert [(r["cause"], r["digits"]) for r in ended] == [("flow_end", "3")]
    finals = sum(n for status, n in flood.answers.items() if status >= 200)
    assert flood.sent > 2000, flood.sent
    assert finals < flood.sent / 4, (flood.sent, flood.answers)        # most of it got no answer at all
    assert flood.answers[503] >= 1                                     # over the rate, or too many set-ups
    assert flood.answers[200] <= 20 + 500                              # calls: at most the set-up limit
    assert node.metrics()['ivr_sip_messages_refused_total{reason="rate_limited"}'] > 1000   # the rest: kernel drops
    rejected = Counter(r["cause"] for r in node.call_records() if r["event"] == "call_rejected")
    assert rejected["source_setup_limit"] >= 1, rejected


def test_a_register_flood_is_limited_and_another_phone_still_gets_its_answers(node) -> None:
    """REGISTER has the lowest rate (5/s, burst 10 per source): past it, one 503 a second, the rest
    dropped unanswered; a phone on another address keeps getting its answer (405: no registrar here)."""
    limited_before = node.metrics()['ivr_sip_messages_refused_total{reason="rate_limited"}']
    seconds = 4.0
    flood = Flood(node.sip_port, seconds=seconds, methods=("REGISTER",))
    flood.start()
    phone_answers = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(3)
        local = sock.getsockname()[1]
        time.sleep(0.5)
        for n in range(6):                                              # 2 a second, during the flood
            phone_answers.append(_exchange(sock, node.sip_port, request("REGISTER", "3838", local, 9000 + n,
                                                                       caller="+15550600"))[-1].split(b"\r\n")[0])
            time.sleep(0.5)
    flood.join(30)
    assert not flood.is_alive()
    assert phone_answers == [b"SIP/2.0 405 Method Not Allowed"] * 6
    assert flood.sent > 2000, flood.sent
    # what the bucket lets through: the burst, then 5 a second; a 503 (with Retry-After) at most once a second
    assert 10 <= flood.answers[405] <= 10 + 5 * (seconds + 1.5), flood.answers
    assert 1 <= flood.answers[503] <= seconds + 2, flood.answers
    assert set(flood.answers) == {405, 503}, flood.answers
    limited = node.metrics()['ivr_sip_messages_refused_total{reason="rate_limited"}'] - limited_before
    assert limited > flood.sent / 2, (limited, flood.sent)             # (the rest the kernel dropped)


# -- a scanner enumerating numbers ----------------------------------------------------------------------

@pytest.mark.parametrize("method", ["INVITE", "OPTIONS", "REGISTER"])
def test_svwar_finds_no_number(node, tmp_path: Path, method: str) -> None:
    """SIPVicious's svwar learns which numbers exist from responses that differ: it must find none."""
    svwar = Path(sys.executable).with_name("sipvicious_svwar")
    assert svwar.exists(), "SIPVicious is a test dependency: pip install -e '.[test]'"
    out = subprocess.run([str(svwar), "-v", "-m", method, "-e", "3838,4545,7777,1000-1010,9999",
                          "--maximumtime", "30", f"udp://127.0.0.1:{node.sip_port}"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=90)
    text = out.stdout + out.stderr
    assert "Ok SIP device found" in text, text                        # it did talk to the engine
    assert "found nothing" in text and "3838" not in text, text


def _exchange(sock: socket.socket, port: int, data: bytes) -> list[bytes]:
    """Send `data`; the responses up to the first final one."""
    sock.sendto(data, ("127.0.0.1", port))
    got = [sock.recv(65535)]
    while int(got[-1].split(b" ", 2)[1]) < 200:
        got.append(sock.recv(65535))
    return got


def _shape(data: bytes, number: str) -> tuple:
    """What a scanner can compare: status line, header names and values, SDP lines, all without what
    is echoed from the request or random per response (tags, session ids, ports)."""
    head, _, body = data.decode().partition("\r\n\r\n")
    lines = head.split("\r\n")
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name in ("Via", "From", "Call-ID", "CSeq", "Content-Length"):
            value = ""
        headers.append((name, re.sub(r"tag=[^;>\s]+", "tag=T", value.replace(number, "N")).strip()))
    return lines[0], headers, [re.sub(r"\d+", "0", line) for line in body.split("\r\n")]


def test_open_closed_and_unknown_numbers_answer_alike(node) -> None:
    """OPTIONS, REGISTER and INVITE to a number in service, a closed campaign's and two numbers without
    a campaign: the same status, headers and SDP (apart from echoed and random parts)."""
    shapes: dict[str, list[tuple]] = {}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(10)
        local = sock.getsockname()[1]
        for i, number in enumerate(("3838", "4545", "9999", "1234")):
            n, caller = 100 + 10 * i, f"+1555010{i}"
            seen = [_shape(_exchange(sock, node.sip_port, request(m, number, local, n + k, caller=caller))[-1], number)
                    for k, m in enumerate(("OPTIONS", "REGISTER"))]
            invite = _exchange(sock, node.sip_port, request("INVITE", number, local, n + 2, caller=caller,
                                                            body=SDP.format(host="127.0.0.1")))
            shapes[number] = seen + [_shape(r, number) for r in invite]
            tag = re.search(rb"^To:.*;tag=([^;\r]+)", invite[-1], re.M).group(1).decode()
            for k, (method, cseq) in enumerate((("ACK", 1), ("BYE", 2))):
                sock.sendto(request(method, number, local, n + 3 + k, caller=caller, dialog=n + 2, to_tag=tag,
                                    cseq=cseq), ("127.0.0.1", node.sip_port))
            while b"CSeq: 2 BYE" not in sock.recv(65535):     # our BYE answered (the engine's may cross it)
                pass
    first = [shape[0] for shape in shapes["3838"]]
    assert first == ["SIP/2.0 200 OK", "SIP/2.0 405 Method Not Allowed", "SIP/2.0 100 Trying",
                     "SIP/2.0 200 OK"], first
    assert shapes["4545"] == shapes["3838"] == shapes["9999"] == shapes["1234"]


# -- allow-list and calls per caller ----------------------------------------------------------------------

def test_allow_from_drops_everyone_else(tmp_path: Path) -> None:
    engine = start_engine(tmp_path, "--allow-from", "127.0.0.1/32")
    try:
        for host, answered in ((FLOODER, False), ("127.0.0.1", True)):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.bind((host, 0))
                sock.settimeout(2)
                sock.sendto(request("OPTIONS", "3838", sock.getsockname()[1], 1, host=host),
                            ("127.0.0.1", engine.sip_port))
                try:
                    reply = sock.recv(65535)
                except socket.timeout:
                    reply = None
            assert (reply is not None and reply.startswith(b"SIP/2.0 200")) == answered, (host, reply)
        with socket.create_connection(("127.0.0.1", engine.sip_port), timeout=5,
                                      source_address=(FLOODER, 0)) as tcp:
            tcp.sendall(request("OPTIONS", "3838", 5060, 2, host=FLOODER))
            try:
                assert tcp.recv(65535) == b""                            # closed without an answer
            except ConnectionResetError:
                pass
        assert engine.metrics()['ivr_sip_messages_refused_total{reason="not_allowed"}'] == 1
        vote_call(engine, tmp_path / "call", "+15550888", "2")
    finally:
        engine.stop()


def test_a_third_call_from_the_same_caller_is_busy(node, tmp_path: Path) -> None:
    scenario = key_scenario(tmp_path / "same.xml", [(4.0, "1")], caller="+15550999")
    result = run_sipp(node.sip, scenario, service="3838", calls=3, concurrent=3, rate=100, timeout=60,
                      workdir=tmp_path)
    assert (result.successful, result.failed) == (2, 1), result.output
    assert "486 Busy Here" in result.output
    rejected = [r for r in node.call_records() if r["event"] == "call_rejected" and r["from"] == "+15550999"]
    assert [(r["status"], r["cause"]) for r in rejected] == [(486, "caller_busy")]
