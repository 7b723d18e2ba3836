"""HTTP digest authentication, client side (RFC 2617, RFC 7616), as SIP uses it (RFC 3261 22)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field

from .message import split_list


class AuthError(ValueError):
    """A challenge we cannot answer."""


_HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


@dataclass
class Challenge:
    scheme: str
    realm: str
    nonce: str
    opaque: str | None = None
    algorithm: str = "MD5"
    qop: list[str] = field(default_factory=list)
    stale: bool = False


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        out, escaped = [], False
        for ch in value[1:-1]:
            if escaped:
                out.append(ch)
                escaped = False
            elif ch == "\\":
                escaped = True
            else:
                out.append(ch)
        return "".join(out)
    return value


def parse_challenge(value: str) -> Challenge:
    """Parse a WWW-Authenticate / Proxy-Authenticate value."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        raise AuthError(f"unsupported scheme {scheme!r}")
    params: dict[str, str] = {}
    for item in split_list(rest):
        key, sep, raw = item.partition("=")
        if sep:
            params[key.strip().lower()] = _unquote(raw)
    if "realm" not in params or "nonce" not in params:
        raise AuthError("challenge without realm or nonce")
    algorithm = params.get("algorithm", "MD5")
    qop = [q.strip() for q in params.get("qop", "").split(",") if q.strip()]
    return Challenge("Digest", params["realm"], params["nonce"], params.get("opaque"), algorithm, qop,
                     params.get("stale", "").lower() == "true")


def authorization(challenge: Challenge, method: str, uri: str, username: str, password: str, *,
                  cnonce: str | None = None, nc: int = 1) -> str:
    """The Authorization / Proxy-Authorization value answering `challenge`."""
    base, _, sess = challenge.algorithm.upper().partition("-SESS")
    digest = _HASHES.get(base)
    if digest is None:
        raise AuthError(f"unsupported algorithm {challenge.algorithm}")
    if challenge.qop and "auth" not in challenge.qop:
        raise AuthError(f"unsupported qop {challenge.qop}")

    def h(text: str) -> str:
        return digest(text.encode()).hexdigest()

    cnonce = cnonce or secrets.token_hex(8)
    nc_text = f"{nc:08x}"
    ha1 = h(f"{username}:{challenge.realm}:{password}")
    if challenge.algorithm.upper().endswith("-SESS"):
        ha1 = h(f"{ha1}:{challenge.nonce}:{cnonce}")
    ha2 = h(f"{method}:{uri}")
    if challenge.qop:
        response = h(f"{ha1}:{challenge.nonce}:{nc_text}:{cnonce}:auth:{ha2}")
    else:
        response = h(f"{ha1}:{challenge.nonce}:{ha2}")
    parts = [f'username="{username}"', f'realm="{challenge.realm}"', f'nonce="{challenge.nonce}"',
             f'uri="{uri}"', f'response="{response}"', f"algorithm={challenge.algorithm}"]
    if challenge.qop:
        parts += ["qop=auth", f"nc={nc_text}", f'cnonce="{cnonce}"']
    if challenge.opaque is not None:
        parts.append(f'opaque="{challenge.opaque}"')
    return "Digest " + ", ".join(parts)
