"""The sans-I/O user agent as a caller's phone sees it: bytes in, bytes out, call events, fake clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.sip.message import MAX_MESSAGE_SIZE, Request, Response, make_response, parse_message, parse_name_addr
from ivr.sip.transaction import Endpoint, Timers
from ivr.sip.ua import (
    Call, CallConfirmed, CallEnded, CallEvent, CallOffered, DtmfInfo, SessionAnswer, SessionModify, UAConfig,
    UserAgent,
)

from .sipkit import CALLER, SDP_ANSWER, SDP_OFFER, Phone, Sent, ack, finals, invite, sip_request

MALFORMED = Path(__file__).parent / "malformed"
T1 = Timers().t1
def in_dialog(call: Call, method: str, cseq: int, branch: str, **kwargs: object) -> bytes:
    return sip_request(method, cseq=cseq, branch=branch, to_tag=call.dialog.local_tag, **kwargs)  # type: ignore[arg-type]


# --- a whole call ---------------------------------------------------------------------------------

def test_invite_offers_the_call_with_number_caller_and_sdp() -> None:
    phone = Phone()
    sent = phone.send(invite())
    assert [s.status for s in sent] == [100] and sent[0].dest == CALLER
    [offered] = phone.events()
    assert isinstance(offered, CallOffered)
    assert offered.offer == SDP_OFFER
    assert (offered.call.number, offered.call.caller, offered.call.state) == ("3838", "alice", "offered")
    assert phone.ua.stats.calls_offered == 1


def test_answer_sends_200_with_sdp_contact_and_to_tag() -> None:
    phone = Phone()
    call, ok = phone.answered(headers=(("Record-Route", "<sip:proxy.example.net;lr>"),))
    assert ok.status == 200 and ok.body == SDP_ANSWER
    assert ok.headers.get("Content-Type") == "application/sdp"
    assert ok.to_addr.tag == call.dialog.local_tag and ok.to_addr.tag
    assert ok.from_addr.tag == "alice-tag"
    contact = ok.headers.get_all("Contact")
    assert len(contact) == 1
    uri = parse_name_addr(contact[0]).parsed_uri()
    assert (uri.user, uri.host, uri.port) == ("3838", "127.0.0.1", 5060)
    assert ok.headers.get_all("Record-Route") == ["<sip:proxy.example.net;lr>"]
    assert "INVITE" in (ok.headers.get("Allow") or "") and "BYE" in (ok.headers.get("Allow") or "")


def test_ack_confirms_the_call_and_stops_200_retransmissions() -> None:
    phone = Phone()
    call, _ = phone.answered()
    assert [s.status for s in phone.advance(1.0)] == [200]          # Timer G at T1
    phone.send(ack(call))
    assert [type(e) for e in phone.events()] == [CallConfirmed]
    assert call.state == "confirmed"
    assert phone.advance(60.0) == [] and phone.events() == []
    assert phone.send(ack(call)) == [] and phone.events() == []     # a retransmitted ACK changes nothing


def test_remote_bye_gets_200_and_ends_the_call() -> None:
    phone = Phone()
    call = phone.confirmed()
    [ok] = phone.send(in_dialog(call, "BYE", 2, "z9hG4bK-bye-1"))
    assert ok.status == 200 and ok.message.to_addr.tag == call.dialog.local_tag
    assert ok.message.cseq == (2, "BYE")
    [ended] = phone.events()
    assert isinstance(ended, CallEnded) and ended.cause == "remote_bye" and ended.call is call
    assert phone.ua.calls == {}
    assert [s.status for s in phone.send(in_dialog(call, "BYE", 2, "z9hG4bK-bye-1"))] == [200]  # retransmission
    assert [s.status for s in phone.send(in_dialog(call, "BYE", 3, "z9hG4bK-bye-2"))] == [481]  # dialog gone
    assert phone.events() == []


def test_local_hangup_sends_bye_inside_the_dialog_through_the_route_set() -> None:
    phone = Phone()
    call = phone.confirmed(contact="<sip:alice@192.0.2.7:5072>", headers=(
        ("Record-Route", "<sip:p1.example.net:5090;lr>"), ("Record-Route", "<sip:p2.example.net;lr>")))
    before = call.dialog.local_cseq
    phone.ua.hangup(call, phone.now)
    [bye] = phone.wire()
    req = bye.request
    assert req.method == "BYE" and req.uri == "sip:alice@192.0.2.7:5072"
    assert bye.dest == Endpoint("UDP", "p1.example.net", 5090)
    assert req.headers.get_all("Route") == ["<sip:p1.example.net:5090;lr>", "<sip:p2.example.net;lr>"]
    assert (req.from_addr.uri, req.from_addr.tag) == ("sip:3838@127.0.0.1", call.dialog.local_tag)
    assert (req.to_addr.uri, req.to_addr.tag) == ("sip:alice@127.0.0.1", "alice-tag")
    assert req.call_id == call.call_id
    assert req.cseq == (before + 1, "BYE")
    [ended] = phone.events()
    assert isinstance(ended, CallEnded) and ended.cause == "local_bye"
    retransmitted = phone.advance(T1)
    assert [s.request.method for s in retransmitted] == ["BYE"]      # Timer E until the answer
    phone.send(make_response(req, 200).serialize(), Endpoint("UDP", "p1.example.net", 5090))
    assert phone.advance(60.0) == [] and phone.events() == []


def test_local_hangup_without_route_set_goes_to_the_invite_source() -> None:
    phone = Phone()
    call = phone.confirmed()
    phone.ua.hangup(call, phone.now)
    [bye] = phone.wire()
    assert bye.dest == CALLER and bye.request.uri == "sip:alice@127.0.0.1:5070"
    assert "Route" not in bye.request.headers


def test_hangup_before_ack_waits_for_the_ack() -> None:
    phone = Phone()
    call, _ = phone.answered()
    phone.ua.hangup(call, phone.now)
    assert phone.wire() == [] and phone.events() == []
    sent = phone.send(ack(call))
    assert [s.request.method for s in sent] == ["BYE"]
    [ended] = phone.events()                                 # no CallConfirmed for a call we hang up
    assert isinstance(ended, CallEnded) and ended.cause == "local_bye"


def test_no_ack_retransmits_200_then_sends_bye_after_64_t1() -> None:
    phone = Phone()
    call, _ = phone.answered()
    sent = phone.advance(64 * T1 - 0.01)
    assert {s.status for s in sent} == {200} and len(sent) >= 9
    assert phone.events() == []
    sent = phone.advance(0.01)
    assert [s.request.method for s in sent if isinstance(s.message, Request)] == ["BYE"]
    [ended] = phone.events()
    assert isinstance(ended, CallEnded) and ended.cause == "no_ack"
    assert phone.ua.calls == {}


def test_hangup_before_ack_and_no_ack_at_all_still_ends_the_call() -> None:
    phone = Phone()
    call, _ = phone.answered()
    phone.ua.hangup(call, phone.now)
    sent = phone.advance(64 * T1)
    assert any(isinstance(s.message, Request) and s.request.method == "BYE" for s in sent)
    assert [e.cause for e in phone.events() if isinstance(e, CallEnded)] == ["no_ack"]


def test_reject_sends_the_error_with_to_tag_and_ends_the_call() -> None:
    phone = Phone()
    call = phone.offer()
    phone.ua.reject(call, 486, now=phone.now)
    [busy] = phone.wire()
    assert busy.status == 486 and busy.message.to_addr.tag == call.dialog.local_tag
    [ended] = phone.events()
    assert isinstance(ended, CallEnded) and ended.cause == "rejected"
    phone.send(sip_request("ACK", to_tag=call.dialog.local_tag, contact=None))   # same branch: stops Timer G
    assert phone.advance(60.0) == []


# --- CANCEL -----------------------------------------------------------------------------------------

def test_cancel_before_answer_gives_200_and_487_and_ends_the_call() -> None:
    phone = Phone()
    call = phone.offer()
    sent = phone.send(sip_request("CANCEL", contact=None))
    assert [(s.status, s.message.cseq[1]) for s in sent] == [(200, "CANCEL"), (487, "INVITE")]
    assert sent[0].message.to_addr.tag == sent[1].message.to_addr.tag == call.dialog.local_tag
    [ended] = phone.events()
    assert isinstance(ended, CallEnded) and ended.cause == "cancelled"
    phone.ua.answer(call, SDP_ANSWER, phone.now)            # too late: nothing happens
    assert phone.wire() == []
    phone.send(sip_request("ACK", to_tag=call.dialog.local_tag, contact=None))
    assert phone.advance(60.0) == [] and phone.events() == []


def test_cancel_for_unknown_transaction_gets_481() -> None:
    phone = Phone()
    phone.offer()
    [resp] = phone.send(sip_request("CANCEL", branch="z9hG4bK-nothing", contact=None))
    assert resp.status == 481
    assert phone.events() == []


def test_cancel_after_answer_changes_nothing() -> None:
    phone = Phone()
    call, _ = phone.answered()
    assert [s.status for s in phone.send(sip_request("CANCEL", contact=None))] == [200]
    assert phone.events() == [] and call.state == "answered"


# --- requests outside and inside the dialog ----------------------------------------------------------

@pytest.mark.parametrize("method", ["BYE", "INFO", "UPDATE"])
def test_in_dialog_request_for_unknown_dialog_gets_481(method: str) -> None:
    phone = Phone()
    call = phone.confirmed()
    assert finals(phone.send(sip_request(method, call_id="other@h", to_tag="x", cseq=5))) == [481]
    assert finals(phone.send(in_dialog(call, method, 5, "z9hG4bK-wrongfrom", from_tag="other"))) == [481]
    assert finals(phone.send(sip_request(method, call_id="other@h", cseq=5, branch="z9hG4bK-notag"))) == [481]
    assert phone.events() == [] and call.state == "confirmed"


def test_options_answers_200_or_503_while_draining() -> None:
    phone = Phone()
    [ok] = phone.send(sip_request("OPTIONS", branch="z9hG4bK-opt-1"))
    assert ok.status == 200
    assert "INVITE" in (ok.message.headers.get("Allow") or "")
    assert ok.message.headers.get("Accept") == "application/sdp"
    phone.ua.accepting = False
    [busy] = phone.send(sip_request("OPTIONS", branch="z9hG4bK-opt-2"))
    assert busy.status == 503 and busy.message.headers.get("Retry-After") == "30"


@pytest.mark.parametrize("ctype, body, digit, duration", [
    ("application/dtmf-relay", b"Signal=5\r\nDuration=160\r\n", "5", 160),
    ("application/dtmf-relay", b"Signal= 10\r\nDuration= 250\r\n", "*", 250),
    ("application/dtmf-relay", b"signal=11\r\n", "#", None),
    ("Application/DTMF-Relay; charset=x", b"Signal=d\r\nDuration=100\r\n", "D", 100),
    ("application/dtmf", b"7", "7", None),
])
def test_info_dtmf_raises_dtmf_info(ctype: str, body: bytes, digit: str, duration: int | None) -> None:
    phone = Phone()
    call = phone.confirmed()
    [ok] = phone.send(in_dialog(call, "INFO", 2, "z9hG4bK-info-1", body=body, content_type=ctype))
    assert ok.status == 200
    assert phone.events() == [DtmfInfo(call, digit, duration)]


def test_info_with_other_content_type_gets_415_and_bad_signal_400() -> None:
    phone = Phone()
    call = phone.confirmed()
    [unsupported] = phone.send(in_dialog(call, "INFO", 2, "z9hG4bK-i1", body=b"hello", content_type="text/plain"))
    assert unsupported.status == 415
    assert "application/dtmf-relay" in (unsupported.message.headers.get("Accept") or "")
    [bad] = phone.send(in_dialog(call, "INFO", 3, "z9hG4bK-i2", body=b"Signal=Q\r\n",
                                 content_type="application/dtmf-relay"))
    assert bad.status == 400
    [keepalive] = phone.send(in_dialog(call, "INFO", 4, "z9hG4bK-i3"))
    assert keepalive.status == 200
    assert phone.events() == []


def test_reinvite_raises_session_modify_and_accept_modify_answers_with_new_sdp() -> None:
    phone = Phone()
    call = phone.confirmed()
    hold = SDP_OFFER + b"a=sendonly\r\n"
    sent = phone.send(in_dialog(call, "INVITE", 2, "z9hG4bK-re-1", body=hold, content_type="application/sdp",
                                contact="<sip:alice@192.0.2.99:5099>"))
    assert [s.status for s in sent] == [100]
    [modify] = phone.events()
    assert isinstance(modify, SessionModify)
    assert (modify.call, modify.offer, modify.method) == (call, hold, "INVITE")
    new_answer = SDP_ANSWER + b"a=recvonly\r\n"
    phone.ua.accept_modify(call, modify.key, new_answer, phone.now)
    [ok] = phone.wire()
    assert ok.status == 200 and ok.message.body == new_answer
    assert ok.message.cseq == (2, "INVITE") and ok.message.to_addr.tag == call.dialog.local_tag
    phone.send(sip_request("ACK", cseq=2, branch="z9hG4bK-re-ack", to_tag=call.dialog.local_tag, contact=None))
    assert phone.advance(60.0) == [] and phone.events() == []
    assert call.state == "confirmed" and phone.ua.calls == {call.call_id: call}
    phone.ua.hangup(call, phone.now)
    assert phone.wire()[0].request.uri == "sip:alice@192.0.2.99:5099"     # the new remote target


def test_reinvite_without_sdp_gets_our_offer_and_its_ack_brings_the_answer() -> None:
    """A session refresh (RFC 3261 14.2, RFC 3264): the offer goes in our 200, the answer comes in the ACK."""
    phone = Phone()
    call = phone.confirmed()
    phone.send(in_dialog(call, "INVITE", 2, "z9hG4bK-refresh-1"))
    [modify] = phone.events()
    assert isinstance(modify, SessionModify) and modify.offer == b""
    phone.ua.accept_modify(call, modify.key, SDP_ANSWER, phone.now)       # stands for our offer here
    [ok] = phone.wire()
    assert ok.status == 200 and ok.message.body == SDP_ANSWER
    phone.send(sip_request("ACK", cseq=2, branch="z9hG4bK-refresh-ack", to_tag=call.dialog.local_tag,
                           contact=None, body=SDP_OFFER, content_type="application/sdp"))
    [answer] = phone.events()
    assert isinstance(answer, SessionAnswer) and (answer.call, answer.answer) == (call, SDP_OFFER)
    assert phone.advance(60.0) == [] and call.state == "confirmed"
    phone.send(sip_request("ACK", cseq=2, branch="z9hG4bK-refresh-ack", to_tag=call.dialog.local_tag,
                           contact=None, body=SDP_OFFER, content_type="application/sdp"))
    assert phone.events() == []                                           # a repeated ACK answers nothing


def test_an_invite_without_sdp_is_offered_empty_and_the_ack_brings_the_answer() -> None:
    """Delayed offer (RFC 3261 13.2.1): the application's 200 carries the offer, the ACK the answer."""
    phone = Phone()
    call = phone.offer(body=b"", content_type=None)
    phone.ua.answer(call, SDP_ANSWER, phone.now)                  # stands for our offer here
    [ok] = phone.wire()
    assert ok.status == 200 and ok.message.body == SDP_ANSWER
    phone.send(sip_request("ACK", branch="z9hG4bK-ack-1", to_tag=call.dialog.local_tag, contact=None,
                           body=SDP_OFFER, content_type="application/sdp"))
    [confirmed] = phone.events()
    assert isinstance(confirmed, CallConfirmed) and confirmed.answer == SDP_OFFER


def test_the_server_and_user_agent_headers_can_be_left_out() -> None:
    phone = Phone(UAConfig(host="127.0.0.1", port=5060, user_agent=None))
    call, ok = phone.answered()
    assert "Server" not in ok.headers
    phone.send(ack(call))
    phone.ua.hangup(call, phone.now)
    [bye] = phone.wire()
    assert bye.request.method == "BYE" and "User-Agent" not in bye.request.headers
    named = Phone(UAConfig(host="127.0.0.1", port=5060, user_agent="acme-ivr"))
    assert named.answered()[1].headers.get("Server") == "acme-ivr"


def test_ack_to_a_reinvite_with_an_offer_is_no_session_answer() -> None:
    phone = Phone()
    call = phone.confirmed()
    phone.send(in_dialog(call, "INVITE", 2, "z9hG4bK-re-2", body=SDP_OFFER, content_type="application/sdp"))
    [modify] = phone.events()
    phone.ua.accept_modify(call, modify.key, SDP_ANSWER, phone.now)
    phone.send(sip_request("ACK", cseq=2, branch="z9hG4bK-re-ack2", to_tag=call.dialog.local_tag, contact=None,
                           body=SDP_OFFER, content_type="application/sdp"))
    assert phone.events() == []


def test_update_without_sdp_is_a_session_modify_answered_without_body() -> None:
    phone = Phone()
    call = phone.confirmed()
    phone.send(in_dialog(call, "UPDATE", 2, "z9hG4bK-up-1"))
    [modify] = phone.events()
    assert isinstance(modify, SessionModify) and modify.method == "UPDATE" and modify.offer == b""
    phone.ua.accept_modify(call, modify.key, None, phone.now)
    [ok] = phone.wire()
    assert ok.status == 200 and ok.message.body == b"" and "Content-Type" not in ok.message.headers


def test_out_of_order_cseq_gets_500() -> None:
    phone = Phone()
    call = phone.confirmed(cseq=10)
    dtmf = {"body": b"Signal=1\r\n", "content_type": "application/dtmf-relay"}
    assert [s.status for s in phone.send(in_dialog(call, "INFO", 12, "z9hG4bK-o1", **dtmf))] == [200]
    [late] = phone.send(in_dialog(call, "INFO", 11, "z9hG4bK-o2", **dtmf))
    assert late.status == 500 and late.message.to_addr.tag == call.dialog.local_tag
    assert [e.digit for e in phone.events() if isinstance(e, DtmfInfo)] == ["1"]


@pytest.mark.parametrize("method, status", [("REGISTER", 405), ("SUBSCRIBE", 405), ("MESSAGE", 405), ("FOO", 501)])
def test_unsupported_methods(method: str, status: int) -> None:
    phone = Phone()
    [resp] = phone.send(sip_request(method))
    assert resp.status == status
    allow = [m.strip() for m in (resp.message.headers.get("Allow") or "").split(",")]
    assert "INVITE" in allow and "BYE" in allow and method not in allow


def test_unsupported_method_inside_a_dialog() -> None:
    phone = Phone()
    call = phone.confirmed()
    assert [s.status for s in phone.send(in_dialog(call, "FOO", 2, "z9hG4bK-foo"))] == [501]
    assert [s.status for s in phone.send(in_dialog(call, "REFER", 3, "z9hG4bK-ref"))] == [405]
    assert call.state == "confirmed"


def test_register_can_be_accepted_for_softphones_under_test() -> None:
    phone = Phone(UAConfig(accept_register=True))
    [ok] = phone.send(sip_request("REGISTER", uri="sip:127.0.0.1", headers=(("Expires", "600"),)))
    assert ok.status == 200 and ok.message.headers.get("Expires") == "600"
    assert ok.message.headers.get("Contact") == "<sip:alice@127.0.0.1:5070>"


def test_bye_in_early_dialog_ends_the_offered_call_with_487_to_the_invite() -> None:
    phone = Phone()
    call = phone.offer()
    phone.ua.ring(call, phone.now)
    [ringing] = phone.wire()
    assert ringing.status == 180 and ringing.message.to_addr.tag == call.dialog.local_tag
    sent = phone.send(in_dialog(call, "BYE", 2, "z9hG4bK-early-bye"))
    assert [(s.status, s.message.cseq[1]) for s in sent] == [(200, "BYE"), (487, "INVITE")]
    assert [e.cause for e in phone.events() if isinstance(e, CallEnded)] == ["remote_bye"]


def test_second_invite_with_same_call_id_and_new_branch_is_a_loop() -> None:
    phone = Phone()
    phone.offer()
    assert finals(phone.send(invite(branch="z9hG4bK-fork"))) == [482]
    assert phone.events() == []


# --- transport details -----------------------------------------------------------------------------

@pytest.mark.parametrize("via, dest_port", [
    ("SIP/2.0/UDP 127.0.0.1:5070;rport", 40000),
    ("SIP/2.0/UDP 127.0.0.1:5070", 5070),
])
def test_responses_go_to_source_with_rport_else_to_via_port(via: str, dest_port: int) -> None:
    phone = Phone()
    source = Endpoint("UDP", "127.0.0.1", 40000)
    call = phone.send(invite(via=via), source)
    assert [s.dest for s in call] == [Endpoint("UDP", "127.0.0.1", dest_port)]
    [bad] = phone.send(invite(via=via, call_id="other@h", cseq_method="BYE"), source)
    assert bad.status == 400 and bad.dest.port == dest_port


def test_tcp_call_answers_on_the_connection_with_a_tcp_contact() -> None:
    phone = Phone()
    source = Endpoint("TCP", "127.0.0.1", 40001)
    call = phone.send(invite(via="SIP/2.0/TCP 127.0.0.1:5070"), source)
    assert [s.dest for s in call] == [source]
    [offered] = phone.events()
    assert isinstance(offered, CallOffered)
    phone.ua.answer(offered.call, SDP_ANSWER, phone.now)
    [ok] = phone.wire()
    assert ok.dest == source and "transport=tcp" in (ok.message.headers.get("Contact") or "")


def test_keepalives_and_unparseable_datagrams_are_dropped_and_counted() -> None:
    phone = Phone()
    assert phone.send(b"\r\n\r\n") == []
    assert phone.send(b"\x16\x03\x01 not sip") == []
    assert (phone.ua.stats.received, phone.ua.stats.unparseable) == (2, 1)


def test_response_with_content_length_beyond_the_datagram_is_dropped() -> None:
    phone = Phone()
    call = phone.confirmed()
    phone.ua.hangup(call, phone.now)
    [bye] = phone.wire()
    short = make_response(bye.request, 200).serialize().replace(b"Content-Length: 0", b"Content-Length: 99")
    assert phone.send(short) == []
    assert phone.ua.stats.unparseable == 1
    assert [s.request.method for s in phone.advance(T1)] == ["BYE"]      # still waiting for a real answer


# --- malformed and torture messages -----------------------------------------------------------------

MALFORMED_FILES = sorted(p for p in MALFORMED.iterdir() if p.suffix in (".sip", ".bin"))


def test_the_malformed_set_covers_every_kind_of_expectation() -> None:
    prefixes = {p.name.split("-")[0] for p in MALFORMED_FILES}
    assert prefixes == {"drop", "400", "416", "505", "accept"}
    assert len(MALFORMED_FILES) >= 40


def assert_good_invite_still_offered(phone: Phone) -> None:
    sent = phone.send(invite(call_id="good-after-bad@127.0.0.1", branch="z9hG4bK-good-after-bad"))
    assert [s.status for s in sent] == [100]
    assert [type(e) for e in phone.events()] == [CallOffered]


@pytest.mark.parametrize("path", MALFORMED_FILES, ids=lambda p: p.name)
def test_malformed_message(path: Path) -> None:
    phone = Phone()
    data = path.read_bytes()
    expectation = path.name.split("-")[0]
    sent = phone.send(data)
    events = phone.events()
    if expectation == "drop":
        assert sent == [] and events == []
        stats = phone.ua.stats
        assert stats.unparseable + stats.invalid + stats.too_large + phone.ua.layer.stats.stray_responses == 1
    elif expectation == "accept":
        assert [s.status for s in sent] == [100] and sent[0].dest == CALLER
        [offered] = events
        assert isinstance(offered, CallOffered) and offered.call.number == "3838"
        request = offered.call.invite
        assert sent[0].message.headers.get_all("Via") == request.headers.get_all("Via")
        assert offered.offer.startswith(b"v=0")
        phone.ua.answer(offered.call, SDP_ANSWER, phone.now)
        [ok] = phone.wire()
        assert ok.status == 200 and ok.message.call_id == request.call_id
        assert ok.message.to_addr.tag == offered.call.dialog.local_tag
    else:
        assert finals(sent) == [int(expectation)] and events == []
        assert all(s.dest == CALLER for s in sent)
    assert_good_invite_still_offered(phone)


def test_one_ua_survives_the_whole_malformed_set() -> None:
    phone = Phone()
    for path in MALFORMED_FILES:
        phone.send(path.read_bytes())
    offered = [e for e in phone.events() if isinstance(e, CallOffered)]
    assert len(offered) == sum(p.name.startswith("accept-") for p in MALFORMED_FILES)
    assert_good_invite_still_offered(phone)


def test_escaped_characters_are_understood() -> None:
    phone = Phone()
    phone.send((MALFORMED / "accept-escaped-characters.sip").read_bytes())
    [offered] = phone.events()
    assert isinstance(offered, CallOffered)
    invite_ = offered.call.invite
    assert invite_.from_addr.display == 'J Rosenberg \\"'
    assert invite_.to_addr.display == '"3838" the \\vote\\ line'
    assert offered.call.dialog.remote_target == "sip:caller%20one@127.0.0.1:5070;transport=udp"


# --- limits and what a UAS must refuse before offering a call ---------------------------------------

def test_an_oversized_datagram_with_a_readable_header_section_gets_513() -> None:
    phone = Phone()
    sent = phone.send(invite(body=b"v=0\r\n" + b"a=x\r\n" * (MAX_MESSAGE_SIZE // 5)))
    assert finals(sent) == [513] and sent[0].dest == CALLER
    assert sent[0].message.reason == "Message Too Large" and phone.events() == []
    assert phone.ua.stats.too_large == 1
    assert_good_invite_still_offered(phone)


def test_an_oversized_stream_message_gets_513_on_its_connection() -> None:
    phone = Phone()
    tcp = Endpoint("TCP", "127.0.0.1", 40123)
    head = invite(via="SIP/2.0/TCP 127.0.0.1:40123").split(b"\r\n\r\n")[0]
    phone.ua.refuse_too_large(head, tcp)
    [sent] = phone.wire()
    assert sent.status == 513 and sent.dest == tcp


def test_require_of_an_unknown_extension_gets_420_listing_it() -> None:
    phone = Phone()
    sent = phone.send(invite(headers=(("Require", "100rel, precondition"),)))
    assert finals(sent) == [420] and phone.events() == []
    assert sent[-1].message.headers.get_all("Unsupported") == ["100rel", "precondition"]
    assert finals(phone.send(sip_request("OPTIONS", headers=(("Proxy-Require", "x"),)))) == [200]


@pytest.mark.parametrize("accept", ["application/sdp", "application/*;q=0.5", "*/*", "text/html, application/sdp"])
def test_an_accept_header_that_takes_sdp_lets_the_call_in(accept: str) -> None:
    phone = Phone()
    sent = phone.send(invite(headers=(("Accept", accept),)))
    assert [s.status for s in sent] == [100]
    assert [type(e) for e in phone.events()] == [CallOffered]


def test_a_reinvite_with_a_body_that_is_not_sdp_gets_415_and_keeps_the_call() -> None:
    phone = Phone()
    call = phone.confirmed()
    sent = phone.send(in_dialog(call, "INVITE", 2, "z9hG4bK-reinv-xml", body=b"<audio/>",
                                content_type="application/xml"))
    assert finals(sent) == [415] and sent[-1].message.to_addr.tag == call.dialog.local_tag
    assert phone.events() == [] and call.state == "confirmed"


def test_counters_say_why_messages_never_reached_a_call() -> None:
    phone = Phone()
    phone.send(b"\x00garbage")
    phone.send(sip_request("OPTIONS", cseq_method="BYE"))
    phone.send(invite(body=b"v=0\r\n" + b"a=x\r\n" * (MAX_MESSAGE_SIZE // 5)))
    phone.send(make_response(parse_message(sip_request("OPTIONS")), 200).serialize())
    assert phone.ua.counters() == {"received": 4, "unparseable": 1, "invalid": 1, "too_large": 1,
                                   "stray_response": 1, "not_allowed": 0, "rate_limited": 0, "setup_refused": 0,
                                   "setup_evicted": 0}
