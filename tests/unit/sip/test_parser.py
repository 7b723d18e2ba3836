"""The SIP parser and serializer."""

from __future__ import annotations

import pytest

from ivr.sip.message import (
    Request, Response, SipFramingError, SipParseError, StreamFramer, check_request, make_response,
    parse_message, parse_name_addr, parse_uri, parse_via,
)

INVITE = (
    "INVITE sip:3838@127.0.0.1:5060 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKabc;rport\r\n"
    "Max-Forwards: 70\r\n"
    'From: "Bob \\"the\\" caller" <sip:+15550001@10.0.0.1>;tag=a1\r\n'
    "To: <sip:3838@127.0.0.1>\r\n"
    "Call-ID: call-1@10.0.0.1\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: <sip:bob@10.0.0.1:5062>\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 4\r\n\r\nv=0\r\n"
)


def test_parses_request_with_quoted_display_name_and_truncates_body_to_content_length() -> None:
    msg = parse_message(INVITE.encode())
    assert isinstance(msg, Request)
    assert msg.method == "INVITE" and msg.uri == "sip:3838@127.0.0.1:5060"
    assert msg.from_addr.display == 'Bob "the" caller'
    assert msg.from_addr.tag == "a1"
    assert msg.cseq == (1, "INVITE")
    assert msg.body == b"v=0\r"
    assert check_request(msg) is None


def test_compact_forms_folding_and_case_insensitive_names() -> None:
    raw = ("OPTIONS sip:3838@h SIP/2.0\r\n"
           "v: SIP/2.0/UDP h1;branch=z9hG4bK1\r\n"
           "VIA: SIP/2.0/TCP h2:5070;branch=z9hG4bK2,\r\n SIP/2.0/UDP h3;branch=z9hG4bK3\r\n"
           "f: <sip:a@h>;tag=x\r\nt: <sip:3838@h>\r\ni: abc\r\n"
           "cseq: 7\r\n\tOPTIONS\r\nl: 0\r\n\r\n")
    msg = parse_message(raw.encode())
    assert [parse_via(v).host for v in msg.headers.get_all("via")] == ["h1", "h2", "h3"]
    assert msg.headers.get("CALL-ID") == "abc"
    assert msg.cseq == (7, "OPTIONS")
    assert check_request(msg) is None


def test_round_trip() -> None:
    msg = parse_message(INVITE.encode())
    again = parse_message(msg.serialize())
    assert again.serialize() == msg.serialize()
    assert b"Content-Length: 4\r\n" in msg.serialize()


@pytest.mark.parametrize("data", [
    b"", b"\x00\x01\x02garbage", b"INVITE\r\n\r\n", b"SIP/2.0 99 Low\r\n\r\n",
    b"INVITE sip:a@b SIP/2.0\r\nBad Header Line\r\n\r\n",
])
def test_unparseable_raises(data: bytes) -> None:
    with pytest.raises(SipParseError):
        parse_message(data)


@pytest.mark.parametrize("mutate, status, reason", [
    (lambda s: s.replace("Call-ID: call-1@10.0.0.1\r\n", ""), 400, "Missing Call-ID header"),
    (lambda s: s.replace("To: <sip:3838@127.0.0.1>\r\n", ""), 400, "Missing To header"),
    (lambda s: s.replace("CSeq: 1 INVITE", "CSeq: 1 BYE"), 400, "CSeq method does not match request method"),
    (lambda s: s.replace("CSeq: 1 INVITE", "CSeq: x INVITE"), 400, "Malformed CSeq"),
    (lambda s: s.replace("Content-Length: 4", "Content-Length: 400"), 400, "Content-Length larger than body"),
    (lambda s: s.replace("INVITE sip:3838@127.0.0.1:5060 SIP/2.0", "INVITE sip:3838@127.0.0.1 SIP/7.0"), 505,
     "Version Not Supported"),
    (lambda s: s.replace("INVITE sip:3838@127.0.0.1:5060", "INVITE mailto:x@y"), 416, "Unsupported URI Scheme"),
])
def test_invalid_requests_get_the_right_error(mutate, status: int, reason: str) -> None:
    msg = parse_message(mutate(INVITE).encode())
    invalid = check_request(msg)
    assert invalid is not None and (invalid.status, invalid.reason) == (status, reason)


def test_response_copies_dialog_headers_and_adds_to_tag() -> None:
    request = parse_message(INVITE.encode())
    response = make_response(request, 200, to_tag="t9", headers=[("Contact", "<sip:3838@127.0.0.1>")])
    parsed = parse_message(response.serialize())
    assert isinstance(parsed, Response) and parsed.status == 200 and parsed.reason == "OK"
    assert parsed.to_addr.tag == "t9"
    assert parsed.headers.get("Via") == request.headers.get("Via")
    assert parsed.call_id == request.call_id


def test_uri_and_ipv6() -> None:
    uri = parse_uri("sip:3838@[2001:db8::1]:5070;transport=tcp")
    assert (uri.user, uri.host, uri.port, uri.params["transport"]) == ("3838", "[2001:db8::1]", 5070, "tcp")
    via = parse_via("SIP/2.0/UDP [::1]:5060;branch=z9hG4bKx;received=::1")
    assert via.host == "[::1]" and via.port == 5060 and via.branch == "z9hG4bKx"
    assert parse_name_addr("sip:bob@h;tag=1").tag == "1"


def test_tcp_framing_split_coalesced_and_keepalive() -> None:
    one = parse_message(INVITE.encode()).serialize()
    framer = StreamFramer()
    assert framer.feed(one[:30]) == []
    assert framer.feed(one[30:] + b"\r\n\r\n" + one + one[:10]) == [one, one]
    assert framer.keepalives == 1
    assert framer.feed(one[10:]) == [one]


def test_tcp_framing_needs_content_length() -> None:
    with pytest.raises(SipFramingError):
        StreamFramer().feed(b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n\r\n")
