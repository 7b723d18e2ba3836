"""RFC 4475 (SIP torture) and RFC 5118 (IPv6 torture) messages fed to the sans-I/O user agent.

Every message file gets the outcome in `EXPECTED`: `offer` (a CallOffered event and 100 Trying;
the engine then answers 404 as none of these Request-URIs is a short number), a final status
with its reason phrase, or `drop` (nothing sent, no event). The comment says what the RFC asks
of a UAS and, where it allows more than one answer, which one we give and why. After each file the
same user agent still takes a normal call.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from ivr.sip.message import Request, Response, check_request, parse_message, parse_name_addr, parse_via
from ivr.sip.sdp import SessionDescription
from ivr.sip.ua import CallOffered

from .sipkit import CALLER, Phone, finals, invite

HERE = Path(__file__).parent
FILES = sorted((HERE / "rfc4475").glob("*/*.dat")) + sorted((HERE / "rfc5118").glob("*/*.dat"))

OFFER = "offer"
DROP = "drop"

EXPECTED: dict[str, str | tuple[int, str]] = {
    # RFC 4475 3.1.1: valid messages, "all elements should treat this as well-formed".
    "wsinv": (481, "Call/Transaction Does Not Exist"),   # well formed, but its To-tag names no dialog of ours
    "intmeth": (501, "Not Implemented"),           # unknown method: "endpoints will generate a 501"
    "esc01": OFFER,                                # %-escapes in URIs
    "escnull": (405, "Method Not Allowed"),        # REGISTER: we are no registrar
    "esc02": (501, "Not Implemented"),             # RE%47IST%45R is not REGISTER
    "lwsdisp": (200, "OK"),                        # no LWS between display name and <
    "longreq": OFFER,                              # long values, 34 Via fields
    "dblreq": (405, "Method Not Allowed"),         # the INVITE after Content-Length: 0 is ignored
    "semiuri": (200, "OK"),                        # ';' in the user part
    "transports": (200, "OK"),                     # SCTP, TLS and UNKNOWN transports in Via
    "mpart01": (405, "Method Not Allowed"),        # MESSAGE with a binary multipart body
    "unreason": DROP,                              # a response for no transaction of ours
    "noreason": DROP,                              # likewise, with an empty reason phrase
    # 3.1.2: invalid messages.
    "badinv01": (400, "Malformed header: bad Via ';'"),         # ';;,;,,' in Via
    "clerr": (400, "Content-Length larger than body"),         # over UDP: 400
    "ncl": (400, "Malformed Content-Length"),                  # negative
    "scalar02": (400, "Malformed CSeq"),                       # CSeq beyond 2**31
    "scalarlg": DROP,                                          # response with overlarge values
    "quotbal": (400, "Malformed header: unterminated quoted display name"),
    "ltgtruri": (400, "Malformed Request-URI"),                # <sip:...> as Request-URI
    "lwsruri": (400, "Malformed Request-Line"),                # LWS inside the Request-URI
    "lwsstart": (400, "Malformed Request-Line"),               # several SP: RFC allows 400 or tolerating
    "trws": (400, "Malformed Request-Line"),                   # SP at the end: likewise, we are strict
    "escruri": (400, "Headers in Request-URI"),                # RFC allows 400 or ignoring them
    "baddate": OFFER,                                          # non-GMT Date: unused by us, so tolerated
    "regbadct": (400, "Malformed header: URI with '?' or ',' outside <>"),
    "badaspec": (200, "OK"),                       # spaces inside <>: tolerated, as the RFC allows
    "baddn": (400, "Malformed header: unquoted display name with separators"),
    "badvers": (505, "Version Not Supported"),
    "mismatch01": (400, "CSeq method does not match request method"),
    "mismatch02": (400, "CSeq method does not match request method"),   # RFC: 501 preferred, 400 allowed
    "bigcode": DROP,                               # status code beyond 699
    # 3.2: transaction layer.
    "badbranch": (200, "OK"),                      # branch is the bare magic cookie: matched RFC 2543 style
    # 3.3: application layer.
    "insuf": (400, "Missing To header"),           # no To, From, Call-ID
    "unkscm": (416, "Unsupported URI Scheme"),
    "novelsc": (416, "Unsupported URI Scheme"),    # soap.beep: a registered but unsupported scheme
    "unksm2": (405, "Method Not Allowed"),         # isbn:, http:, name: in To/From/Contact parse fine
    "bext01": (420, "Bad Extension"),              # Unsupported lists both option tags
    "invut": (415, "Unsupported Media Type"),      # Accept: application/sdp in the answer
    "regaut01": (405, "Method Not Allowed"),       # unknown Authorization scheme on a REGISTER
    "multi01": (400, "Multiple To headers"),
    "mcl01": (400, "Multiple Content-Length headers"),
    "bcast": DROP,                                 # 200 for no transaction; nothing goes to 255.255.255.255
    "zeromf": (200, "OK"),                         # Max-Forwards 0 matters to proxies only
    "cparam01": (405, "Method Not Allowed"),
    "cparam02": (405, "Method Not Allowed"),
    "regescrt": (405, "Method Not Allowed"),
    "sdp01": (406, "Not Acceptable"),              # Accept lacks application/sdp: RFC allows 406 or 400
    # 3.4: backward compatibility.
    "inv2543": OFFER,                              # no branch, tags, Max-Forwards or Content-Length
    # RFC 5118 section 4.
    "ipv6-good": (405, "Method Not Allowed"),
    "ipv6-bad": (400, "Malformed Request-URI"),    # IPv6 host without brackets
    "port-ambiguous": (405, "Method Not Allowed"),
    "port-unambiguous": (405, "Method Not Allowed"),
    "via-received-param-with-delim": (481, "Call/Transaction Does Not Exist"),   # BYE for no dialog
    "via-received-param-no-delim": (200, "OK"),
    "ipv6-in-sdp": (400, "Content-Length larger than body"),   # the RFC's Content-Length is too large
    "mult-ip-in-header": (481, "Call/Transaction Does Not Exist"),
    "mult-ip-in-sdp": OFFER,
    "ipv4-mapped-ipv6": OFFER,
    "ipv6-bug-abnf-3-colons": (200, "OK"),         # tolerated, as RFC 5118 asks
    "ipv6-correct-abnf-2-colons": (200, "OK"),
}

RFC4475_ARCHIVE_SHA256 = {
    "wsinv": "d6f6cdee99cd0a1f8e3d9a0fdd67c877700e19ab86d8186dada06f61260e3e61",
    "intmeth": "b957a8292c1c0a9851fe94705b90f94320738f43aacde64998e401f742ef688d",
    "esc01": "be3a316d4ce5f69cad474646191e390dd4b50fc8371e44b5197fe1237781973e",
    "escnull": "263fe2ecd12a5ccbb6c67b3174e9211d11da9b600e7d69666a86d2ee42873e90",
    "esc02": "9a9c59449f00327b02071feafc8e5c2a261c98c818044167894cc17809a12199",
    "lwsdisp": "d1b36b6316c12824f6f04bf6b1fd1f021cade9b74871693b9c3474cd9fa7f4e6",
    "longreq": "185739292bc676760e5b1cca77c87705aa570240171c506ad76f8c35af0ecdaa",
    "dblreq": "a6be48426565c2a705389c4ce2ea17e57b891cb13f80490a2cb9392c797b46ef",
    "semiuri": "87bbaed6b4b354dbd3c5c7a20e66686303c63e43a0aa19b89de1ac75231611a2",
    "transports": "33b4553a3b9418121b099ff07882535151edd6a1e81898c63a916aad2cbf90bc",
    "mpart01": "92147c8e24997bac59629e1b163767697d0d6d499af87f89e325d69968bec3ba",
    "unreason": "4f939d6ebf4817eea70f011d3209e83732872ffc20ffd304b244084dc392f4d7",
    "noreason": "07e11e470a69fffa3674de805e5165d1351a9439a91045ee70c9570ea24ab4fe",
}


def test_every_message_of_both_rfcs_is_here_with_an_expectation() -> None:
    names = [p.stem for p in FILES]
    assert sorted(names) == sorted(EXPECTED)
    assert len([p for p in FILES if "rfc4475" in str(p)]) == 49
    assert len([p for p in FILES if "rfc5118" in str(p)]) == 12


@pytest.mark.parametrize("name", sorted(RFC4475_ARCHIVE_SHA256))
def test_valid_rfc4475_messages_are_the_archive_bytes(name: str) -> None:
    data = (HERE / "rfc4475" / "valid" / f"{name}.dat").read_bytes()
    assert hashlib.sha256(data).hexdigest() == RFC4475_ARCHIVE_SHA256[name]


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_torture_message(path: Path) -> None:
    phone = Phone()
    sent = phone.send(path.read_bytes())
    events = phone.events()
    expected = EXPECTED[path.stem]
    if expected == DROP:
        assert sent == [] and events == []
    elif expected == OFFER:
        assert [s.status for s in sent] == [100] and sent[0].dest.host == CALLER.host
        [offered] = events
        assert isinstance(offered, CallOffered)
    else:
        status, reason = expected
        assert events == []
        assert finals(sent) == [status] and [s.status for s in sent[:-1]] in ([], [100])
        response = sent[-1].message
        assert isinstance(response, Response)
        assert response.reason.startswith(reason), response.reason
        assert {s.dest.host for s in sent} == {CALLER.host}    # never to the Via's 192.0.2.x or broadcast
    sent = phone.send(invite(call_id="after-torture@127.0.0.1", branch="z9hG4bK-after-torture"))
    assert [s.status for s in sent] == [100]
    assert [type(e) for e in phone.events()] == [CallOffered]


def test_one_user_agent_takes_every_message_in_a_row_and_still_answers() -> None:
    phone = Phone()
    for path in FILES:
        phone.send(path.read_bytes())
    offered = [e for e in phone.events() if isinstance(e, CallOffered)]
    # Two RFC 5118 INVITEs share a Call-ID: while the first call is up, the second one is a 482.
    offer_call_ids = {parse_message(p.read_bytes()).call_id for p in FILES if EXPECTED[p.stem] == OFFER}
    assert sorted(e.call.call_id for e in offered) == sorted(offer_call_ids)
    sent = phone.send(invite(call_id="after-all@127.0.0.1", branch="z9hG4bK-after-all"))
    assert [s.status for s in sent] == [100]


def answer_to(name: str) -> Response:
    [path] = [p for p in FILES if p.stem == name]
    [final] = [s.message for s in Phone().send(path.read_bytes()) if s.status >= 200]
    assert isinstance(final, Response)
    return final


def test_420_lists_the_unsupported_option_tags() -> None:
    assert answer_to("bext01").headers.get_all("Unsupported") == ["nothingSupportsThis", "nothingSupportsThisEither"]


def test_415_and_501_say_what_we_take() -> None:
    assert answer_to("invut").headers.get("Accept") == "application/sdp"
    assert "INVITE" in (answer_to("intmeth").headers.get("Allow") or "")


def test_responses_copy_the_tortuous_dialog_headers() -> None:
    ok = answer_to("lwsdisp")
    assert ok.call_id == "lwsdisp.1234abcd@funky.example.com"
    assert ok.from_addr.display == "caller" and ok.from_addr.tag == "323"
    assert ok.to_addr.tag is not None


def test_the_tortuous_invite_is_understood() -> None:
    request = parse_message((HERE / "rfc4475" / "valid" / "wsinv.dat").read_bytes())
    assert isinstance(request, Request) and check_request(request) is None
    assert request.uri == "sip:vivekg@chair-dnrc.example.com;unknownparam"
    assert request.cseq == (9, "INVITE") and request.headers.get("Max-Forwards") == "0068"
    assert request.from_addr.display == 'J Rosenberg \\"' and request.from_addr.tag == "98asjd8"
    assert request.to_addr.tag == "1918181833n"
    assert [(v.transport, v.host, v.branch) for v in map(parse_via, request.headers.get_all("Via"))] == [
        ("UDP", "192.0.2.2", "390skdjuw"), ("TCP", "spindle.example.com", "z9hG4bK9ikj8"),
        ("UDP", "192.168.255.111", "z9hG4bK30239")]
    contact = parse_name_addr(request.headers.get("Contact") or "")
    assert contact.display == 'Quoted string ""' and contact.params == {"newparam": "newvalue",
                                                                       "secondparam": None, "q": "0.33"}
    assert request.headers.get("Subject") == ""
    assert request.headers.get("UnknownHeaderWithUnusualValue") == ";;,,;;,;"
    assert request.body.startswith(b"v=0\r\n") and len(request.body) == 150


def test_ipv4_mapped_ipv6_sdp_is_understood() -> None:
    phone = Phone()
    phone.send((HERE / "rfc5118" / "valid" / "ipv4-mapped-ipv6.dat").read_bytes())
    [offered] = phone.events()
    assert isinstance(offered, CallOffered)
    description = SessionDescription.parse(offered.offer)
    assert description.connection == "::ffff:192.0.2.2"
