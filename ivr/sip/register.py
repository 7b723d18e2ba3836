"""Outbound registration to a carrier trunk (RFC 3261 10), with digest authentication, sans-I/O.

`Registration` builds REGISTER requests and reads their final responses; the user agent sends them
through client transactions and reports each final response (or a timeout) back. It refreshes before
the granted expiry and backs off after failures.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .auth import AuthError, authorization, parse_challenge
from .dialog import new_tag
from .message import Request, Response, SipParseError, new_request, parse_name_addr, parse_uri
from .transaction import Endpoint, new_branch


@dataclass
class RegistrationConfig:
    registrar: str                      # sip:host[:port]
    aor: str                            # sip:user@domain
    username: str
    password: str
    contact_host: str
    contact_port: int
    transport: str = "UDP"
    expires: int = 3600

    @property
    def destination(self) -> Endpoint:
        uri = parse_uri(self.registrar)
        return Endpoint(self.transport, uri.host.strip("[]"), uri.port or 5060)


class Registration:
    """State of our binding at the registrar: idle, registering, registered or failed."""

    MIN_BACKOFF = 30.0
    MAX_BACKOFF = 600.0

    def __init__(self, config: RegistrationConfig) -> None:
        self.config = config
        self.state = "idle"
        self.reason = ""
        self.granted: int | None = None
        self.next_action_at: float | None = None
        self._call_id = f"{new_tag()}{new_tag()}@{config.contact_host}"
        self._from_tag = new_tag()
        self._cseq = random.randint(1, 1000)
        self._expires = config.expires
        self._answered_nonces: set[str] = set()
        self._backoff = self.MIN_BACKOFF
        self._auth_header: tuple[str, str] | None = None
        self._unregistering = False

    def start(self, now: float) -> Request:
        self.state = "registering"
        self._auth_header = None
        return self._request(self._expires)

    def stop(self, now: float) -> Request:
        """Remove our binding (Expires: 0)."""
        self._unregistering = True
        self.next_action_at = None
        return self._request(0)

    def poll(self, now: float) -> Request | None:
        """The refresh or retry that is due, if any."""
        if self.next_action_at is None or now < self.next_action_at or self._unregistering:
            return None
        self.next_action_at = None
        return self.start(now)

    def on_timeout(self, now: float) -> None:
        self._fail("registrar did not answer", now)

    def on_response(self, response: Response, now: float) -> Request | None:
        """Handle a final response; returns the next REGISTER to send right away, if any."""
        if self._unregistering:
            self.state = "idle"
            return None
        status = response.status
        if status in (401, 407):
            header = "WWW-Authenticate" if status == 401 else "Proxy-Authenticate"
            try:
                challenge = parse_challenge(response.headers.get(header) or "")
            except AuthError as exc:
                self._fail(str(exc), now)
                return None
            if challenge.nonce in self._answered_nonces and not challenge.stale:
                self._fail("credentials rejected", now)
                return None
            self._answered_nonces.add(challenge.nonce)
            name = "Authorization" if status == 401 else "Proxy-Authorization"
            self._auth_header = (name, authorization(
                challenge, "REGISTER", self.config.registrar, self.config.username, self.config.password))
            return self._request(self._expires)
        if status == 423:
            minimum = response.headers.get("Min-Expires") or ""
            if minimum.isdigit() and int(minimum) > self._expires:
                self._expires = int(minimum)
                return self._request(self._expires)
            self._fail("423 without a usable Min-Expires", now)
            return None
        if 200 <= status < 300:
            self.granted = self._granted(response)
            self.state = "registered"
            self.reason = ""
            self._backoff = self.MIN_BACKOFF
            self.next_action_at = now + max(self.granted / 2, self.granted - 60)
            return None
        self._fail(f"{status} {response.reason}", now)
        return None

    def _granted(self, response: Response) -> int:
        ours = parse_uri(self._contact_uri())
        for contact in response.headers.get_all("Contact"):
            try:
                addr = parse_name_addr(contact)
                uri = addr.parsed_uri()
            except SipParseError:
                continue
            if (uri.host, uri.port) == (ours.host, ours.port) and (addr.params.get("expires") or "").isdigit():
                return int(addr.params["expires"] or 0)
        expires = response.headers.get("Expires") or ""
        return int(expires) if expires.isdigit() else self._expires

    def _fail(self, reason: str, now: float) -> None:
        self.state = "failed"
        self.reason = reason
        self.next_action_at = now + self._backoff
        self._backoff = min(self._backoff * 2, self.MAX_BACKOFF)
        self._answered_nonces.clear()

    def _contact_uri(self) -> str:
        user = parse_uri(self.config.aor).user or "ivr"
        suffix = "" if self.config.transport == "UDP" else f";transport={self.config.transport.lower()}"
        return f"sip:{user}@{self.config.contact_host}:{self.config.contact_port}{suffix}"

    def _request(self, expires: int) -> Request:
        self._cseq += 1
        c = self.config
        headers = [
            ("Via", f"SIP/2.0/{c.transport} {c.contact_host}:{c.contact_port};branch={new_branch()};rport"),
            ("Max-Forwards", "70"),
            ("From", f"<{c.aor}>;tag={self._from_tag}"),
            ("To", f"<{c.aor}>"),
            ("Call-ID", self._call_id),
            ("CSeq", f"{self._cseq} REGISTER"),
            ("Contact", f"<{self._contact_uri()}>;expires={expires}"),
            ("Expires", str(expires)),
            ("User-Agent", "ivr/0.1"),
        ]
        if self._auth_header is not None:
            headers.append(self._auth_header)
        return new_request("REGISTER", c.registrar, headers)
