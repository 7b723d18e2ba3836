"""Outbound registration to a carrier trunk (RFC 3261 section 10) with digest authentication, sans-I/O.

`Registration` builds REGISTER requests and reads their final responses; the user agent sends each
request through a client transaction (which retransmits over UDP) and reports back the final response
(`receive`) or the timeout (`on_timeout`). Every method takes the current time and returns the
requests to send now.

Rules:
- One Call-ID for the whole life of the registration, CSeq +1 per request, a new Via branch each time.
- A 401/407 is answered once per attempt and realm; another non-stale challenge for the same realm in
  the same attempt (same nonce or not) means the credentials are wrong: FAILED. stale=true is answered
  again. After a success the credentials are sent up front on refreshes (nc counts up).
- 423 Interval Too Brief: ask again with the registrar's Min-Expires.
- 2xx: the granted expiry is our Contact's expires parameter, else the Expires header, else what we
  asked. The refresh is due `granted - max(5 s, 10 % of granted)` after the 200, but never earlier than
  half the granted time (3600 s → 3240 s; 60 s → 54 s; 8 s → 4 s).
- Failures (error responses, timeouts) retry after a backoff of 30 s doubling up to 10 min, or after
  the registrar's Retry-After when that is longer.
- `stop` removes our binding (Contact;expires=0, Expires: 0); nothing is retried after it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from .auth import AuthError, Challenge, authorization, is_supported, parse_challenge
from .dialog import new_tag
from .message import Request, Response, SipParseError, new_request, parse_name_addr, parse_uri
from .transaction import Endpoint, new_branch


class RegistrationError(ValueError):
    """A registration that cannot be configured as given."""


class RegistrationState(StrEnum):
    IDLE = "idle"
    REGISTERING = "registering"
    REGISTERED = "registered"
    FAILED = "failed"
    UNREGISTERING = "unregistering"
    UNREGISTERED = "unregistered"


@dataclass
class RegistrationConfig:
    """Where and as whom to register, and the Contact to bind."""

    registrar: str                      # Request-URI, e.g. sip:sip.carrier.example:5060
    aor: str                            # address of record, e.g. sip:3838@carrier.example
    username: str
    password: str
    contact_host: str                   # our SIP address as the registrar should reach it
    contact_port: int
    transport: str = "UDP"
    expires: int = 3600
    contact_user: str | None = None     # defaults to the user part of the AOR
    user_agent: str | None = "ivr"       # User-Agent header value (None: not sent)

    def __post_init__(self) -> None:
        try:
            parse_uri(self.registrar)
            parse_uri(self.aor)
        except SipParseError as exc:
            raise RegistrationError(str(exc)) from exc
        if self.expires <= 0:
            raise RegistrationError(f"expires must be positive, not {self.expires}")
        self.transport = self.transport.upper()

    @property
    def destination(self) -> Endpoint:
        """The registrar's transport address (port 5060 when the URI has none)."""
        uri = parse_uri(self.registrar)
        return Endpoint(self.transport, uri.host.strip("[]"), uri.port or 5060)

    @property
    def contact_uri(self) -> str:
        user = self.contact_user or parse_uri(self.aor).user or "ivr"
        suffix = "" if self.transport == "UDP" else f";transport={self.transport.lower()}"
        return f"sip:{user}@{_hostport(self.contact_host, self.contact_port)}{suffix}"


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


@dataclass
class _Credentials:
    """The last challenge of one kind (401 or 407), reused until the registrar sends another."""

    header: str                         # Authorization or Proxy-Authorization
    challenge: Challenge
    uses: int = 0                       # requests sent with this nonce (the nc value)


@dataclass
class _Attempt:
    """The exchange started by one REGISTER (a first try, a refresh, a retry or the removal)."""

    cseq: int | None = None             # of the request waiting for its final response
    answered: list[tuple[str, str]] = field(default_factory=list)   # (header, realm) per challenge


class Registration:
    """Our binding at one registrar: state, the granted expiry and when to send the next REGISTER."""

    MIN_BACKOFF = 30.0
    MAX_BACKOFF = 600.0
    REFRESH_MARGIN = 5.0                # refresh at least this long before expiry...
    REFRESH_FRACTION = 0.1              # ...or this share of the granted time, whichever is longer
    MAX_CHALLENGES = 4                  # per attempt, against registrars that keep saying stale

    def __init__(self, config: RegistrationConfig) -> None:
        self.config = config
        self.state = RegistrationState.IDLE
        self.reason = ""
        self.granted: int | None = None             # seconds granted by the last 2xx
        self.expires_at: float | None = None        # when that binding lapses
        self.next_refresh_at: float | None = None   # when poll() sends the next refresh or retry
        self._call_id = f"{new_tag()}{new_tag()}@{_hostport(config.contact_host, config.contact_port)}"
        self._from_tag = new_tag()
        self._cseq = 0
        self._requested = config.expires
        self._backoff = self.MIN_BACKOFF
        self._credentials: dict[str, _Credentials] = {}
        self._attempt = _Attempt()
        self._stopping = False

    # -- driven by the user agent ---------------------------------------------------------------

    def start(self, now: float) -> list[Request]:
        """Register now (again, if already registered)."""
        self._stopping = False
        if self.state != RegistrationState.REGISTERED:
            self.state = RegistrationState.REGISTERING
        return self._new_attempt()

    def stop(self, now: float) -> list[Request]:
        """Remove our binding; nothing to send if we never registered."""
        if self.state in (RegistrationState.IDLE, RegistrationState.UNREGISTERED):
            return []
        self._stopping = True
        self.state = RegistrationState.UNREGISTERING
        self.next_refresh_at = None
        return self._new_attempt()

    def poll(self, now: float) -> list[Request]:
        """The refresh or retry that is due, if any."""
        if (self._stopping or self._attempt.cseq is not None or self.next_refresh_at is None
                or now < self.next_refresh_at):
            return []
        self.next_refresh_at = None
        return self._new_attempt()

    def receive(self, response: Response, now: float) -> list[Request]:
        """Handle the final response to our outstanding REGISTER; returns the follow-up, if any."""
        if not self._answers_pending(response):
            return []
        self._attempt.cseq = None
        status = response.status
        if status in (401, 407):
            return self._answer_challenge(response, now)
        if status == 423:
            minimum = response.headers.get("Min-Expires") or ""
            if not self._stopping and minimum.isascii() and minimum.isdigit() and int(minimum) > self._requested:
                self._requested = int(minimum)
                return [self._request()]
            self._fail(f"423 without a usable Min-Expires ({minimum or 'none'})", now)
        elif 200 <= status < 300:
            self._succeed(response, now)
        else:
            self._fail(f"{status} {response.reason}", now, _retry_after(response))
        return []

    def on_timeout(self, now: float) -> None:
        """The client transaction of our REGISTER timed out without a final response."""
        if self._attempt.cseq is not None:
            self._attempt.cseq = None
            self._fail("no answer from the registrar", now)

    # -- internals ------------------------------------------------------------------------------

    def _answers_pending(self, response: Response) -> bool:
        if self._attempt.cseq is None or response.status < 200 or response.call_id != self._call_id:
            return False
        try:
            return response.cseq == (self._attempt.cseq, "REGISTER")
        except SipParseError:
            return False

    def _answer_challenge(self, response: Response, now: float) -> list[Request]:
        header = "Authorization" if response.status == 401 else "Proxy-Authorization"
        challenge_header = "WWW-Authenticate" if response.status == 401 else "Proxy-Authenticate"
        challenges = [value for name, value in response.headers if name == challenge_header]
        challenge = next(filter(None, map(_usable_challenge, challenges)), None)
        if challenge is None:
            self._fail(f"{response.status} with no challenge we can answer: {challenges}", now)
            return []
        answered = (header, challenge.realm)
        if answered in self._attempt.answered and not challenge.stale:
            self._fail(f"credentials rejected ({response.status} {response.reason})", now)
            return []
        if len(self._attempt.answered) >= self.MAX_CHALLENGES:
            self._fail(f"too many challenges ({response.status} {response.reason})", now)
            return []
        self._attempt.answered.append(answered)
        self._credentials[header] = _Credentials(header, challenge)
        return [self._request()]

    def _succeed(self, response: Response, now: float) -> None:
        self.reason = ""
        self._backoff = self.MIN_BACKOFF
        if self._stopping:
            self.state = RegistrationState.UNREGISTERED
            self.granted = self.expires_at = None
            return
        granted = self._granted(response)
        if granted <= 0:
            self._fail("registrar granted no time to our binding", now)
            return
        self.state = RegistrationState.REGISTERED
        self.granted = granted
        self.expires_at = now + granted
        margin = max(self.REFRESH_MARGIN, granted * self.REFRESH_FRACTION)
        self.next_refresh_at = now + max(granted - margin, granted / 2)

    def _granted(self, response: Response) -> int:
        ours = parse_uri(self.config.contact_uri)
        for contact in response.headers.get_all("Contact"):
            try:
                addr = parse_name_addr(contact)
                uri = addr.parsed_uri()
            except SipParseError:
                continue
            expires = addr.params.get("expires") or ""
            ours_too = (uri.user, uri.host, uri.port or 5060) == (ours.user, ours.host, ours.port)
            if ours_too and expires.isascii() and expires.isdigit():
                return int(expires)
        expires = (response.headers.get("Expires") or "").strip()
        return int(expires) if expires.isascii() and expires.isdigit() else self._requested

    def _fail(self, reason: str, now: float, retry_after: int | None = None) -> None:
        self.state = RegistrationState.FAILED
        self.reason = f"removing the binding failed: {reason}" if self._stopping else reason
        self._credentials.clear()
        if self._stopping:
            self.next_refresh_at = None
            return
        self.next_refresh_at = now + max(self._backoff, retry_after or 0)
        self._backoff = min(self._backoff * 2, self.MAX_BACKOFF)

    def _new_attempt(self) -> list[Request]:
        self._attempt = _Attempt()
        return [self._request()]

    def _request(self) -> Request:
        self._cseq += 1
        self._attempt.cseq = self._cseq
        c = self.config
        expires = 0 if self._stopping else self._requested
        headers = [
            ("Via", f"SIP/2.0/{c.transport} {_hostport(c.contact_host, c.contact_port)};branch={new_branch()};rport"),
            ("Max-Forwards", "70"),
            ("From", f"<{c.aor}>;tag={self._from_tag}"),
            ("To", f"<{c.aor}>"),
            ("Call-ID", self._call_id),
            ("CSeq", f"{self._cseq} REGISTER"),
            ("Contact", f"<{c.contact_uri}>;expires={expires}"),
            ("Expires", str(expires)),
            *([("User-Agent", c.user_agent)] if c.user_agent else []),
        ]
        for credentials in self._credentials.values():
            credentials.uses += 1
            headers.append((credentials.header, authorization(
                credentials.challenge, "REGISTER", c.registrar, c.username, c.password, nc=credentials.uses)))
        return new_request("REGISTER", c.registrar, headers)


def _usable_challenge(value: str) -> Challenge | None:
    """The challenge in `value` if we can answer it."""
    try:
        challenge = parse_challenge(value)
    except AuthError:
        return None
    return challenge if is_supported(challenge) else None


def _retry_after(response: Response) -> int | None:
    match = re.match(r"\s*(\d+)", response.headers.get("Retry-After") or "")
    return int(match.group(1)) if match else None
