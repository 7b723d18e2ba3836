"""Calls we place, sans-I/O: the INVITE, digest on 407, provisional responses reported, the 2xx ACKed end to
end (its retransmissions too), final errors ACKed by the transaction and mapped to busy/no_answer/failed,
CANCEL only after a provisional response, Timer B without any answer."""

from __future__ import annotations

from ivr.sip.message import Request, Response, make_response, parse_message
from ivr.sip.transaction import Endpoint, Timers
from ivr.sip.ua import (CallEnded, CallProgress, Credentials, OutgoingAnswered, UAConfig, UserAgent,
                        failure_cause)

TRUNK = Endpoint("UDP", "127.0.0.9", 5070)
SDP = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
CHALLENGE = 'Digest realm="carrier.test", nonce="abc123", algorithm=MD5'


def placed(credentials: Credentials | None = None, asserted: str | None = None):
    ua = UserAgent(UAConfig(host="127.0.0.1", port=5060))
    call = ua.invite(target="sip:+380501110001@carrier.test", from_uri="sip:7070@carrier.test", dest=TRUNK,
                     sdp=SDP, now=0.0, credentials=credentials, asserted=asserted, number="7070",
                     callee="+380501110001")
    return ua, call


def sent(ua: UserAgent) -> list[Request | Response]:
    out = []
    for s in ua.drain_outgoing():
        assert s.dest == TRUNK
        out.append(parse_message(s.data))
    return out


def reply(ua: UserAgent, request: Request, status: int, now: float, tag: str = "far", **kw) -> None:
    ua.receive(make_response(request, status, to_tag=tag, **kw).serialize(), TRUNK, now)


def test_invite_answered_is_acked_and_confirmed_with_the_callees_answer() -> None:
    ua, call = placed(asserted="sip:7070@carrier.test")
    [invite] = sent(ua)
    assert invite.method == "INVITE" and invite.uri == "sip:+380501110001@carrier.test"
    assert invite.headers.get("P-Asserted-Identity") == "<sip:7070@carrier.test>"
    assert invite.body == SDP and "7070@" in (invite.headers.get("Contact") or "")
    reply(ua, invite, 180, 0.1)
    assert [type(e) for e in ua.drain_events()] == [CallProgress]
    reply(ua, invite, 200, 0.5, body=SDP, headers=[("Contact", "<sip:phone@127.0.0.2:5080>"),
                                                   ("Record-Route", "<sip:127.0.0.9:5070;lr>")])
    [ack] = sent(ua)
    assert ack.method == "ACK" and ack.uri == "sip:phone@127.0.0.2:5080" and ack.cseq == (invite.cseq[0], "ACK")
    assert ack.headers.get("Route") == "<sip:127.0.0.9:5070;lr>" and ack.to_addr.tag == "far"
    [answered] = ua.drain_events()
    assert isinstance(answered, OutgoingAnswered) and answered.answer == SDP and call.state == "confirmed"
    reply(ua, invite, 200, 1.0, body=SDP)                   # a retransmitted 2xx: ACKed again, nothing new
    assert [m.method for m in sent(ua)] == ["ACK"] and ua.drain_events() == []
    ua.hangup(call, 2.0)
    [bye] = sent(ua)
    assert bye.method == "BYE" and bye.headers.get("Route") == "<sip:127.0.0.9:5070;lr>"


def test_a_proxy_challenge_is_answered_once_with_the_credentials() -> None:
    ua, call = placed(Credentials("ivr", "secret"))
    [invite] = sent(ua)
    reply(ua, invite, 407, 0.1, headers=[("Proxy-Authenticate", CHALLENGE)])
    ack, again = sent(ua)
    assert ack.method == "ACK" and ack.headers.get_all("Via") == invite.headers.get_all("Via")
    assert again.method == "INVITE" and again.cseq[0] == invite.cseq[0] + 1 and again.call_id == invite.call_id
    assert again.from_addr.tag == invite.from_addr.tag and again.top_via.branch != invite.top_via.branch
    auth = again.headers.get("Proxy-Authorization") or ""
    assert auth.startswith("Digest ") and 'username="ivr"' in auth and 'realm="carrier.test"' in auth
    reply(ua, again, 407, 0.2, headers=[("Proxy-Authenticate", CHALLENGE)])     # refused: no second try
    assert [m.method for m in sent(ua)] == ["ACK"]
    [ended] = ua.drain_events()
    assert isinstance(ended, CallEnded) and ended.cause == "failed" and ended.status == 407


def test_busy_and_no_answer_statuses() -> None:
    ua, call = placed()
    [invite] = sent(ua)
    reply(ua, invite, 486, 0.1)
    assert [m.method for m in sent(ua)] == ["ACK"]
    [ended] = ua.drain_events()
    assert (ended.cause, ended.status) == ("busy", 486)
    assert [failure_cause(s) for s in (486, 600, 480, 408, 487, 503, None)] == [
        "busy", "busy", "no_answer", "no_answer", "no_answer", "failed", "failed"]


def test_cancel_waits_for_a_provisional_response() -> None:
    ua, call = placed()
    [invite] = sent(ua)
    ua.hangup(call, 0.1)
    assert sent(ua) == []                                  # no CANCEL before a provisional response
    reply(ua, invite, 180, 0.2)
    [cancel] = sent(ua)
    assert cancel.method == "CANCEL" and cancel.top_via.branch == invite.top_via.branch
    assert cancel.cseq == (invite.cseq[0], "CANCEL")
    assert ua.drain_events() == []                         # the ringing is not reported after our hang-up
    reply(ua, invite, 487, 0.3)
    assert [m.method for m in sent(ua)] == ["ACK"]
    [ended] = ua.drain_events()
    assert ended.cause == "cancelled_by_us"


def test_a_2xx_crossing_our_cancel_is_acked_then_ended_with_bye() -> None:
    ua, call = placed()
    [invite] = sent(ua)
    reply(ua, invite, 180, 0.1)
    assert [type(e) for e in ua.drain_events()] == [CallProgress]
    ua.hangup(call, 0.2)
    assert [m.method for m in sent(ua)] == ["CANCEL"]
    reply(ua, invite, 200, 0.3, body=SDP, headers=[("Contact", "<sip:phone@127.0.0.2:5080>")])
    assert [m.method for m in sent(ua)] == ["ACK", "BYE"]
    [ended] = ua.drain_events()
    assert ended.cause == "cancelled_by_us"


def test_no_answer_at_all_times_out_after_timer_b() -> None:
    ua, call = placed()
    [invite] = sent(ua)
    ua.poll(0.6)
    assert [m.method for m in sent(ua)] == ["INVITE"]      # Timer A retransmits
    ua.poll(64 * Timers().t1 + 0.1)
    [ended] = ua.drain_events()
    assert ended.cause == "failed" and call.state == "ended"
