"""Faults: SIGTERM drains (new calls refused, calls in progress finish, then exit), SIGKILL under
load loses no vote a caller was told was counted, and activating new versions under load drops no call."""

from __future__ import annotations

import signal
import socket
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from .api.conftest import Api, make_key
from .conftest import EngineProcess, SippResult, run_sipp, start_engine
from .sipp_keys import key_scenario

pytestmark = pytest.mark.integration


def invite_response(engine: EngineProcess, number: str = "3838") -> bytes | None:
    """Send one INVITE from a raw UDP socket; the first final response (or None)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(3.0)
        port = sock.getsockname()[1]
        sdp = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
               f"m=audio {port + 2} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
        invite = (f"INVITE sip:{number}@127.0.0.1 SIP/2.0\r\n"
                  f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKdrain{port}\r\n"
                  f"From: <sip:+15550999@127.0.0.1>;tag=drain\r\nTo: <sip:{number}@127.0.0.1>\r\n"
                  f"Call-ID: drain{port}\r\nCSeq: 1 INVITE\r\nContact: <sip:+15550999@127.0.0.1:{port}>\r\n"
                  f"Max-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: {len(sdp)}\r\n\r\n{sdp}")
        sock.sendto(invite.encode(), ("127.0.0.1", engine.sip_port))
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                data = sock.recvfrom(65535)[0]
            except socket.timeout:
                return None
            if not data.startswith(b"SIP/2.0 1"):
                return data
    return None


def votes(db_path: str) -> set[str]:
    with sqlite3.connect(db_path) as db:
        return {caller for (caller,) in db.execute("SELECT caller FROM votes")}


class Background(threading.Thread):
    """SIPp run in a thread, so that the test can act on the engine meanwhile."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(daemon=True)
        self.args, self.kwargs = args, kwargs
        self.result: SippResult | None = None

    def run(self) -> None:
        self.result = run_sipp(*self.args, **self.kwargs)


def test_sigterm_drains_then_exits(tmp_path: Path) -> None:
    engine = start_engine(tmp_path)
    try:
        scenario = key_scenario(tmp_path / "vote.xml", [(4.0, "2")], caller="+15550111")
        call = Background(engine.sip, scenario, service="3838", timeout=40, workdir=tmp_path)
        call.start()
        time.sleep(2.0)                                          # the call is up, its vote not yet cast
        engine.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        assert engine.http_get("/health")[0] == 503              # load balancers stop sending calls
        refused = invite_response(engine)
        assert refused is not None and refused.startswith(b"SIP/2.0 503"), refused
        call.join(40)
        assert call.result is not None and call.result.successful == 1, call.result and call.result.output
        assert engine.proc.wait(timeout=20) == 0                 # exits by itself once the call is over
    finally:
        engine.stop()
    assert votes(engine.db_url.removeprefix("sqlite:///")) == {"+15550111"}


def test_sigkill_under_load_loses_no_counted_vote(tmp_path: Path) -> None:
    engine = start_engine(tmp_path)
    scenario = key_scenario(tmp_path / "votes.xml", [(1.0, "3")], bye_timeout_ms=8000, log_bye=True)
    told_log = tmp_path / "told.log"                             # callers who heard the thank-you to its end
    load = Background(engine.sip, scenario, service="3838", calls=100, concurrent=40, rate=10, timeout=25,
                      workdir=tmp_path, extra=("-trace_logs", "-log_file", str(told_log)))
    try:
        load.start()
        time.sleep(7.0)                                          # the first calls have ended, others are up
        engine.proc.kill()                                       # SIGKILL: no chance to flush anything
        engine.proc.wait(10)
        load.join(60)
    finally:
        engine.stop()
    assert load.result is not None
    told = set(told_log.read_text().split())                     # "Thank you, your vote ... is counted."
    assert len(told) == load.result.successful > 0, (told, load.result.output)
    assert load.result.failed > 0, load.result.output           # the kill hit calls in progress
    before_kill = {r["from"]: r["path"][-1] for r in engine.call_records() if r["event"] == "call_ended"}
    assert all(before_kill.get(caller, "thanks") == "thanks" for caller in told), before_kill
    restarted = start_engine(tmp_path)                           # same store and spool
    db = restarted.db_url.removeprefix("sqlite:///")
    try:
        deadline = time.monotonic() + 20
        while not told <= votes(db) and time.monotonic() < deadline:
            time.sleep(0.2)
        stored = votes(db)
        assert told <= stored, sorted(told - stored)             # every caller told "counted" is a voter
        assert stored <= {f"+15550000{n}" for n in range(1, 101)}, stored   # and no voter was made up
        assert restarted.http_get("/health")[0] == 200
    finally:
        restarted.stop()


def test_activating_versions_under_load_drops_no_call(tmp_path: Path) -> None:
    engine = start_engine(tmp_path)
    try:
        key, api = make_key(engine, "demo", "business"), Api(engine)
        source = (Path(__file__).resolve().parents[2] / "dialplans" / "vote.yaml").read_text()
        scenario = key_scenario(tmp_path / "load.xml", [(1.5, "5")], caller="+1555300[call_number]")
        load = Background(engine.sip, scenario, service="3838", calls=40, concurrent=20, rate=8, timeout=60,
                          workdir=tmp_path)
        load.start()
        versions = []
        for n in range(6):                                       # a new version every ~0.7 s during the load
            time.sleep(0.7)
            reply = api("POST", "/api/campaigns/talent-vote/versions?activate=1", key,
                        text=source.replace("Welcome to the talent show vote.", f"Welcome, round {n}."),
                        content_type="application/yaml")
            assert reply.status == 201, reply.body
            versions.append(reply.json()["version"])
        load.join(90)
        assert load.result is not None and load.result.successful == 40, load.result and load.result.output
        assert versions == list(range(versions[0], versions[0] + 6))
    finally:
        engine.stop()
    ended = [r for r in engine.call_records() if r["event"] == "call_ended"]
    assert len(ended) == 40 and {r["path"][-1] for r in ended} == {"thanks"}
    assert len(votes(engine.db_url.removeprefix("sqlite:///"))) == 40
