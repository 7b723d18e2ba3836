"""Digest authentication, client side, against the worked examples of RFC 2617, RFC 7616 and RFC 2069."""

from __future__ import annotations

import hashlib

import pytest

from ivr.sip.auth import AuthError, Challenge, authorization, is_supported, parse_challenge

RFC2617_CHALLENGE = ('Digest realm="testrealm@host.com", qop="auth,auth-int", '
                     'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"')
RFC7616_CHALLENGE = ('Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm={algorithm}, '
                     'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
                     'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"')
RFC7616_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"


def fields(value: str) -> dict[str, str]:
    assert value.startswith("Digest ")
    out = {}
    for item in value[len("Digest "):].split(", "):
        key, _, raw = item.partition("=")
        out[key] = raw
    return out


def test_rfc2617_section_3_5_example() -> None:
    challenge = parse_challenge(RFC2617_CHALLENGE)
    assert challenge == Challenge("Digest", "testrealm@host.com", "dcd98b7102dd2f0e8b11d0f600bfb0c093",
                                  "5ccc069c403ebaf9f0171e9517f40e41", "MD5", ["auth", "auth-int"], False)
    value = authorization(challenge, "GET", "/dir/index.html", "Mufasa", "Circle Of Life", cnonce="0a4f113b")
    assert fields(value) == {
        "username": '"Mufasa"', "realm": '"testrealm@host.com"', "nonce": '"dcd98b7102dd2f0e8b11d0f600bfb0c093"',
        "uri": '"/dir/index.html"', "response": '"6629fae49393a05397450978507c4ef1"', "algorithm": "MD5",
        "qop": "auth", "nc": "00000001", "cnonce": '"0a4f113b"', "opaque": '"5ccc069c403ebaf9f0171e9517f40e41"',
    }


@pytest.mark.parametrize("algorithm, response", [
    ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
    ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
])
def test_rfc7616_section_3_9_1_examples(algorithm: str, response: str) -> None:
    challenge = parse_challenge(RFC7616_CHALLENGE.format(algorithm=algorithm))
    value = authorization(challenge, "GET", "/dir/index.html", "Mufasa", "Circle of Life", cnonce=RFC7616_CNONCE)
    assert fields(value)["response"] == f'"{response}"'
    assert fields(value)["algorithm"] == algorithm


def test_no_qop_as_in_rfc2069_with_its_erratum() -> None:
    challenge = parse_challenge('Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093"')
    value = authorization(challenge, "GET", "/dir/index.html", "Mufasa", "Circle Of Life")
    assert fields(value)["response"] == '"670fd8c2df070c60b045671b8b24ff02"'
    assert "qop" not in fields(value) and "nc" not in fields(value) and "opaque" not in fields(value)


def md5(text: str | bytes) -> str:
    return hashlib.md5(text.encode() if isinstance(text, str) else text).hexdigest()


def test_md5_sess_and_nonce_count() -> None:
    challenge = parse_challenge('Digest realm="carrier", nonce="abc", qop="auth", algorithm=MD5-sess')
    value = authorization(challenge, "REGISTER", "sip:carrier", "alice", "pw", cnonce="c0ffee", nc=10)
    ha1 = md5(f"{md5('alice:carrier:pw')}:abc:c0ffee")
    expected = md5(f"{ha1}:abc:0000000a:c0ffee:auth:{md5('REGISTER:sip:carrier')}")
    assert fields(value)["response"] == f'"{expected}"'
    assert fields(value)["nc"] == "0000000a" and fields(value)["algorithm"] == "MD5-sess"


def test_auth_int_hashes_the_body_when_it_is_the_only_qop() -> None:
    challenge = parse_challenge('Digest realm="r", nonce="n", qop="auth-int"')
    with_body = authorization(challenge, "INVITE", "sip:x", "u", "p", cnonce="c", body=b"v=0\r\n")
    empty = authorization(challenge, "INVITE", "sip:x", "u", "p", cnonce="c")
    assert fields(with_body)["qop"] == "auth-int"
    expected = md5(f"{md5('u:r:p')}:n:00000001:c:auth-int:{md5('INVITE:sip:x:' + md5(b'v=0' + bytes([13, 10])))}")
    assert fields(with_body)["response"] == f'"{expected}"' != fields(empty)["response"]


def test_quoted_strings_with_escapes_and_commas_and_odd_spacing() -> None:
    challenge = parse_challenge('digest  REALM="Carrier, \\"Inc\\"" ,nonce="a,b" , stale=TRUE,'
                                'qop="auth",algorithm=md5, domain="sip:a sip:b", opaque=xyz')
    assert challenge.realm == 'Carrier, "Inc"' and challenge.nonce == "a,b"
    assert challenge.stale and challenge.qop == ["auth"] and challenge.opaque == "xyz"
    value = authorization(challenge, "REGISTER", "sip:carrier", 'al"ice', "pw", cnonce="c")
    assert 'realm="Carrier, \\"Inc\\""' in value and 'username="al\\"ice"' in value
    # The answer parses back to the same realm and nonce, as a server would read it.
    assert parse_challenge(value).realm == 'Carrier, "Inc"'


@pytest.mark.parametrize("value", ['Basic realm="x"', 'Digest realm="x"', 'Digest nonce="n"', "", "Digest"])
def test_unparseable_challenges(value: str) -> None:
    with pytest.raises(AuthError):
        parse_challenge(value)


@pytest.mark.parametrize("extra", ["algorithm=SHA-512-256", "algorithm=AKAv1-MD5", 'qop="auth-conf"'])
def test_unsupported_algorithm_or_qop(extra: str) -> None:
    challenge = parse_challenge(f'Digest realm="r", nonce="n", {extra}')
    assert not is_supported(challenge)
    with pytest.raises(AuthError):
        authorization(challenge, "REGISTER", "sip:x", "u", "p")


def test_random_cnonce_differs_between_calls() -> None:
    challenge = parse_challenge(RFC2617_CHALLENGE)
    first = fields(authorization(challenge, "REGISTER", "sip:x", "u", "p"))
    second = fields(authorization(challenge, "REGISTER", "sip:x", "u", "p"))
    assert first["cnonce"] != second["cnonce"] and first["response"] != second["response"]
