"""Parser, serializer, request checks, response building and TCP framing (ivr.sip.message)."""

from __future__ import annotations

import pytest

from ivr.sip.message import (
    MAX_HEADERS, MAX_LINE, MAX_MESSAGE_SIZE, SipMessageTooLarge, StreamMessageTooLarge, Headers, Request, Response, SipFramingError, SipParseError, StreamFramer,
    check_request, make_response, parse_message, parse_name_addr, parse_uri, parse_via, split_list,
)

from .sipkit import SDP_OFFER, invite, sip_request


def crlf(text: str) -> bytes:
    """Test messages are written with \\n line ends; SIP wants CRLF."""
    return text.replace("\n", "\r\n").encode()


def parse_request(data: bytes) -> Request:
    message = parse_message(data)
    assert isinstance(message, Request)
    return message


# --- header fields -------------------------------------------------------------------------------

def test_compact_forms_are_expanded() -> None:
    req = parse_request(crlf(
        "INVITE sip:3838@127.0.0.1 SIP/2.0\n"
        "v: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-c1\n"
        "f: <sip:alice@127.0.0.1>;tag=a\n"
        "t: <sip:3838@127.0.0.1>\n"
        "i: compact-1\n"
        "CSeq: 1 INVITE\n"
        "m: <sip:alice@127.0.0.1:5070>\n"
        "c: application/sdp\n"
        "k: timer\n"
        "l: 4\n\nv=0\n"))
    assert req.top_via.branch == "z9hG4bK-c1"
    assert req.from_addr.tag == "a"
    assert req.call_id == "compact-1"
    assert req.headers.get("Contact") == "<sip:alice@127.0.0.1:5070>"
    assert req.headers.get("Content-Type") == "application/sdp"
    assert req.headers.get("Supported") == "timer"
    assert req.body == b"v=0\r"          # l: 4 frames exactly four bytes
    assert check_request(req) is None
    wire = req.serialize().decode()
    assert "\r\nVia: SIP/2.0/UDP" in wire and "\r\nCall-ID: compact-1\r\n" in wire
    assert "\r\nv:" not in wire


def test_header_names_are_case_insensitive() -> None:
    req = parse_request(crlf(
        "OPTIONS sip:3838@127.0.0.1 SIP/2.0\n"
        "vIA: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-ci\n"
        "FROM: <sip:alice@127.0.0.1>;tag=a\n"
        "to: <sip:3838@127.0.0.1>\n"
        "call-id: ci-1\n"
        "cseq: 7 OPTIONS\n"
        "content-LENGTH: 0\n\n"))
    assert req.headers.get("CALL-ID") == "ci-1"
    assert req.headers.get("i") == "ci-1"
    assert "Cseq" in req.headers and "Route" not in req.headers
    assert req.cseq == (7, "OPTIONS")
    assert check_request(req) is None


def test_folded_header_lines_are_joined() -> None:
    req = parse_request(crlf(
        "OPTIONS sip:3838@127.0.0.1 SIP/2.0\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5070\n"
        "   ;branch=z9hG4bK-fold\n"
        "From: <sip:alice@127.0.0.1>;tag=a\n"
        "To: <sip:3838@127.0.0.1>\n"
        "Subject: I know you're there,\n"
        "\tpick up the phone\n"
        "   and talk to me!\n"
        "Call-ID: fold-1\n"
        "CSeq: 1 OPTIONS\n\n"))
    assert req.headers.get("Subject") == "I know you're there, pick up the phone and talk to me!"
    assert req.top_via.branch == "z9hG4bK-fold"
    assert check_request(req) is None


def test_comma_lists_and_repeated_fields_give_all_values_in_order() -> None:
    req = parse_request(crlf(
        "INVITE sip:3838@127.0.0.1 SIP/2.0\n"
        "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1, SIP/2.0/TCP 10.0.0.2;branch=z9hG4bK-2\n"
        "Via: SIP/2.0/UDP 10.0.0.3:5062;branch=z9hG4bK-3\n"
        "Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\n"
        "Contact: \"Doe, John <boss>\" <sip:john@10.0.0.1>;q=0.5, <sip:john@10.0.0.9>\n"
        "Date: Sat, 13 Nov 2010 23:29:00 GMT\n"
        "From: <sip:alice@127.0.0.1>;tag=a\nTo: <sip:3838@127.0.0.1>\n"
        "Call-ID: lists\nCSeq: 1 INVITE\n\n"))
    vias = [parse_via(v) for v in req.headers.get_all("Via")]
    assert [v.branch for v in vias] == ["z9hG4bK-1", "z9hG4bK-2", "z9hG4bK-3"]
    assert [v.transport for v in vias] == ["UDP", "TCP", "UDP"]
    assert req.top_via.host == "10.0.0.1"
    assert req.headers.get_all("Record-Route") == ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]
    contacts = [parse_name_addr(c) for c in req.headers.get_all("Contact")]
    assert [c.display for c in contacts] == ["Doe, John <boss>", None]
    assert contacts[0].params == {"q": "0.5"}
    assert req.headers.get_all("Date") == ["Sat, 13 Nov 2010 23:29:00 GMT"]   # not a list header


def test_split_list_respects_quotes_escapes_and_angle_brackets() -> None:
    assert split_list('"a \\", b" <sip:x@h>, <sip:y@h;p=1,2>, z') == ['"a \\", b" <sip:x@h>', "<sip:y@h;p=1,2>", "z"]


def test_headers_set_replaces_every_field_in_place() -> None:
    headers = Headers([("Via", "a"), ("X-One", "1"), ("v", "b")])
    headers.set("VIA", "c")
    assert list(headers) == [("Via", "c"), ("X-One", "1")]
    headers.remove("x-one")
    assert list(headers) == [("Via", "c")]


# --- display names, URIs, Via ----------------------------------------------------------------------

@pytest.mark.parametrize("text, display", [
    ('"Bob \\"the\\" Builder" <sip:bob@h>;tag=1', 'Bob "the" Builder'),
    ('"back\\\\slash" <sip:bob@h>;tag=1', "back\\slash"),
    ('"semi; colon, comma <x>" <sip:bob@h>;tag=1', "semi; colon, comma <x>"),
    ('Bob  Smith <sip:bob@h>;tag=1', "Bob  Smith"),
    ('"" <sip:bob@h>;tag=1', ""),
    ('<sip:bob@h>;tag=1', None),
    ('sip:bob@h;tag=1', None),
])
def test_display_names(text: str, display: str | None) -> None:
    addr = parse_name_addr(text)
    assert addr.display == display
    assert addr.uri == "sip:bob@h"
    assert addr.tag == "1"
    again = parse_name_addr(str(addr))
    assert (again.display or None, again.uri, again.params) == (addr.display or None, addr.uri, addr.params)


def test_addr_spec_params_belong_to_the_header_and_uri_params_stay_in_brackets() -> None:
    assert parse_name_addr("<sip:bob@h;transport=tcp>;tag=9").params == {"tag": "9"}
    assert parse_name_addr("<sip:bob@h;transport=tcp>;tag=9").uri == "sip:bob@h;transport=tcp"


@pytest.mark.parametrize("text", ['"unterminated <sip:bob@h>', "<sip:bob@h", '"Bob" sip:bob@h', "no uri here"])
def test_bad_name_addr(text: str) -> None:
    with pytest.raises(SipParseError):
        parse_name_addr(text)


def test_ipv6_hosts_in_uri_and_via() -> None:
    uri = parse_uri("sip:alice:secret@[2001:DB8::10]:5070;transport=udp;lr?subject=hi")
    assert (uri.user, uri.password, uri.host, uri.port) == ("alice", "secret", "[2001:db8::10]", 5070)
    assert uri.params == {"transport": "udp", "lr": None}
    assert uri.headers == "subject=hi"
    assert parse_uri(str(uri)) == uri
    assert parse_uri("sip:[::1]").host == "[::1]" and parse_uri("sip:[::1]").port is None
    via = parse_via("SIP/2.0/UDP [2001:db8::9]:5060;branch=z9hG4bK-v6;rport")
    assert (via.host, via.port, via.branch, via.params["rport"]) == ("[2001:db8::9]", 5060, "z9hG4bK-v6", None)
    assert parse_via(str(via)) == via


@pytest.mark.parametrize("text", ["sip:[2001:db8::1", "sip:[::1]x", "sip:host:99999", "sip:host:port",
                                  "sip:", "http://example.com", "alice@example.com"])
def test_bad_uris(text: str) -> None:
    with pytest.raises(SipParseError):
        parse_uri(text)


def test_via_with_unusual_spacing() -> None:
    via = parse_via("SIP  /  2.0  /  udp   192.0.2.1 : 5070 ;branch=z9hG4bK-ws ; received=1.2.3.4")
    assert (via.transport, via.host, via.port) == ("UDP", "192.0.2.1", 5070)
    assert via.params == {"branch": "z9hG4bK-ws", "received": "1.2.3.4"}


# --- Content-Length and framing of datagrams --------------------------------------------------------

def test_udp_body_longer_than_content_length_is_truncated() -> None:
    req = parse_request(invite(body=b"").replace(b"Content-Length: 0", b"Content-Length: 5") + b"v=0\r\nextra")
    assert req.body == b"v=0\r\n"
    assert check_request(req) is None


def test_udp_body_shorter_than_content_length_is_a_400() -> None:
    data = invite().replace(b"Content-Length: %d" % len(SDP_OFFER), b"Content-Length: 999")
    req = parse_request(data)
    invalid = check_request(req)
    assert invalid is not None and invalid.status == 400
    assert "Content-Length" in invalid.reason


@pytest.mark.parametrize("value", ["-5", "abc", "1.5", ""])
def test_malformed_content_length_is_a_400(value: str) -> None:
    req = parse_request(invite().replace(b"Content-Length: %d" % len(SDP_OFFER), f"Content-Length: {value}".encode()))
    invalid = check_request(req)
    assert invalid is not None and (invalid.status, invalid.reason) == (400, "Malformed Content-Length")


def test_missing_content_length_takes_the_rest_of_the_datagram() -> None:
    data = invite().replace(b"Content-Length: %d\r\n" % len(SDP_OFFER), b"")
    req = parse_request(data)
    assert req.body == SDP_OFFER
    assert check_request(req) is None


def test_bare_lf_line_ends_are_tolerated() -> None:
    body = b"v=0\r\n\r\nnot a header: x\n"
    req = parse_request(invite(body=body).replace(b"\r\n", b"\n", 11))
    assert (req.method, req.call_id, req.cseq) == ("INVITE", "call-1@127.0.0.1", (1, "INVITE"))
    assert req.body == body
    assert check_request(req) is None


def test_round_trip_parse_serialize_parse() -> None:
    original = parse_request(invite(headers=(("Record-Route", "<sip:p1;lr>, <sip:p2;lr>"),
                                             ("X-Unknown", "weird ; value, \"x\""))))
    wire = original.serialize()
    again = parse_request(wire)
    assert (again.method, again.uri, again.version) == (original.method, original.uri, original.version)
    assert list(again.headers) == list(original.headers)
    assert again.body == original.body == SDP_OFFER
    assert again.serialize() == wire


def test_serialize_fixes_content_length() -> None:
    req = parse_request(invite())
    req.body = b"short"
    assert b"\r\nContent-Length: 5\r\n\r\nshort" in req.serialize()


def test_response_parsing() -> None:
    resp = parse_message(crlf("SIP/2.0 183 Session  Progress here\nVia: SIP/2.0/UDP h;branch=z9hG4bK-r\n"
                              "CSeq: 3 BYE\nContent-Length: 0\n\n"))
    assert isinstance(resp, Response)
    assert (resp.status, resp.reason, resp.cseq) == (183, "Session  Progress here", (3, "BYE"))
    assert parse_message(b"SIP/2.0 200\r\n\r\n").reason == ""     # type: ignore[union-attr]


@pytest.mark.parametrize("data", [
    b"", b"\r\n\r\n", b"\x00\x01\x02\xff\xfe garbage \x80",
    b"INVITE sip:3838@127.0.0.1\r\n\r\n",                                   # no version
    b"INVITE sip:3838@127.0.0.1 HTTP/1.1\r\n\r\n",
    b"INV(TE sip:3838@127.0.0.1 SIP/2.0\r\n\r\n",                           # method not a token
    b"INVITE sip:3838@127.0.0.1 SIP/2.0\r\nVia SIP/2.0/UDP h\r\n\r\n",       # no colon
    b"INVITE sip:3838@127.0.0.1 SIP/2.0\r\nBad Name: x\r\n\r\n",
    b"INVITE sip:3838@127.0.0.1 SIP/2.0\r\nTo: <sip:a\x00b@h>\r\n\r\n",
    b"SIP/2.0 2000 OK\r\n\r\n", b"SIP/2.0 099 Low\r\n\r\n", b"SIP/2.0 700 High\r\n\r\n",
    b"SIP/2.0 OK\r\n\r\n",
    b"OPTIONS sip:h SIP/2.0\r\nX-Big: " + b"a" * MAX_MESSAGE_SIZE + b"\r\n\r\n",
])
def test_unparseable_messages_raise(data: bytes) -> None:
    with pytest.raises(SipParseError):
        parse_message(data)


# --- request checks ---------------------------------------------------------------------------------

@pytest.mark.parametrize("header", ["To", "From", "Call-ID", "CSeq", "Via"])
def test_missing_mandatory_header_is_a_400_naming_it(header: str) -> None:
    req = parse_request(invite())
    req.headers.remove(header)
    invalid = check_request(req)
    assert invalid is not None and invalid.status == 400
    assert header in invalid.reason


@pytest.mark.parametrize("cseq, reason", [
    ("1 BYE", "CSeq method does not match request method"),
    ("one INVITE", "Malformed CSeq"),
    ("-1 INVITE", "Malformed CSeq"),
    ("2147483648 INVITE", "Malformed CSeq"),
    ("1", "Malformed CSeq"),
])
def test_bad_cseq_is_a_400(cseq: str, reason: str) -> None:
    req = parse_request(invite())
    req.headers.set("CSeq", cseq)
    assert check_request(req) is not None
    assert (check_request(req).status, check_request(req).reason) == (400, reason)  # type: ignore[union-attr]


def test_largest_cseq_is_accepted() -> None:
    req = parse_request(invite())
    req.headers.set("CSeq", "2147483647 INVITE")
    assert check_request(req) is None


@pytest.mark.parametrize("version", ["SIP/7.0", "SIP/1.0"])
def test_other_protocol_version_is_a_505(version: str) -> None:
    req = parse_request(invite().replace(b" SIP/2.0\r\n", f" {version}\r\n".encode(), 1))
    assert check_request(req).status == 505   # type: ignore[union-attr]


def test_protocol_name_is_case_insensitive() -> None:
    assert check_request(parse_request(invite().replace(b" SIP/2.0\r\n", b" sip/2.0\r\n", 1))) is None


@pytest.mark.parametrize("uri, status", [
    ("nobodyKnowsThisScheme:totallyopaquecontent", 416), ("mailto:alice@example.com", 416),
    ("http://example.com/3838", 416), ("sip:", 400), ("sip:3838@[::1", 400), ("tel:+3838", None),
    ("SIP:3838@127.0.0.1", None), ("sips:3838@127.0.0.1:5061", None),
])
def test_request_uri_checks(uri: str, status: int | None) -> None:
    invalid = check_request(parse_request(invite(uri=uri)))
    assert (invalid.status if invalid else None) == status


@pytest.mark.parametrize("name", ["To", "From", "Call-ID", "CSeq", "Content-Type"])
def test_duplicated_single_headers_are_a_400(name: str) -> None:
    req = parse_request(invite())
    req.headers.add(name, req.headers.get(name) or "x")
    assert check_request(req).reason == f"Multiple {name} headers"   # type: ignore[union-attr]


@pytest.mark.parametrize("name, value", [
    ("From", '"Alice <sip:alice@h>'), ("To", "<sip:3838@h"), ("Via", "SIP/2.0/UDP"),
    ("Max-Forwards", "seventy"),
])
def test_malformed_headers_are_a_400(name: str, value: str) -> None:
    req = parse_request(invite())
    req.headers.set(name, value)
    assert check_request(req).status == 400   # type: ignore[union-attr]


def test_malformed_second_via_is_a_400() -> None:
    req = parse_request(invite())
    req.headers.add("Via", "garbage")
    assert check_request(req).status == 400   # type: ignore[union-attr]


# --- responses ----------------------------------------------------------------------------------------

def test_make_response_copies_identity_and_adds_to_tag() -> None:
    req = parse_request(invite(headers=(("Via", "SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-p"),
                                        ("Record-Route", "<sip:p1;lr>"), ("Record-Route", "<sip:p2;lr>"))))
    ok = parse_message(make_response(req, 200, to_tag="ours", headers=[("Contact", "<sip:3838@h>")],
                                     body=b"v=0\r\n").serialize())
    assert isinstance(ok, Response)
    assert (ok.status, ok.reason) == (200, "OK")
    assert ok.headers.get_all("Via") == req.headers.get_all("Via")
    assert ok.headers.get("From") == req.headers.get("From")
    assert ok.to_addr.tag == "ours" and ok.to_addr.uri == req.to_addr.uri
    assert (ok.call_id, ok.cseq) == (req.call_id, req.cseq)
    assert ok.headers.get_all("Record-Route") == ["<sip:p1;lr>", "<sip:p2;lr>"]
    assert ok.headers.get("Contact") == "<sip:3838@h>" and ok.body == b"v=0\r\n"


def test_make_response_keeps_existing_to_tag_and_none_on_100() -> None:
    tagged = parse_request(sip_request("BYE", to_tag="theirs"))
    assert make_response(tagged, 200, to_tag="ours").to_addr.tag == "theirs"
    trying = make_response(parse_request(invite()), 100, to_tag="ours")
    assert trying.to_addr.tag is None and "Record-Route" not in trying.headers


def test_make_response_omits_missing_headers() -> None:
    req = parse_request(invite())
    req.headers.remove("CSeq")
    resp = make_response(req, 400, "Missing CSeq header")
    assert "CSeq" not in resp.headers and resp.reason == "Missing CSeq header"
    assert parse_message(resp.serialize()).call_id == req.call_id


# --- TCP framing --------------------------------------------------------------------------------------

def test_stream_framer_reassembles_byte_by_byte() -> None:
    framer = StreamFramer()
    data = invite()
    out: list[bytes] = []
    for i in range(len(data)):
        out += framer.feed(data[i:i + 1])
        assert out == [] or i == len(data) - 1
    assert out == [data]


def test_stream_framer_splits_coalesced_messages() -> None:
    framer = StreamFramer()
    first, second = invite(), sip_request("BYE", to_tag="x", cseq=2)
    assert framer.feed(first + second + second[:10]) == [first, second]
    assert framer.feed(second[10:]) == [second]


def test_stream_framer_counts_crlf_keepalives() -> None:
    framer = StreamFramer()
    msg = sip_request("OPTIONS")
    assert framer.feed(b"\r\n\r\n") == []
    assert framer.keepalives == 1
    assert framer.feed(b"\r\n") == [] and framer.feed(b"\r\n" + msg + b"\r\n\r\n") == [msg]
    assert framer.keepalives == 3
    assert framer.feed(b"\r\n" + msg) == [msg]          # a lone CRLF before a message is no ping
    assert framer.keepalives == 3


def test_stream_framer_frames_compact_content_length_and_body() -> None:
    data = invite().replace(b"Content-Length:", b"l:")
    assert StreamFramer().feed(data) == [data]


@pytest.mark.parametrize("data", [
    invite().replace(b"Content-Length: %d\r\n" % len(SDP_OFFER), b""),
    invite().replace(b"Content-Length: %d" % len(SDP_OFFER), b"Content-Length: -1"),
    invite().replace(b"Content-Length: %d" % len(SDP_OFFER), b"Content-Length: %d" % MAX_MESSAGE_SIZE),
    b"INVITE sip:x SIP/2.0\r\nX: " + b"a" * (MAX_MESSAGE_SIZE + 1),
])
def test_stream_framer_rejects_unframeable_streams(data: bytes) -> None:
    with pytest.raises(SipFramingError):
        StreamFramer().feed(data)


def test_stream_framer_gives_the_header_section_of_an_oversized_message() -> None:
    data = invite().replace(b"Content-Length: %d" % len(SDP_OFFER), b"Content-Length: %d" % MAX_MESSAGE_SIZE)
    with pytest.raises(StreamMessageTooLarge) as raised:
        StreamFramer().feed(data)
    assert raised.value.head == data[:data.index(b"\r\n\r\n")]


# --- limits and recognisable but malformed requests -------------------------------------------------

def refusal(data: bytes) -> tuple[int, str] | None:
    invalid = check_request(parse_request(data))
    return (invalid.status, invalid.reason) if invalid else None


def with_start_line(line: bytes) -> bytes:
    options = sip_request("OPTIONS")
    return line + options[options.index(b"\r\n"):]


@pytest.mark.parametrize("line", [
    b"OPTIONS  sip:3838@127.0.0.1  SIP/2.0",           # RFC 4475 lwsstart
    b"OPTIONS sip:3838@127.0.0.1 SIP/2.0  ",           # RFC 4475 trws
    b"OPTIONS sip:3838@127.0.0.1; lr SIP/2.0",         # RFC 4475 lwsruri
])
def test_a_recognisable_but_malformed_request_line_is_a_400(line: bytes) -> None:
    assert refusal(with_start_line(line)) == (400, "Malformed Request-Line")


def test_header_count_limit() -> None:
    extra = MAX_HEADERS - 7                            # sip_request has seven fields of its own
    assert refusal(sip_request("OPTIONS", contact=None, headers=(("X-H", "1"),) * extra)) is None
    assert refusal(sip_request("OPTIONS", contact=None, headers=(("X-H", "1"),) * (extra + 1))) == (
        400, "Too Many Header Fields")


def test_header_line_limit_counts_the_unfolded_line() -> None:
    value = "a" * (MAX_LINE - len("X-Long: "))
    assert refusal(sip_request("OPTIONS", headers=(("X-Long", value),))) is None
    assert refusal(sip_request("OPTIONS", headers=(("X-Long", value + "a"),))) == (400, "Header Field Too Long")
    folded = value[:100] + "\r\n " + value[100:]        # unfolding adds a space: one octet over
    assert refusal(sip_request("OPTIONS", headers=(("X-Long", folded),))) == (400, "Header Field Too Long")


def test_an_overlong_request_uri_is_a_414() -> None:
    uri = b"sip:" + b"3" * MAX_LINE + b"@127.0.0.1"
    assert refusal(with_start_line(b"OPTIONS " + uri + b" SIP/2.0")) == (414, "Request-URI Too Long")


def test_an_oversized_message_keeps_its_header_section_for_the_513() -> None:
    data = invite(body=b"v=0\r\n" + b"a=x\r\n" * (MAX_MESSAGE_SIZE // 5))
    with pytest.raises(SipMessageTooLarge) as raised:
        parse_message(data)
    assert raised.value.head == data[:data.index(b"\r\n\r\n")]
    with pytest.raises(SipMessageTooLarge) as raised:
        parse_message(b"OPTIONS sip:h SIP/2.0\r\nX: " + b"a" * MAX_MESSAGE_SIZE + b"\r\n\r\n")
    assert raised.value.head is None                   # no header section within the limit


@pytest.mark.parametrize("text", [
    "Bell, Alexander <sip:a.g.bell@example.com>;tag=43",          # RFC 4475 baddn
    "sip:user@example.com?Route=%3Csip:sip.example.com%3E",        # RFC 4475 regbadct
])
def test_name_addr_forms_rfc_3261_forbids(text: str) -> None:
    with pytest.raises(SipParseError):
        parse_name_addr(text)


def test_an_unquoted_display_name_may_be_non_ascii_words() -> None:
    assert parse_name_addr("Иван Петров <sip:ivan@example.com>;tag=1").display == "Иван Петров"


def test_user_part_may_hold_question_marks_colons_and_semicolons() -> None:
    uri = parse_uri("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too."
                    "(doesn't-it)@example.com")
    assert (uri.user, uri.host, uri.headers) == ("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*", "example.com",
                                                 None)
    assert uri.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"
    assert parse_uri("sip:user@example.com?Route=%3Csip:example.com%3E").headers == "Route=%3Csip:example.com%3E"


def test_nul_only_as_a_quoted_pair() -> None:
    ok = sip_request("OPTIONS").replace(b'"Alice"', b'"A\\\x00lice"')
    assert parse_request(ok).from_addr.display == "A\x00lice"
    with pytest.raises(SipParseError):
        parse_message(sip_request("OPTIONS").replace(b'"Alice"', b'"A\x00lice"'))


@pytest.mark.parametrize("old, new, status, reason", [
    (b"Content-Length: 0", "Content-Length: \u00b2".encode(), 400, "Malformed Content-Length"),
    (b"CSeq: 1 OPTIONS", "CSeq: \u00b2 OPTIONS".encode(), 400, "Malformed CSeq"),
    (b"Max-Forwards: 70", "Max-Forwards: \u0663".encode(), 400, "Malformed Max-Forwards"),
    (b"sip:3838@127.0.0.1:5060", "sip:3838@127.0.0.1:\u00b2".encode(), 400, "Malformed Request-URI"),
])
def test_digits_other_than_ascii_are_not_numbers(old: bytes, new: bytes, status: int, reason: str) -> None:
    assert refusal(sip_request("OPTIONS").replace(old, new)) == (status, reason)
