"""UAS dialog state: what an answered INVITE leaves behind and the requests we send inside it."""

from __future__ import annotations

import pytest

from ivr.sip.dialog import Dialog, uri_user
from ivr.sip.message import Request, parse_message
from ivr.sip.transaction import Endpoint

from .sipkit import CALLER, invite, sip_request

RECORD_ROUTES = (("Record-Route", "<sip:p1.example.net:5070;lr>"),
                 ("Record-Route", "<sip:p2.example.net;lr>, <sip:p3.example.net;lr>"))


def request(data: bytes) -> Request:
    message = parse_message(data)
    assert isinstance(message, Request)
    return message


def dialog(**kwargs: object) -> Dialog:
    return Dialog.from_invite(request(invite(**kwargs)), CALLER, local_tag="uas-tag")


def test_from_invite_takes_tags_uris_target_route_set_and_cseq() -> None:
    d = dialog(cseq=41, contact='"Alice" <sip:alice@192.0.2.7:5072;transport=udp>;expires=60',
               headers=RECORD_ROUTES)
    assert (d.call_id, d.local_tag, d.remote_tag) == ("call-1@127.0.0.1", "uas-tag", "alice-tag")
    assert d.local_uri == "<sip:3838@127.0.0.1>"
    assert d.remote_uri == '"Alice" <sip:alice@127.0.0.1>'
    assert d.remote_target == "sip:alice@192.0.2.7:5072;transport=udp"
    assert d.route_set == ["<sip:p1.example.net:5070;lr>", "<sip:p2.example.net;lr>", "<sip:p3.example.net;lr>"]
    assert d.remote_cseq == 41
    assert d.peer == CALLER


def test_remote_target_falls_back_to_from_without_contact() -> None:
    assert dialog(contact=None).remote_target == "sip:alice@127.0.0.1"


def test_new_local_tags_are_random() -> None:
    one = Dialog.from_invite(request(invite()), CALLER)
    two = Dialog.from_invite(request(invite()), CALLER)
    assert one.local_tag != two.local_tag and len(one.local_tag) >= 8


@pytest.mark.parametrize("kwargs, matches", [
    ({"to_tag": "uas-tag"}, True),
    ({"to_tag": "other"}, False),
    ({"to_tag": "uas-tag", "from_tag": "other"}, False),
    ({"to_tag": "uas-tag", "call_id": "other@h"}, False),
    ({}, False),
])
def test_matches_needs_call_id_and_both_tags(kwargs: dict[str, str], matches: bool) -> None:
    assert dialog().matches(request(sip_request("BYE", cseq=2, **kwargs))) is matches  # type: ignore[arg-type]


def test_remote_cseq_must_grow_except_for_ack_and_cancel() -> None:
    d = dialog(cseq=5)

    def accept(cseq: int, method: str) -> bool:
        return d.accept_cseq(request(sip_request(method, cseq=cseq, to_tag="uas-tag")))

    assert not accept(5, "INFO")              # same number, new transaction: out of order
    assert not accept(4, "BYE")
    assert accept(5, "ACK") and accept(5, "CANCEL")
    assert accept(9, "INFO")
    assert not accept(6, "INFO")              # 9 is now the last one
    assert accept(10, "BYE")
    assert d.remote_cseq == 10


def test_create_request_swaps_tags_and_routes_loosely() -> None:
    d = dialog(contact="<sip:alice@192.0.2.7:5072>", headers=RECORD_ROUTES)
    start = d.local_cseq
    first = request(d.create_request("BYE", "127.0.0.1", 5060, "UDP", headers=[("X-Why", "done")]).serialize())
    second = request(d.create_request("INFO", "127.0.0.1", 5060, "UDP").serialize())
    assert first.method == "BYE" and first.uri == "sip:alice@192.0.2.7:5072"
    assert first.from_addr.uri == "sip:3838@127.0.0.1" and first.from_addr.tag == "uas-tag"
    assert first.to_addr.uri == "sip:alice@127.0.0.1" and first.to_addr.tag == "alice-tag"
    assert first.to_addr.display == "Alice"
    assert first.call_id == "call-1@127.0.0.1"
    assert first.cseq == (start + 1, "BYE") and second.cseq == (start + 2, "INFO")
    assert first.headers.get_all("Route") == list(d.route_set)
    assert first.headers.get("Max-Forwards") == "70" and first.headers.get("X-Why") == "done"
    via = first.top_via
    assert (via.transport, via.host, via.port) == ("UDP", "127.0.0.1", 5060)
    assert via.branch is not None and via.branch.startswith("z9hG4bK")
    assert "rport" in via.params
    assert first.top_via.branch != second.top_via.branch


def test_create_request_without_remote_tag_has_a_bare_to() -> None:
    d = dialog()
    d.remote_tag = None
    assert request(d.create_request("BYE", "h", 5060, "UDP").serialize()).to_addr.tag is None


def test_next_hop_is_the_first_route_else_the_invite_source() -> None:
    assert dialog().next_hop() == CALLER
    assert dialog(headers=RECORD_ROUTES).next_hop() == Endpoint("UDP", "p1.example.net", 5070)
    tcp = dialog(headers=(("Record-Route", "<sip:[2001:db8::5];transport=tcp;lr>"),))
    assert tcp.next_hop() == Endpoint("TCP", "2001:db8::5", 5060)


@pytest.mark.parametrize("uri, user", [
    ("sip:3838@127.0.0.1", "3838"), ("sips:7777@h:5061;user=phone", "7777"),
    ("sip:%33%38%33%38@h", "3838"), ("sip:h", None), ("tel:3838;phone-context=example.com", "3838"), ("garbage", None),
])
def test_uri_user(uri: str, user: str | None) -> None:
    assert uri_user(uri) == user
