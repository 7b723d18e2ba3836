"""Digest authentication (RFC 2617/7616) and the REGISTER client."""

from __future__ import annotations

import pytest

from ivr.sip.auth import AuthError, authorization, parse_challenge
from ivr.sip.message import Headers, Response
from ivr.sip.register import Registration, RegistrationConfig


def test_rfc2617_worked_example() -> None:
    challenge = parse_challenge('Digest realm="testrealm@host.com", qop="auth,auth-int", '
                                'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"')
    value = authorization(challenge, "GET", "/dir/index.html", "Mufasa", "Circle Of Life", cnonce="0a4f113b")
    assert 'response="6629fae49393a05397450978507c4ef1"' in value
    assert "nc=00000001" in value and 'opaque="5ccc069c403ebaf9f0171e9517f40e41"' in value


def test_rfc7616_sha256_example() -> None:
    challenge = parse_challenge('Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, '
                                'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
                                'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"')
    value = authorization(challenge, "GET", "/dir/index.html", "Mufasa", "Circle of Life", cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ")
    assert 'response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"' in value


def test_unsupported_challenges() -> None:
    with pytest.raises(AuthError):
        parse_challenge('Basic realm="x"')
    with pytest.raises(AuthError):
        authorization(parse_challenge('Digest realm="r", nonce="n", algorithm=SHA-512-256'), "REGISTER", "sip:x",
                      "u", "p")


def response(request, status: int, headers: list[tuple[str, str]] = ()) -> Response:
    h = Headers([("Via", request.headers.get("Via")), ("CSeq", request.headers.get("CSeq")), *headers])
    return Response(h, b"", status=status, reason="X")


def registration(expires: int = 600) -> Registration:
    return Registration(RegistrationConfig("sip:registrar.test:5060", "sip:3838@carrier.test", "alice", "secret",
                                           "192.0.2.10", 5060, expires=expires))


def test_challenge_answered_once_then_registered_and_refreshed_before_expiry() -> None:
    reg = registration()
    first = reg.start(0.0)
    assert first.method == "REGISTER" and first.headers.get("Expires") == "600"
    second = reg.on_response(response(first, 401, [("WWW-Authenticate", 'Digest realm="c", nonce="n1", qop="auth"')]), 0.1)
    assert second is not None and 'username="alice"' in second.headers.get("Authorization")
    assert second.call_id == first.call_id and second.cseq[0] == first.cseq[0] + 1
    assert second.headers.get("Via") != first.headers.get("Via")
    assert reg.on_response(response(second, 200, [("Contact", "<sip:3838@192.0.2.10:5060>;expires=120")]), 0.2) is None
    assert reg.state == "registered" and reg.granted == 120
    assert reg.poll(50.0) is None
    refresh = reg.poll(61.0)
    assert refresh is not None and refresh.call_id == first.call_id


def test_same_nonce_twice_means_wrong_password_then_backoff() -> None:
    reg = registration()
    first = reg.start(0.0)
    challenge = [("WWW-Authenticate", 'Digest realm="c", nonce="n1"')]
    second = reg.on_response(response(first, 401, challenge), 0.1)
    assert reg.on_response(response(second, 401, challenge), 0.2) is None
    assert reg.state == "failed" and reg.reason == "credentials rejected"
    assert reg.poll(20.0) is None and reg.poll(31.0) is not None


def test_proxy_auth_stale_nonce_and_interval_too_brief() -> None:
    reg = registration(expires=30)
    first = reg.start(0.0)
    second = reg.on_response(response(first, 407, [("Proxy-Authenticate", 'Digest realm="c", nonce="a"')]), 0.1)
    assert second.headers.get("Proxy-Authorization")
    third = reg.on_response(response(second, 401, [("WWW-Authenticate", 'Digest realm="c", nonce="a", stale=true')]), 0.2)
    assert third is not None
    fourth = reg.on_response(response(third, 423, [("Min-Expires", "60")]), 0.3)
    assert fourth.headers.get("Expires") == "60"


def test_timeout_and_unregister() -> None:
    reg = registration()
    reg.start(0.0)
    reg.on_timeout(32.0)
    assert reg.state == "failed" and reg.next_action_at == 62.0
    bye = reg.stop(40.0)
    assert bye.headers.get("Expires") == "0" and "expires=0" in bye.headers.get("Contact")
