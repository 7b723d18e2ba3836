"""Real SIP calls from SIPp to a real `ivr serve` on loopback."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from .conftest import SIPP_DIR, run_sipp, start_engine, stored_outcomes
from .sipp_keys import info_key_scenario, key_scenario, refused_scenario

pytestmark = pytest.mark.integration


def test_acceptance_twenty_calls_vote_with_rfc2833_and_engine_hangs_up(engine, tmp_path: Path) -> None:
    """The issue's acceptance run: 20 calls, 10 at once, key 1 after 2.5 s, the engine sends BYE."""
    result = run_sipp(engine.sip, SIPP_DIR / "uac_dtmf_wait_bye.xml", service="3838", calls=20,
                      concurrent=10, timeout=90, workdir=tmp_path)
    assert result.successful == 20, result.output
    assert result.failed == 0, result.output
    records = [r for r in engine.call_records() if r["event"] == "call_ended"]
    assert len(records) == 20
    assert all(r["digits"].startswith("1") for r in records), records
    assert all(r["cause"] == "flow_end" for r in records), records


def test_options_keepalive_gets_200(engine, tmp_path: Path) -> None:
    result = run_sipp(engine.sip, SIPP_DIR / "options.xml", calls=3, timeout=20, workdir=tmp_path)
    assert result.successful == 3, result.output


def test_cancel_before_answer(tmp_path: Path) -> None:
    engine = start_engine(tmp_path, "--ring", "5")
    try:
        result = run_sipp(engine.sip, SIPP_DIR / "uac_cancel.xml", calls=2, timeout=30, workdir=tmp_path)
        assert result.successful == 2, result.output
        time.sleep(0.5)
        ended = [r for r in engine.call_records() if r["event"] == "call_ended"]
        assert [r["cause"] for r in ended] == ["cancelled", "cancelled"]
    finally:
        engine.stop()


def test_unknown_number_is_answered_not_in_service_and_hung_up(engine, tmp_path: Path) -> None:
    """Like a closed campaign, so that scanners cannot tell numbers in service from the others."""
    scenario = key_scenario(tmp_path / "unknown.xml", [], bye_timeout_ms=20000)
    result = run_sipp(engine.sip, scenario, service="9999", calls=1, timeout=30, workdir=tmp_path)
    assert result.successful == 1, result.output
    [ended] = [r for r in engine.call_records() if r["event"] == "call_ended"]
    assert (ended["number"], ended["campaign"], ended["cause"], ended["path"]) == ("9999", "", "flow_end", ["end"])


def test_reject_mode_answers_unknown_numbers_404_and_known_ones_as_usual(tmp_path: Path) -> None:
    """`--unknown-numbers reject`, for a node behind a trusted carrier trunk: no announcement, 404."""
    engine = start_engine(tmp_path, "--unknown-numbers", "reject")
    try:
        (tmp_path / "unknown").mkdir()
        refused = run_sipp(engine.sip, refused_scenario(tmp_path / "unknown" / "404.xml", 404), service="9999",
                           timeout=30, workdir=tmp_path / "unknown")
        assert refused.successful == 1, refused.output
        known = run_sipp(engine.sip, SIPP_DIR / "uac_dtmf_wait_bye.xml", service="3838", timeout=40,
                         workdir=tmp_path)
        assert known.successful == 1, known.output
        assert b'ivr_calls_total{disposition="unknown_number"} 1' in engine.http_get("/metrics")[1]
    finally:
        engine.stop()
    records = engine.call_records()
    assert [(r["number"], r["status"], r["cause"]) for r in records if r["event"] == "call_rejected"] == [
        ("9999", 404, "unknown_number")]
    assert [(r["number"], r["cause"], r["digits"]) for r in records if r["event"] == "call_ended"] == [
        ("3838", "flow_end", "1")]


def test_invite_offering_only_a_codec_we_lack_gets_488(engine, tmp_path: Path) -> None:
    g729 = "18\n      a=rtpmap:18 G729/8000\n      a=fmtp:18 annexb=no"
    result = run_sipp(engine.sip, refused_scenario(tmp_path / "g729.xml", 488, media=g729), service="3838",
                      timeout=30, workdir=tmp_path)
    assert result.successful == 1, result.output
    assert [(r["status"], r["cause"]) for r in engine.call_records() if r["event"] == "call_rejected"] == [
        (488, "no_common_codec")]


@pytest.mark.parametrize("content_type, body", [("application/dtmf-relay", "Signal=1\nDuration=160"),
                                                ("application/dtmf", "1")], ids=["dtmf-relay", "dtmf"])
def test_vote_by_sip_info_key_is_counted(engine, tmp_path: Path, content_type: str, body: str) -> None:
    """Phones and gateways that send keys in SIP INFO instead of RTP vote like the others."""
    scenario = info_key_scenario(tmp_path / "info.xml", content_type, body, caller="+15554141")
    result = run_sipp(engine.sip, scenario, service="3838", timeout=40, workdir=tmp_path)
    assert result.successful == 1, result.output
    [ended] = [r for r in engine.call_records() if r["event"] == "call_ended"]
    assert (ended["digits"], ended["cause"], ended["path"][-1]) == ("1", "flow_end", "thanks"), ended
    assert stored_outcomes(engine) == [("+15554141", "vote", "talent", "anna")]


def test_fifty_concurrent_calls(engine, tmp_path: Path) -> None:
    result = run_sipp(engine.sip, SIPP_DIR / "uac_dtmf_wait_bye.xml", service="3838", calls=50,
                      concurrent=50, rate=50, timeout=120, workdir=tmp_path)
    assert result.successful == 50, result.output
    status, body = engine.http_get("/metrics")
    assert status == 200
    assert b"ivr_active_calls 0" in body


def test_malformed_messages_do_not_stop_the_engine(engine, tmp_path: Path) -> None:
    """Garbage, truncated and invalid requests get 400 or are dropped; calls still work after."""
    good_head = (
        "OPTIONS sip:3838@127.0.0.1 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{n}\r\n"
        "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:3838@127.0.0.1>\r\n"
        "Call-ID: junk{n}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(1.0)
        port = sock.getsockname()[1]

        def exchange(data: bytes) -> bytes | None:
            sock.sendto(data, ("127.0.0.1", engine.sip_port))
            try:
                return sock.recvfrom(65535)[0]
            except socket.timeout:
                return None

        assert exchange(bytes(range(256)) * 4) is None                      # binary garbage: dropped
        assert exchange(b"INVITE sip:3838@127.0.0.1 SIP/2.0\r\nVia: SIP/2.") is None   # truncated
        reply = exchange((good_head.format(port=port, n=1) + "Content-Length: 50\r\n\r\n").encode())
        assert reply is not None and reply.startswith(b"SIP/2.0 400"), reply
        missing_call_id = good_head.format(port=port, n=2).replace("Call-ID: junk2\r\n", "")
        reply = exchange((missing_call_id + "\r\n").encode())
        assert reply is not None and reply.startswith(b"SIP/2.0 400"), reply
        huge = good_head.format(port=port, n=3) + "X-Big: " + "a" * 70000 + "\r\n\r\n"
        reply = exchange(huge.encode()[:65000])                            # oversize: answered or dropped
        assert reply is None or reply.startswith(b"SIP/2.0 "), reply[:100]
        reply = exchange((good_head.format(port=port, n=4) + "\r\n").encode())
        assert reply is not None and reply.startswith(b"SIP/2.0 200"), reply
    result = run_sipp(engine.sip, SIPP_DIR / "uac_dtmf_wait_bye.xml", calls=1, timeout=30, workdir=tmp_path)
    assert result.successful == 1, result.output


def test_call_over_tcp(engine, tmp_path: Path) -> None:
    result = run_sipp(engine.sip, SIPP_DIR / "uac_dtmf_wait_bye.xml", calls=2, timeout=40, workdir=tmp_path,
                      extra=("-t", "t1"))
    assert result.successful == 2, result.output


def test_reinvites_hold_unhold_no_common_codec_and_refresh_keep_the_call(engine, tmp_path: Path) -> None:
    """The scenario checks each answer (recvonly, sendrecv, 488, an offer in the 200 of the refresh)."""
    result = run_sipp(engine.sip, SIPP_DIR / "uac_reinvite_hold.xml", calls=1, timeout=40, workdir=tmp_path)
    assert result.successful == 1, result.output
    ended = [r for r in engine.call_records() if r["event"] == "call_ended"]
    assert [(r["cause"], r["digits"]) for r in ended] == [("flow_end", "1")]


def test_over_capacity_gets_503_with_retry_after(tmp_path: Path) -> None:
    engine = start_engine(tmp_path, "--max-calls", "2")
    try:
        result = run_sipp(engine.sip, SIPP_DIR / "uac_dtmf_wait_bye.xml", calls=4, concurrent=4, rate=100,
                          timeout=40, workdir=tmp_path)
        assert result.successful == 2, result.output
        assert result.failed == 2, result.output
        assert "503 Service Unavailable" in result.output and "Retry-After: 5" in result.output
    finally:
        engine.stop()
    rejected = [r for r in engine.call_records() if r["event"] == "call_rejected"]
    assert [r["cause"] for r in rejected] == ["over_capacity", "over_capacity"]


def test_silent_caller_is_hung_up_after_rtp_timeout(tmp_path: Path) -> None:
    """A caller whose RTP stops (crashed phone, lost network) is ended by the engine."""
    engine = start_engine(tmp_path, "--rtp-timeout", "2")
    try:
        scenario = tmp_path / "silent.xml"
        text = (SIPP_DIR / "uac_dtmf_wait_bye.xml").read_text()
        start = text.index("  <pause milliseconds=\"2500\"/>")
        end = text.index("  <recv request=\"BYE\"")
        scenario.write_text(text[:start] + text[end:])
        began = time.monotonic()
        result = run_sipp(engine.sip, scenario, calls=1, timeout=30, workdir=tmp_path)
        assert result.successful == 1, result.output
        assert time.monotonic() - began < 10
    finally:
        engine.stop()
    ended = [r for r in engine.call_records() if r["event"] == "call_ended"]
    assert ended[0]["cause"] == "rtp_timeout"
