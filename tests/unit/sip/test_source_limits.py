"""Per-source rate limits and the allow-list, as a flooder and a normal caller see the user agent."""

from __future__ import annotations

import pytest

from ivr.sip.access import AccessError, AllowList, parse_networks
from ivr.sip.ratelimit import Rate, RateError, SourceLimiter, Verdict, limit_class
from ivr.sip.transaction import Endpoint
from ivr.sip.ua import CallOffered, UAConfig

from .sipkit import CALLER, invite, sip_request
from .test_ua import Phone, ack

FLOODER = Endpoint("UDP", "127.0.0.2", 5099)


def test_rates_parse_with_a_default_burst_and_refuse_nonsense() -> None:
    assert Rate.parse("5") == Rate(5, 10) and Rate.parse("0.5") == Rate(0.5, 1) and Rate.parse("3/7") == Rate(3, 7)
    for bad in ("", "x", "0", "-1/5", "5/0", "inf", "5/nan"):
        with pytest.raises(RateError):
            Rate.parse(bad)
    with pytest.raises(RateError, match="unknown request class"):
        SourceLimiter({"bye": Rate(1, 1)})


def test_classes_come_from_the_first_bytes_and_dialog_methods_are_never_limited() -> None:
    assert limit_class(b"INVITE sip:1@x SIP/2.0\r\n") == limit_class(b"\r\nINVITE sip:1@x SIP/2.0") == "invite"
    assert limit_class(b"REGISTER sip:x SIP/2.0\r\n") == "register"
    assert limit_class(b"OPTIONS sip:x SIP/2.0\r\n") == "options"
    assert limit_class(b"SUBSCRIBE sip:x SIP/2.0\r\n") == limit_class(b"FOO sip:x SIP/2.0") == "other"
    for unlimited in (b"ACK", b"BYE", b"CANCEL", b"INFO", b"UPDATE", b"PRACK", b"NOTIFY", b"SIP/2.0 200 OK"):
        assert limit_class(unlimited + b" sip:x SIP/2.0\r\n") is None


def test_bucket_admits_the_burst_then_one_503_a_second_and_refills_at_the_rate() -> None:
    limiter = SourceLimiter({"invite": Rate(2, 4)})
    assert [limiter.check("a", "invite", 0.0) for _ in range(4)] == [Verdict.ADMIT] * 4
    assert limiter.check("a", "invite", 0.0) is Verdict.REJECT
    assert limiter.retry_after("a", "invite") == 1
    assert limiter.check("a", "invite", 0.1) is Verdict.DROP          # 0.2 tokens: still empty
    assert limiter.check("b", "invite", 0.1) is Verdict.ADMIT         # another source is not affected
    assert limiter.check("a", "options", 0.1) is Verdict.ADMIT        # nor a class without a rate
    assert limiter.check("a", "invite", 0.6) is Verdict.ADMIT         # refilled 1.2 tokens
    assert limiter.check("a", "invite", 0.7) is Verdict.DROP          # 0.4: empty, 503 sent 0.7 s ago
    assert limiter.check("a", "invite", 1.0) is Verdict.ADMIT         # 1.0 token
    assert limiter.check("a", "invite", 1.05) is Verdict.REJECT       # empty, a second after the last 503
    assert limiter.check("a", "invite", 1.1) is Verdict.DROP
    assert [limiter.check("a", "invite", 10.0) for _ in range(5)] == [Verdict.ADMIT] * 4 + [Verdict.REJECT]


def test_buckets_are_bounded_least_recently_used_first() -> None:
    limiter = SourceLimiter({"invite": Rate(1, 1)}, max_sources=3)
    for n in range(10):
        limiter.check(f"10.0.0.{n}", "invite", 0.0)
    assert len(limiter) == 3
    assert limiter.check("10.0.0.9", "invite", 0.0) is Verdict.REJECT   # kept: still empty
    assert limiter.check("10.0.0.0", "invite", 0.0) is Verdict.ADMIT    # forgotten: a fresh bucket


def test_flood_gets_one_503_with_retry_after_then_silence_while_others_call() -> None:
    phone = Phone(UAConfig(host="127.0.0.1", port=5060, rates={"invite": Rate(1, 3), "options": Rate(1, 2)}))
    answered = []
    for n in range(50):
        sent = phone.send(invite(call_id=f"flood-{n}", branch=f"z9hG4bK-f{n}"), FLOODER)
        answered += [s.status for s in sent]
    assert answered.count(100) == 3 and answered.count(503) == 1 and len(answered) == 4
    flood_calls = phone.events()
    assert len(flood_calls) == 3
    options = [s.status for n in range(20)
               for s in phone.send(sip_request("OPTIONS", call_id=f"o-{n}", branch=f"z9hG4bK-o{n}"), FLOODER)]
    assert options == [200, 200, 503]
    assert phone.ua.stats.rate_limited == 50 - 3 + 20 - 2


def test_flooder_does_not_stop_a_normal_caller() -> None:
    phone = Phone(UAConfig(host="127.0.0.1", port=5060, rates={"invite": Rate(1, 2)}))
    flood = [s for n in range(30) for s in phone.send(invite(call_id=f"flood-{n}", branch=f"z9hG4bK-f{n}"), FLOODER)]
    [reject] = [s for s in flood if s.status >= 200]
    assert reject.status == 503 and reject.message.headers.get("Retry-After") == "1"
    assert reject.message.to_addr.tag                         # a final response carries a To-tag
    phone.events()
    sent = phone.send(invite(), CALLER)
    assert [s.status for s in sent] == [100]
    [offered] = phone.events()
    assert isinstance(offered, CallOffered) and offered.call.source == CALLER
    phone.now = 1.0                                           # a token again for the flooder
    assert [s.status for s in phone.send(invite(call_id="again", branch="z9hG4bK-again"), FLOODER)] == [100]


def test_ack_bye_and_responses_are_never_limited() -> None:
    phone = Phone(UAConfig(host="127.0.0.1", port=5060, rates={"invite": Rate(1, 1), "other": Rate(1, 1)}))
    call = phone.confirmed()
    for n in range(5):
        assert phone.send(ack(call)) == []        # ACK retransmissions: absorbed, not limited
    bye = sip_request("BYE", cseq=2, branch="z9hG4bK-bye", to_tag=call.dialog.local_tag)
    assert [s.status for s in phone.send(bye)] == [200]
    assert phone.ua.stats.rate_limited == 0


def test_allow_list_parses_cidrs_and_addresses() -> None:
    allow = AllowList(parse_networks(["192.0.2.0/24", "2001:db8::1", "10.1.2.3/8"]))
    assert allow.permits("192.0.2.77") and allow.permits("2001:db8::1") and allow.permits("10.200.0.1")
    assert allow.permits("::ffff:192.0.2.1")                     # IPv4-mapped on a dual-stack socket
    assert not allow.permits("192.0.3.1") and not allow.permits("2001:db8::2") and not allow.permits("bogus")
    assert AllowList().permits("203.0.113.9")                    # no list: everyone
    with pytest.raises(AccessError, match="bad network"):
        parse_networks(["10.0.0.0/33"])


def test_outside_the_allow_list_nothing_is_answered() -> None:
    phone = Phone(UAConfig(host="127.0.0.1", port=5060, allow_from=parse_networks(["127.0.0.1/32"])))
    assert phone.send(invite(), FLOODER) == []
    assert phone.send(sip_request("OPTIONS"), FLOODER) == []
    assert phone.events() == [] and phone.ua.stats.refused == 2
    assert [s.status for s in phone.send(invite(), CALLER)] == [100]
