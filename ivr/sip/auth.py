"""HTTP digest authentication, client side (RFC 2617, RFC 7616), as SIP uses it (RFC 3261 22).

Algorithms MD5, MD5-sess, SHA-256 and SHA-256-sess; qop "auth", "auth-int" or none (RFC 2069 style).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field

from .message import split_list

_HASH_NAMES = {"MD5": "md5", "SHA-256": "sha256"}      # digest algorithm → hashlib name


class AuthError(ValueError):
    """A challenge we cannot parse or answer."""


@dataclass
class Challenge:
    """One Digest challenge from a WWW-Authenticate or Proxy-Authenticate header."""

    scheme: str
    realm: str
    nonce: str
    opaque: str | None = None
    algorithm: str = "MD5"
    qop: list[str] = field(default_factory=list)
    stale: bool = False


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) < 2 or value[0] != '"' or value[-1] != '"':
        return value
    out: list[str] = []
    escaped = False
    for ch in value[1:-1]:
        if escaped or ch != "\\":
            out.append(ch)
            escaped = False
        else:
            escaped = True
    return "".join(out)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_challenge(value: str) -> Challenge:
    """Parse a WWW-Authenticate / Proxy-Authenticate value; raises AuthError if it is not Digest."""
    parts = value.strip().split(None, 1)
    if not parts or parts[0].lower() != "digest":
        raise AuthError(f"unsupported authentication scheme in {value[:40]!r}")
    params: dict[str, str] = {}
    for item in split_list(parts[1] if len(parts) > 1 else ""):
        key, sep, raw = item.partition("=")
        if sep:
            params[key.strip().lower()] = _unquote(raw)
    if "realm" not in params or "nonce" not in params:
        raise AuthError("digest challenge without realm or nonce")
    qop = [q.strip().lower() for q in params.get("qop", "").split(",") if q.strip()]
    return Challenge("Digest", params["realm"], params["nonce"], params.get("opaque"),
                     params.get("algorithm", "MD5"), qop, params.get("stale", "").lower() == "true")


def _method(challenge: Challenge) -> tuple[str, bool, str | None]:
    """(hashlib name, whether -sess, qop to use) for `challenge`; raises AuthError if we cannot answer."""
    algorithm = challenge.algorithm.upper()
    sess = algorithm.endswith("-SESS")
    hash_name = _HASH_NAMES.get(algorithm.removesuffix("-SESS"))
    if hash_name is None:
        raise AuthError(f"unsupported digest algorithm {challenge.algorithm!r}")
    if not challenge.qop:
        return hash_name, sess, None
    for qop in ("auth", "auth-int"):
        if qop in challenge.qop:
            return hash_name, sess, qop
    raise AuthError(f"unsupported qop {challenge.qop!r}")


def is_supported(challenge: Challenge) -> bool:
    """Whether `authorization` can answer `challenge` (its algorithm and qop)."""
    try:
        _method(challenge)
    except AuthError:
        return False
    return True


def authorization(challenge: Challenge, method: str, uri: str, username: str, password: str, *,
                  cnonce: str | None = None, nc: int = 1, body: bytes = b"") -> str:
    """The Authorization / Proxy-Authorization value answering `challenge` for `method` `uri`.

    Uses qop=auth when offered, else auth-int (hashing `body`), else no qop. `nc` counts the
    requests sent with this nonce, starting at 1. Raises AuthError for an algorithm or qop we lack.
    """
    hash_name, sess, qop = _method(challenge)

    def h(data: str | bytes) -> str:
        return hashlib.new(hash_name, data.encode() if isinstance(data, str) else data).hexdigest()

    cnonce = cnonce or secrets.token_hex(8)
    nc_text = f"{nc:08x}"
    ha1 = h(f"{username}:{challenge.realm}:{password}")
    if sess:
        ha1 = h(f"{ha1}:{challenge.nonce}:{cnonce}")
    ha2 = h(f"{method}:{uri}:{h(body)}" if qop == "auth-int" else f"{method}:{uri}")
    if qop is None:
        response = h(f"{ha1}:{challenge.nonce}:{ha2}")
    else:
        response = h(f"{ha1}:{challenge.nonce}:{nc_text}:{cnonce}:{qop}:{ha2}")
    fields = [f"username={_quote(username)}", f"realm={_quote(challenge.realm)}",
              f"nonce={_quote(challenge.nonce)}", f"uri={_quote(uri)}", f"response={_quote(response)}",
              f"algorithm={challenge.algorithm}"]
    if qop is not None:
        fields += [f"qop={qop}", f"nc={nc_text}", f"cnonce={_quote(cnonce)}"]
    if challenge.opaque is not None:
        fields.append(f"opaque={_quote(challenge.opaque)}")
    return "Digest " + ", ".join(fields)
