"""Transactions and the user agent, driven with a fake clock and no sockets."""

from __future__ import annotations

from ivr.sip.message import Request, Response, parse_message
from ivr.sip.transaction import Endpoint
from ivr.sip.ua import CallConfirmed, CallEnded, CallOffered, DtmfInfo, SessionModify, UAConfig, UserAgent

PEER = Endpoint("UDP", "10.0.0.9", 5062)
SDP = b"v=0\r\no=- 1 1 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 10.0.0.9\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"


def request(method: str, cseq: int = 1, branch: str = "z9hG4bK1", to_tag: str | None = None,
            body: bytes = b"", extra: str = "", rport: bool = True) -> bytes:
    to = "<sip:3838@127.0.0.1>" + (f";tag={to_tag}" if to_tag else "")
    return (f"{method} sip:3838@127.0.0.1 SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 10.0.0.9:5062;branch={branch}{';rport' if rport else ''}\r\n"
            f"From: <sip:+15550001@10.0.0.9>;tag=caller\r\nTo: {to}\r\nCall-ID: c1\r\n"
            f"CSeq: {cseq} {method}\r\n"
            f"Contact: <sip:caller@10.0.0.9:5062>\r\nMax-Forwards: 70\r\n{extra}"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def sent(ua: UserAgent) -> list[tuple[Request | Response, Endpoint]]:
    return [(parse_message(s.data), s.dest) for s in ua.drain_outgoing()]


def statuses(ua: UserAgent) -> list[int]:
    return [m.status for m, _ in sent(ua) if isinstance(m, Response)]


def answered_call() -> tuple[UserAgent, object, str]:
    ua = UserAgent(UAConfig(host="127.0.0.1", port=5060))
    ua.receive(request("INVITE", body=SDP), PEER, 0.0)
    offered = ua.drain_events()
    assert isinstance(offered[0], CallOffered) and offered[0].offer == SDP
    call = offered[0].call
    assert call.number == "3838" and call.caller == "+15550001"
    ua.answer(call, b"answer-sdp", 0.0)
    out = sent(ua)
    assert [m.status for m, _ in out] == [100, 200]
    ok = out[1][0]
    assert ok.body == b"answer-sdp" and ok.headers.get("Contact") and ok.to_addr.tag
    return ua, call, ok.to_addr.tag


def test_200_retransmitted_with_timer_g_until_ack() -> None:
    ua, call, tag = answered_call()
    times = []
    now = 0.0
    while now < 4.0:
        now = round(now + 0.05, 2)
        ua.poll(now)
        if statuses(ua):
            times.append(now)
    assert times == [0.5, 1.5, 3.5]                       # T1, then doubling
    ua.receive(request("ACK", branch="z9hG4bK2", to_tag=tag), PEER, 3.1)
    assert [type(e) for e in ua.drain_events()] == [CallConfirmed]
    ua.poll(10.0)
    assert statuses(ua) == []


def test_retransmitted_invite_is_absorbed_and_answered_with_last_response() -> None:
    ua, call, tag = answered_call()
    ua.receive(request("INVITE", body=SDP), PEER, 0.2)
    assert statuses(ua) == [200]
    assert ua.drain_events() == []


def test_no_ack_ends_the_call_with_bye() -> None:
    ua, call, tag = answered_call()
    now = 0.0
    while now < 33:
        now += 0.5
        ua.poll(now)
    out = sent(ua)
    byes = {m.cseq for m, _ in out if isinstance(m, Request) and m.method == "BYE"}
    assert len(byes) == 1                                  # one BYE (and its retransmissions)
    assert [e.cause for e in ua.drain_events() if isinstance(e, CallEnded)] == ["no_ack"]


def test_remote_bye_and_unknown_dialog() -> None:
    ua, call, tag = answered_call()
    ua.receive(request("ACK", branch="z9hG4bK2", to_tag=tag), PEER, 0.1)
    ua.drain_events()
    ua.receive(request("BYE", cseq=2, branch="z9hG4bK3", to_tag=tag), PEER, 1.0)
    assert statuses(ua) == [200]
    assert [e.cause for e in ua.drain_events() if isinstance(e, CallEnded)] == ["remote_bye"]
    ua.receive(request("BYE", cseq=3, branch="z9hG4bK4", to_tag=tag), PEER, 1.1)
    assert statuses(ua) == [481]


def test_local_bye_is_retransmitted_with_timer_e_and_times_out_with_timer_f() -> None:
    ua, call, tag = answered_call()
    ua.receive(request("ACK", branch="z9hG4bK2", to_tag=tag), PEER, 0.1)
    ua.hangup(call, 1.0)
    out = sent(ua)
    bye, dest = out[0]
    assert isinstance(bye, Request) and bye.method == "BYE" and dest == PEER
    assert bye.uri == "sip:caller@10.0.0.9:5062"
    assert bye.from_addr.tag == tag and bye.to_addr.tag == "caller"
    assert bye.cseq[1] == "BYE"
    retransmits = []
    now = 1.0
    while now < 40:
        now = round(now + 0.25, 2)
        ua.poll(now)
        if sent(ua):
            retransmits.append(round(now - 1.0, 2))
    assert retransmits[:4] == [0.5, 1.5, 3.5, 7.5]
    assert all(b - a <= 4.0 for a, b in zip(retransmits, retransmits[1:]))   # capped at T2
    assert max(retransmits) < 32.0 and ua.layer.active == 0


def test_cancel_before_answer() -> None:
    ua = UserAgent(UAConfig())
    ua.receive(request("INVITE", body=SDP), PEER, 0.0)
    call = ua.drain_events()[0].call
    sent(ua)
    ua.receive(request("CANCEL"), PEER, 0.5)
    assert sorted(statuses(ua)) == [200, 487]
    assert [e.cause for e in ua.drain_events()] == ["cancelled"]
    ua.receive(request("CANCEL", branch="z9hG4bKnope"), PEER, 0.6)
    assert statuses(ua) == [481]


def test_options_info_reinvite_and_unsupported_methods() -> None:
    ua, call, tag = answered_call()
    ua.receive(request("ACK", branch="z9hG4bK2", to_tag=tag), PEER, 0.1)
    ua.drain_events()
    ua.receive(request("INFO", 2, "z9hG4bK5", tag, b"Signal=10\r\nDuration=160\r\n",
                       "Content-Type: application/dtmf-relay\r\n"), PEER, 1.0)
    ua.receive(request("INFO", 3, "z9hG4bK6", tag, b"7", "Content-Type: application/dtmf\r\n"), PEER, 1.1)
    ua.receive(request("INFO", 4, "z9hG4bK7", tag, b"x", "Content-Type: text/plain\r\n"), PEER, 1.2)
    assert statuses(ua) == [200, 200, 415]
    assert [(e.digit, e.duration_ms) for e in ua.drain_events() if isinstance(e, DtmfInfo)] == [("*", 160), ("7", None)]
    ua.receive(request("INVITE", 5, "z9hG4bK8", tag, SDP), PEER, 2.0)
    modify = ua.drain_events()
    assert isinstance(modify[0], SessionModify)
    ua.accept_modify(call, modify[0].key, b"new-answer", 2.0)
    assert statuses(ua) == [100, 200]
    assert call.state == "confirmed"
    ua.receive(request("INFO", 4, "z9hG4bK9", tag, b"7", "Content-Type: application/dtmf\r\n"), PEER, 2.1)
    assert statuses(ua) == [500]                           # CSeq went backwards
    ua.receive(request("OPTIONS", branch="z9hG4bKa"), PEER, 3.0)
    ua.receive(request("SUBSCRIBE", branch="z9hG4bKb"), PEER, 3.0)
    ua.receive(request("FOO", branch="z9hG4bKc"), PEER, 3.0)
    assert statuses(ua) == [200, 405, 501]
    ua.accepting = False
    ua.receive(request("OPTIONS", branch="z9hG4bKd"), PEER, 3.0)
    out = sent(ua)
    assert out[0][0].status == 503 and out[0][0].headers.get("Retry-After")


def test_responses_go_to_the_via_port_without_rport() -> None:
    ua = UserAgent(UAConfig())
    ua.receive(request("OPTIONS", rport=False), Endpoint("UDP", "10.0.0.9", 40000), 0.0)
    (message, dest), = sent(ua)
    assert dest == Endpoint("UDP", "10.0.0.9", 5062)
    ua.receive(request("OPTIONS", branch="z9hG4bK2"), Endpoint("UDP", "10.0.0.9", 40000), 0.0)
    (message, dest), = sent(ua)
    assert dest == Endpoint("UDP", "10.0.0.9", 40000)


def test_garbage_is_dropped_and_counted_and_calls_still_work() -> None:
    ua = UserAgent(UAConfig())
    for junk in (b"\x00\xff" * 40, b"INVITE sip:x SIP/2.0\r\nVia", b"hello world\r\n\r\n"):
        ua.receive(junk, PEER, 0.0)
    assert ua.stats.unparseable == 3 and sent(ua) == []
    ua.receive(request("INVITE", body=SDP), PEER, 0.0)
    assert isinstance(ua.drain_events()[0], CallOffered)


def test_refer_then_notify_reports_transfer_progress() -> None:
    from ivr.sip.ua import TransferProgress

    ua, call, tag = answered_call()
    ua.receive(request("ACK", branch="z9hG4bK2", to_tag=tag), PEER, 0.1)
    ua.drain_events()
    results = []
    ua.refer(call, "100", 1.0, lambda response, now: results.append(response.status if response else None))
    (refer, dest), = sent(ua)
    assert refer.method == "REFER" and dest == PEER
    assert refer.headers.get("Refer-To") == "<sip:100@127.0.0.1>"
    assert refer.headers.get("Referred-By") == "<sip:3838@127.0.0.1>"
    accepted = (f"SIP/2.0 202 Accepted\r\nVia: {refer.headers.get('Via')}\r\nFrom: {refer.headers.get('From')}\r\n"
                f"To: {refer.headers.get('To')}\r\nCall-ID: c1\r\nCSeq: {refer.headers.get('CSeq')}\r\n"
                "Content-Length: 0\r\n\r\n")
    ua.receive(accepted.encode(), PEER, 1.1)
    assert results == [202]
    ua.receive(request("NOTIFY", 2, "z9hG4bKn", tag, b"SIP/2.0 200 OK\r\n",
                       "Event: refer\r\nSubscription-State: terminated\r\nContent-Type: message/sipfrag\r\n"), PEER, 1.2)
    assert statuses(ua) == [200]
    assert [(e.status, e.final) for e in ua.drain_events() if isinstance(e, TransferProgress)] == [(200, True)]
