"""The REGISTER client through whole exchanges with a registrar played by hand-built responses."""

from __future__ import annotations

import hashlib

import pytest

from ivr.sip.message import Request, Response, make_response, parse_message, parse_name_addr
from ivr.sip.register import Registration, RegistrationConfig, RegistrationError, RegistrationState
from ivr.sip.transaction import Endpoint

REGISTRAR = "sip:sip.carrier.test:5080"


def config(**changes) -> RegistrationConfig:
    values = dict(registrar=REGISTRAR, aor="sip:3838@carrier.test", username="alice", password="wonderland",
                  contact_host="192.0.2.10", contact_port=5062, expires=600)
    return RegistrationConfig(**(values | changes))


def reply(request: Request, status: int, *headers: tuple[str, str]) -> Response:
    """The registrar's response, after a trip over the wire and back."""
    wire = make_response(request, status, to_tag="reg1", headers=list(headers)).serialize()
    response = parse_message(wire)
    assert isinstance(response, Response)
    return response


def on_wire(requests: list[Request]) -> Request:
    """The one request to send, as the registrar would parse it."""
    assert len(requests) == 1
    request = parse_message(requests[0].serialize())
    assert isinstance(request, Request)
    return request


def www(nonce: str, *, stale: bool = False, realm: str = "carrier.test") -> tuple[str, str]:
    return ("WWW-Authenticate",
            f'Digest realm="{realm}", nonce="{nonce}", qop="auth", algorithm=MD5' + (", stale=true" if stale else ""))


def digest_ok(value: str, password: str = "wonderland") -> bool:
    """What a registrar checks: the response hash, computed independently of ivr.sip.auth."""
    params = {}
    for item in value.removeprefix("Digest ").split(", "):
        key, _, raw = item.partition("=")
        params[key] = raw.strip('"')

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    ha1 = md5(f"{params['username']}:{params['realm']}:{password}")
    ha2 = md5(f"REGISTER:{params['uri']}")
    expected = md5(f"{ha1}:{params['nonce']}:{params['nc']}:{params['cnonce']}:auth:{ha2}")
    return params["response"] == expected and params["uri"] == REGISTRAR


def register(reg: Registration, now: float = 0.0, granted: int = 600) -> Request:
    """Take `reg` through 401 and 200; returns the authorised REGISTER."""
    first = on_wire(reg.start(now))
    second = on_wire(reg.receive(reply(first, 401, www("n1")), now + 0.1))
    assert reg.receive(reply(second, 200, ("Contact", f"<sip:3838@192.0.2.10:5062>;expires={granted}")),
                       now + 0.2) == []
    return second


def test_first_register_is_well_formed() -> None:
    reg = Registration(config())
    request = on_wire(reg.start(0.0))
    assert request.method == "REGISTER" and request.uri == REGISTRAR
    via = request.top_via
    assert via.branch.startswith("z9hG4bK") and "rport" in via.params and via.transport == "UDP"
    assert request.from_addr.uri == "sip:3838@carrier.test" and request.from_addr.tag
    assert request.to_addr.uri == "sip:3838@carrier.test" and request.to_addr.tag is None
    assert request.cseq == (1, "REGISTER")
    contact = parse_name_addr(request.headers.get("Contact"))
    assert contact.uri == "sip:3838@192.0.2.10:5062" and contact.params["expires"] == "600"
    assert request.headers.get("Expires") == "600" and request.headers.get("Max-Forwards") == "70"
    assert "Authorization" not in request.headers
    assert reg.state == RegistrationState.REGISTERING
    assert reg.config.destination == Endpoint("UDP", "sip.carrier.test", 5080)


def test_plain_200_registers_with_the_granted_expiry() -> None:
    reg = Registration(config())
    first = on_wire(reg.start(100.0))
    # The registrar lists another device's binding first, and grants us less than we asked.
    assert reg.receive(reply(first, 200, ("Contact", "<sip:3838@198.51.100.4>;expires=3000"),
                             ("Contact", "<sip:3838@192.0.2.10:5062>;expires=300")), 100.5) == []
    assert reg.state == "registered" and reg.granted == 300
    assert reg.expires_at == 400.5 and reg.next_refresh_at == pytest.approx(100.5 + 270)


def test_401_then_200_with_a_correct_digest() -> None:
    reg = Registration(config())
    first = on_wire(reg.start(0.0))
    second = on_wire(reg.receive(reply(first, 401, www("n1")), 0.1))
    assert digest_ok(second.headers.get("Authorization"))
    assert 'username="alice"' in second.headers.get("Authorization")
    assert second.call_id == first.call_id and second.cseq == (2, "REGISTER")
    assert second.top_via.branch != first.top_via.branch
    assert second.from_addr.tag == first.from_addr.tag
    reg.receive(reply(second, 200, ("Expires", "600")), 0.2)
    assert reg.state == RegistrationState.REGISTERED and reg.granted == 600 and reg.reason == ""


def test_proxy_challenge_then_registrar_challenge() -> None:
    reg = Registration(config())
    first = on_wire(reg.start(0.0))
    proxy = ("Proxy-Authenticate", 'Digest realm="edge", nonce="p1", qop="auth"')
    second = on_wire(reg.receive(reply(first, 407, proxy), 0.1))
    assert 'realm="edge"' in second.headers.get("Proxy-Authorization")
    assert "Authorization" not in second.headers
    third = on_wire(reg.receive(reply(second, 401, www("n1")), 0.2))
    assert 'realm="edge"' in third.headers.get("Proxy-Authorization")
    assert digest_ok(third.headers.get("Authorization"))
    reg.receive(reply(third, 200), 0.3)
    assert reg.state == RegistrationState.REGISTERED and reg.granted == 600    # what we asked for


def test_first_challenge_we_support_is_answered() -> None:
    reg = Registration(config())
    first = on_wire(reg.start(0.0))
    second = on_wire(reg.receive(reply(
        first, 401, ("WWW-Authenticate", 'Digest realm="carrier.test", nonce="x", algorithm=SHA-512-256'),
        www("n1")), 0.1))
    assert 'nonce="n1"' in second.headers.get("Authorization")


def test_unanswerable_challenge_fails() -> None:
    reg = Registration(config())
    first = on_wire(reg.start(0.0))
    assert reg.receive(reply(first, 401, ("WWW-Authenticate", 'Basic realm="x"')), 0.1) == []
    assert reg.state == RegistrationState.FAILED and "no challenge we can answer" in reg.reason


@pytest.mark.parametrize("second_nonce", ["n1", "n2"])
def test_wrong_password_fails_on_the_second_challenge(second_nonce: str) -> None:
    reg = Registration(config(password="guess"))
    first = on_wire(reg.start(0.0))
    second = on_wire(reg.receive(reply(first, 401, www("n1")), 0.1))
    assert not digest_ok(second.headers.get("Authorization"))
    assert reg.receive(reply(second, 401, www(second_nonce)), 0.2) == []
    assert reg.state == RegistrationState.FAILED
    assert reg.reason == "credentials rejected (401 Unauthorized)"
    assert reg.next_refresh_at == pytest.approx(30.2)


def test_stale_nonce_is_answered_again() -> None:
    reg = Registration(config())
    first = on_wire(reg.start(0.0))
    second = on_wire(reg.receive(reply(first, 401, www("n1")), 0.1))
    third = on_wire(reg.receive(reply(second, 401, www("n2", stale=True)), 0.2))
    assert 'nonce="n2"' in third.headers.get("Authorization") and digest_ok(third.headers.get("Authorization"))
    reg.receive(reply(third, 200), 0.3)
    assert reg.state == RegistrationState.REGISTERED


def test_a_registrar_that_is_always_stale_is_given_up() -> None:
    reg = Registration(config())
    request = on_wire(reg.start(0.0))
    for n in range(10):
        follow_up = reg.receive(reply(request, 401, www(f"s{n}", stale=True)), 0.1 * n)
        if not follow_up:
            break
        request = on_wire(follow_up)
    assert reg.state == RegistrationState.FAILED and "too many challenges" in reg.reason


def test_interval_too_brief_asks_again_with_min_expires() -> None:
    reg = Registration(config(expires=30))
    first = on_wire(reg.start(0.0))
    second = on_wire(reg.receive(reply(first, 423, ("Min-Expires", "120")), 0.1))
    assert second.headers.get("Expires") == "120"
    assert parse_name_addr(second.headers.get("Contact")).params["expires"] == "120"
    assert reg.receive(reply(second, 423, ("Min-Expires", "120")), 0.2) == []
    assert reg.state == RegistrationState.FAILED and "Min-Expires" in reg.reason
    # The retry keeps the learnt minimum.
    assert on_wire(reg.poll(31.0)).headers.get("Expires") == "120"


def test_refresh_before_expiry_reuses_credentials_with_a_counted_nonce() -> None:
    reg = Registration(config(expires=3600))
    authorised = register(reg, now=1000.0, granted=3600)
    assert reg.next_refresh_at == pytest.approx(1000.2 + 3240)    # 10 % before expiry
    assert reg.poll(1000.2 + 3239) == []
    refresh = on_wire(reg.poll(1000.2 + 3240))
    assert refresh.call_id == authorised.call_id and refresh.cseq == (3, "REGISTER")
    assert "nc=00000002" in refresh.headers.get("Authorization") and digest_ok(refresh.headers.get("Authorization"))
    assert reg.poll(1000.2 + 3245) == []                          # already in flight
    assert reg.state == RegistrationState.REGISTERED              # the old binding still holds
    reg.receive(reply(refresh, 200, ("Expires", "3600")), 4241.0)
    assert reg.expires_at == 4241.0 + 3600


@pytest.mark.parametrize("granted, refresh_after", [(3600, 3240), (600, 540), (60, 54), (30, 25), (8, 4)])
def test_refresh_rule(granted: int, refresh_after: float) -> None:
    reg = Registration(config(expires=granted))
    register(reg, now=0.0, granted=granted)
    assert reg.next_refresh_at - 0.2 == pytest.approx(refresh_after)


def test_a_challenged_refresh_is_answered() -> None:
    reg = Registration(config())
    register(reg)
    refresh = on_wire(reg.poll(540.2))
    again = on_wire(reg.receive(reply(refresh, 401, www("n9")), 540.3))
    assert 'nonce="n9"' in again.headers.get("Authorization") and "nc=00000001" in again.headers.get("Authorization")
    reg.receive(reply(again, 200), 540.4)
    assert reg.state == RegistrationState.REGISTERED


def test_failures_back_off_doubling_to_ten_minutes_and_success_resets() -> None:
    reg = Registration(config())
    on_wire(reg.start(0.0))
    now = 32.0
    delays = []
    for _ in range(7):
        reg.on_timeout(now)
        assert reg.state == RegistrationState.FAILED and reg.reason == "no answer from the registrar"
        delays.append(reg.next_refresh_at - now)
        assert reg.poll(reg.next_refresh_at - 1) == []
        now = reg.next_refresh_at
        on_wire(reg.poll(now))
        now += 32.0
    assert delays == [30, 60, 120, 240, 480, 600, 600]
    register(reg, now=now)
    request = on_wire(reg.poll(reg.next_refresh_at))
    reg.receive(reply(request, 500), now + 1000)
    assert reg.next_refresh_at == now + 1000 + 30


def test_retry_after_is_honoured_when_longer_than_the_backoff() -> None:
    reg = Registration(config())
    first = on_wire(reg.start(0.0))
    reg.receive(reply(first, 503, ("Retry-After", "300 (maintenance)")), 1.0)
    assert reg.state == RegistrationState.FAILED and reg.reason == "503 Service Unavailable"
    assert reg.next_refresh_at == 301.0


def test_responses_that_are_not_for_our_pending_request_are_ignored() -> None:
    reg = Registration(config())
    first = on_wire(reg.start(0.0))
    second = on_wire(reg.receive(reply(first, 401, www("n1")), 0.1))
    assert reg.receive(reply(first, 200), 0.2) == []               # CSeq 1 is over
    assert reg.receive(reply(second, 100), 0.2) == []              # provisional
    other = reply(second, 200)
    other.headers.set("Call-ID", "someone-else")
    assert reg.receive(other, 0.2) == []
    assert reg.state == RegistrationState.REGISTERING
    reg.receive(reply(second, 200), 0.3)
    assert reg.state == RegistrationState.REGISTERED
    reg.on_timeout(0.4)                                            # nothing pending: no effect
    assert reg.state == RegistrationState.REGISTERED


def test_zero_granted_is_a_failure() -> None:
    reg = Registration(config())
    first = on_wire(reg.start(0.0))
    reg.receive(reply(first, 200, ("Contact", "<sip:3838@192.0.2.10:5062>;expires=0")), 0.1)
    assert reg.state == RegistrationState.FAILED


def test_unregister_removes_only_our_binding_even_when_challenged() -> None:
    reg = Registration(config())
    register(reg)
    removal = on_wire(reg.stop(10.0))
    assert removal.headers.get("Expires") == "0"
    assert parse_name_addr(removal.headers.get("Contact")) == parse_name_addr("<sip:3838@192.0.2.10:5062>;expires=0")
    assert digest_ok(removal.headers.get("Authorization"))
    assert reg.state == RegistrationState.UNREGISTERING and reg.next_refresh_at is None
    again = on_wire(reg.receive(reply(removal, 401, www("n5")), 10.1))
    assert again.headers.get("Expires") == "0"
    reg.receive(reply(again, 200), 10.2)
    assert reg.state == RegistrationState.UNREGISTERED and reg.expires_at is None
    assert reg.poll(10_000.0) == [] and reg.stop(10_001.0) == []


def test_failed_unregister_is_not_retried() -> None:
    reg = Registration(config())
    register(reg)
    on_wire(reg.stop(10.0))
    reg.on_timeout(42.0)
    assert reg.state == RegistrationState.FAILED and reg.reason.startswith("removing the binding failed")
    assert reg.next_refresh_at is None and reg.poll(10_000.0) == []


def test_stop_before_start_sends_nothing() -> None:
    assert Registration(config()).stop(0.0) == []


def test_tcp_and_ipv6_contact() -> None:
    reg = Registration(config(transport="tcp", contact_host="2001:db8::10", contact_user="ivr"))
    request = on_wire(reg.start(0.0))
    assert request.top_via.transport == "TCP"
    assert parse_name_addr(request.headers.get("Contact")).uri == "sip:ivr@[2001:db8::10]:5062;transport=tcp"
    assert reg.config.destination.reliable


@pytest.mark.parametrize("changes", [{"registrar": "registrar.test"}, {"aor": "mailto:a@b"}, {"expires": 0}])
def test_bad_configuration(changes: dict) -> None:
    with pytest.raises(RegistrationError):
        config(**changes)
