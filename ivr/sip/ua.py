"""The SIP user agent core, sans-I/O: calls in, answers, DTMF over INFO, BYE either way; calls out.

`UserAgent.receive(data, source, now)` takes one datagram or framed stream message; the application
drains call events with `drain_events()` and acts with `answer`, `reject`, `hangup`, `accept_modify`.
`invite` places a call (UAC): a digest challenge (401/407) is answered once per realm, provisional
responses and their early media are only reported (`CallProgress`), the 2xx is ACKed and confirms the
dialog (`OutgoingAnswered`), a final error ends the call (`CallEnded` with busy, no_answer or failed);
`hangup` before the answer CANCELs.
Bytes to send come out of `drain_outgoing()`. It knows nothing of campaigns or media: the
application decides which numbers exist and what SDP to answer with.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from typing import Callable

from .access import AllowList, Network
from .auth import AuthError, Challenge, authorization, is_supported, parse_challenge
from .dialog import Dialog, new_tag, uri_user
from .message import (
    Headers, Request, Response, SipError, SipMessageTooLarge, SipParseError, can_respond, check_request,
    make_response, parse_message, parse_name_addr, parse_uri, split_list,
)
from .ratelimit import Rate, SourceLimiter, Verdict, limit_class
from .setup_guard import SetupGuard
from .transaction import (
    Endpoint, IncomingAck, IncomingRequest, IncomingResponse, Send, Timers, TransactionLayer,
    TransactionTimeout, new_branch, response_destination,
)

ResultHandler = Callable[[Response | None, float], None]

log = logging.getLogger(__name__)

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE"
SUPPORTED: frozenset[str] = frozenset()  # option tags we implement: none, so any Require gets a 420
KNOWN_UNSUPPORTED = {"REGISTER", "SUBSCRIBE", "NOTIFY", "PUBLISH", "MESSAGE", "REFER", "PRACK"}
DTMF_SIGNALS = set("0123456789*#ABCD")


@dataclass(frozen=True)
class SipIdentity:
    """What an INVITE says of its caller, unjudged: the From user, the users or numbers of its
    P-Asserted-Identity (RFC 3325) and the values of its Privacy header (RFC 3323). Which one to believe
    is the application's policy (it knows which networks it trusts)."""

    from_user: str
    asserted: tuple[str, ...] = ()
    privacy: frozenset[str] = frozenset()

    @classmethod
    def of(cls, request: Request) -> "SipIdentity":
        asserted: list[str] = []
        for field_value in request.headers.get_all("P-Asserted-Identity"):
            for item in split_list(field_value):
                try:
                    user = uri_user(parse_name_addr(item).uri)
                except SipParseError:
                    continue
                if user:
                    asserted.append(user)
        privacy = frozenset(token.strip().lower() for field_value in request.headers.get_all("Privacy")
                            for token in field_value.replace(",", ";").split(";") if token.strip())
        return cls(uri_user(request.from_addr.uri) or "", tuple(asserted[:2]), privacy)


@dataclass
class Call:
    """One call leg as the SIP core sees it."""

    call_id: str
    number: str | None                 # Request-URI user part: the dialled short number
    caller: str | None                 # From user part
    invite: Request
    source: Endpoint
    invite_key: tuple
    dialog: Dialog
    state: str = "offered"             # offered | answered | confirmed | ended
    end_cause: str | None = None
    bye_key: tuple | None = None
    hangup_pending: bool = False
    offer_cseq: int | None = None      # a re-INVITE without SDP whose 200 carried our offer: its ACK answers
    identity: SipIdentity = SipIdentity("")   # what the INVITE says of the caller (From, P-Asserted-Identity)
    outgoing: "Outgoing | None" = None  # a call we place: how it was dialled (None: a call to us)


@dataclass(frozen=True)
class Credentials:
    """Digest credentials for the trunk's challenges."""

    username: str
    password: str


@dataclass
class Outgoing:
    """What a call we place needs until it is answered or fails: the INVITE (re-sent with credentials once
    per realm), its transaction, a CANCEL asked for before any provisional response, the ACK of the 2xx."""

    credentials: Credentials | None
    local_host: str | None = None       # our address as the trunk reaches it (Via, Contact), when bound to any
    challenged: set[tuple[int, str]] = field(default_factory=set)   # (401/407, realm) answered
    provisional: bool = False
    cancel_asked: bool = False
    ack: bytes | None = None


@dataclass
class CallOffered:
    """A new INVITE: answer, reject or ring it (`offer` is empty for an INVITE without SDP: our 200 then
    makes the offer and the ACK brings the answer, RFC 3261 13.2.1)."""

    call: Call
    offer: bytes


@dataclass
class CallConfirmed:
    """The ACK for our 200 arrived: media may flow both ways. `answer` is the ACK's body: the caller's
    SDP answer when our 200 carried the offer (empty otherwise, or when the caller sent none)."""

    call: Call
    answer: bytes = b""


@dataclass
class CallEnded:
    """The call is over; `cause` is cancelled, remote_bye, local_bye, no_ack or rejected, and for a call we
    placed that was not answered busy, no_answer, failed or cancelled_by_us (with the final `status`)."""

    call: Call
    cause: str
    status: int | None = None


@dataclass
class DtmfInfo:
    """A key sent in a SIP INFO (application/dtmf-relay or application/dtmf)."""

    call: Call
    digit: str
    duration_ms: int | None


@dataclass
class SessionModify:
    """A re-INVITE or UPDATE (hold, unhold, refresh): answer with `accept_modify` or `reject_modify`."""

    call: Call
    key: tuple
    offer: bytes
    method: str


@dataclass
class SessionAnswer:
    """The caller's SDP answer, in the ACK, to the offer our 200 made for a re-INVITE without SDP
    (`answer` is empty when the ACK carried none)."""

    call: Call
    answer: bytes


@dataclass
class TransferProgress:
    """A NOTIFY about a transfer we asked for: the status line of the transferee's call (sipfrag)."""

    call: Call
    status: int | None
    final: bool


@dataclass
class CallProgress:
    """A provisional response to a call we place (180, 183: its early media is ignored)."""

    call: Call
    status: int


@dataclass
class OutgoingAnswered:
    """A call we placed was answered (2xx, now ACKed): `answer` is the callee's SDP answer."""

    call: Call
    answer: bytes


CallEvent = (CallOffered | CallConfirmed | CallEnded | DtmfInfo | SessionModify | SessionAnswer
             | TransferProgress | CallProgress | OutgoingAnswered)

BUSY_STATUSES = frozenset({486, 600})
NO_ANSWER_STATUSES = frozenset({408, 480, 487, 603})


def failure_cause(status: int | None) -> str:
    """How a call we placed ended without an answer: busy, no_answer (the callee did not pick up, or we
    cancelled it) or failed (anything else, and no response at all)."""
    if status in BUSY_STATUSES:
        return "busy"
    if status in NO_ANSWER_STATUSES:
        return "no_answer"
    return "failed"


@dataclass
class UAStats:
    """What came in: everything received, dropped as unparseable, refused with an error status."""

    received: int = 0
    unparseable: int = 0
    invalid: int = 0
    too_large: int = 0
    calls_offered: int = 0
    refused: int = 0                   # from a source outside the allow-list
    rate_limited: int = 0              # over a per-source rate: answered 503 once, then dropped
    setup_refused: int = 0             # INVITEs refused (503) while the calls waiting for their ACK were at the cap
    setup_evicted: int = 0             # calls waiting for their ACK ended to make room (see `setup_guard`)


@dataclass
class UAConfig:
    """Identity and behaviour of the user agent."""

    host: str = "127.0.0.1"            # address we put in Via/Contact
    port: int = 5060
    user_agent: str | None = "ivr/0.1"   # Server and User-Agent header value (None: not sent)
    timers: Timers = field(default_factory=Timers)
    accept_register: bool = False      # answer REGISTER 200 (softphones under test); no location service
    allow_from: tuple[Network, ...] = ()        # when set, everything from other sources is dropped
    rates: dict[str, Rate] = field(default_factory=dict)   # per-source rate per request class (none: no limit)
    max_setup: int = 0                 # calls waiting for their ACK at once, node-wide (0: no cap; `setup_guard`)
    ack_timeout: float | None = None   # seconds a 2xx waits for its ACK (None: 64*T1, RFC 3261 Timer H)
    tcp_idle: float = 60.0             # a TCP connection carrying no call is closed after this silence


class UserAgent:
    """Sans-I/O SIP UAS with in-dialog BYE client transactions."""

    def __init__(self, config: UAConfig) -> None:
        self.config = config
        timers = config.timers if config.ack_timeout is None else replace(config.timers, ack_wait=config.ack_timeout)
        self.layer = TransactionLayer(timers)
        self.setups = SetupGuard(config.max_setup)
        self.calls: dict[str, Call] = {}
        self.stats = UAStats()
        self.accepting = True          # False while draining: OPTIONS then answers 503
        self.allowed = AllowList(config.allow_from)
        self.limiter = SourceLimiter(config.rates)
        self._events: list[CallEvent] = []
        self._handlers: dict[tuple, ResultHandler] = {}
        self._now = 0.0                # the time of the latest input (for records kept by `setups`)

    # -- input ----------------------------------------------------------------------------------

    def receive(self, data: bytes, source: Endpoint, now: float) -> None:
        """Feed bytes from the network. Unparseable datagrams are dropped and counted.

        Before parsing, a source outside the allow-list is ignored and a request over its source's
        rate is dropped, or refused with a stateless 503 (see `ratelimit`).
        """
        self.stats.received += 1
        self._now = now
        if not data.strip(b"\r\n"):
            return                     # keep-alive
        if not self.allowed.permits(source.host):
            self.stats.refused += 1
            return
        kind = limit_class(data)
        verdict = Verdict.ADMIT if kind is None else self.limiter.check(source.host, kind, now)
        if verdict is Verdict.DROP:
            self.stats.rate_limited += 1
            return
        try:
            message = parse_message(data)
        except SipMessageTooLarge as exc:
            self.refuse_too_large(exc.head, source)
            return
        except SipParseError as exc:
            self.stats.unparseable += 1
            log.info("dropped unparseable message from %s:%s: %s", source.host, source.port, exc)
            return
        if verdict is Verdict.REJECT:
            self.stats.rate_limited += 1
            if isinstance(message, Request) and kind is not None and can_respond(message):
                log.info("%s from %s over its rate: 503", message.method, source.host)
                retry = str(self.limiter.retry_after(source.host, kind))
                self._send_direct(message, make_response(message, 503, to_tag=new_tag(),
                                                           headers=[("Retry-After", retry)]), source)
            return
        if isinstance(message, Request):
            invalid = check_request(message)
            if invalid is not None:
                self.stats.invalid += 1
                self._refuse(message, invalid.status, invalid.reason, source)
                return
        else:
            try:
                message.cseq
                message.top_via
            except SipError:
                self.stats.unparseable += 1
                return
            if message.defect is not None:
                self.stats.unparseable += 1
                return
        for event in self.layer.receive(message, source, now):
            self._on_transaction_event(event, now)

    def refuse_too_large(self, head: bytes | None, source: Endpoint) -> None:
        """A message over the size limit: 513 to a request whose header section can be read, else drop."""
        self.stats.too_large += 1
        try:
            message = parse_message(head + b"\r\n\r\n") if head else None
        except SipParseError:
            message = None
        if isinstance(message, Request):
            self._refuse(message, 513, "Message Too Large", source)
        else:
            log.info("dropped an oversized message from %s:%s", source.host, source.port)

    def _refuse(self, request: Request, status: int, reason: str, source: Endpoint) -> None:
        """Answer a request that never reaches a transaction (RFC 3261 8.2), or drop it if unroutable."""
        if request.method != "ACK" and can_respond(request):
            log.info("%s from %s: %d %s", request.method, source.host, status, reason)
            self._send_direct(request, make_response(request, status, reason), source)
        else:
            log.info("dropped invalid %s from %s: %s", request.method, source.host, reason)

    def poll(self, now: float) -> None:
        """Run the transaction timers."""
        self._now = now
        for event in self.layer.poll(now):
            self._on_transaction_event(event, now)

    def next_deadline(self) -> float | None:
        return self.layer.next_deadline()

    def counters(self) -> dict[str, int]:
        """Messages received, and those that never reached a call, by reason."""
        return {"received": self.stats.received, "unparseable": self.stats.unparseable,
                "invalid": self.stats.invalid, "too_large": self.stats.too_large,
                "stray_response": self.layer.stats.stray_responses,
                "not_allowed": self.stats.refused, "rate_limited": self.stats.rate_limited,
                "setup_refused": self.setups.refused, "setup_evicted": self.setups.evicted}

    def drain_outgoing(self) -> list[Send]:
        return self.layer.drain()

    def drain_events(self) -> list[CallEvent]:
        events, self._events = self._events, []
        return events

    # -- application actions --------------------------------------------------------------------

    def reject(self, call: Call, status: int, reason: str | None = None,
               headers: list[tuple[str, str]] | None = None, now: float = 0.0) -> None:
        """Refuse an offered call (404, 486, 488, 503...)."""
        if call.state != "offered":
            return
        response = make_response(call.invite, status, reason, to_tag=call.dialog.local_tag,
                                 headers=self._common_headers() + (headers or []))
        self.layer.respond(call.invite_key, response, now)
        self._end(call, "rejected")

    def ring(self, call: Call, now: float) -> None:
        if call.state == "offered":
            self.layer.respond(call.invite_key, make_response(
                call.invite, 180, to_tag=call.dialog.local_tag, headers=self._common_headers()), now)

    def answer(self, call: Call, sdp: bytes, now: float) -> None:
        """Send 200 OK with our SDP answer; Timer G retransmits it until the ACK."""
        if call.state != "offered":
            return
        call.state = "answered"
        response = make_response(call.invite, 200, to_tag=call.dialog.local_tag,
                                 headers=self._common_headers() + self._contact(call)
                                 + [("Content-Type", "application/sdp")], body=sdp)
        self.layer.respond(call.invite_key, response, now)

    def invite(self, *, target: str, from_uri: str, dest: Endpoint, sdp: bytes, now: float,
               credentials: Credentials | None = None, asserted: str | None = None,
               number: str | None = None, callee: str | None = None, local_host: str | None = None) -> Call:
        """Place a call to `target` (a SIP URI) through `dest` (the trunk or outbound proxy) as `from_uri`,
        offering `sdp`; `asserted`: a P-Asserted-Identity URI to add. `number`: our short number (Contact
        user), `callee`: the number called; `local_host`: our address towards the trunk, for Via and Contact
        (default: the configured host)."""
        out = Outgoing(credentials, local_host)
        call_id = f"{new_tag()}{new_tag()}@{self._host()}"
        dialog = Dialog(call_id=call_id, local_tag=new_tag(), remote_tag=None, local_uri=f"<{from_uri}>",
                        remote_uri=f"<{target}>", remote_target=target, peer=dest)
        extra = [("P-Asserted-Identity", f"<{asserted}>")] if asserted else []
        invite = self._outgoing_invite(dialog, dest, sdp, extra, number, local_host)
        call = Call(call_id, number, callee, invite, dest, (), dialog, state="calling", outgoing=out)
        call.invite_key = self.layer.send_invite(invite, dest, now)
        self.calls[call_id] = call
        return call

    def _outgoing_invite(self, dialog: Dialog, dest: Endpoint, sdp: bytes, extra: list[tuple[str, str]],
                         number: str | None, local_host: str | None) -> Request:
        user = f"{number}@" if number and re.fullmatch(r"[\w.+*#-]+", number) else ""
        suffix = "" if dest.transport == "UDP" else f";transport={dest.transport.lower()}"
        host = self._host(local_host)
        return dialog.create_request("INVITE", host, self.config.port, dest.transport, headers=[
            ("Contact", f"<sip:{user}{host}:{self.config.port}{suffix}>"), *extra, ("Allow", ALLOW),
            *self._agent("User-Agent"), ("Content-Type", "application/sdp")], body=sdp)

    def _on_invite_response(self, call: Call, response: Response, now: float) -> None:
        """A response to the INVITE of a call we placed (see the module docstring)."""
        out = call.outgoing
        assert out is not None
        status = response.status
        if status < 200:
            if call.state != "calling":
                return
            out.provisional = True
            if out.cancel_asked:
                self.layer.cancel(call.invite_key, now)
                return
            self._events.append(CallProgress(call, status))
            return
        if status < 300:
            self._on_outgoing_2xx(call, response, now)
            return
        if call.state != "calling":
            return
        if status in (401, 407) and not out.cancel_asked and self._answer_challenge(call, response, now):
            return
        self._end(call, "cancelled_by_us" if out.cancel_asked else failure_cause(status), status)

    def _answer_challenge(self, call: Call, response: Response, now: float) -> bool:
        """Send the INVITE again with digest credentials; False when we cannot (no credentials, a second
        challenge of the same realm: they were refused, or one we cannot answer)."""
        out = call.outgoing
        assert out is not None
        if out.credentials is None:
            return False
        name = "WWW-Authenticate" if response.status == 401 else "Proxy-Authenticate"
        challenge = next(filter(None, (_challenge(v) for v in response.headers.get_all(name))), None)
        if challenge is None or (response.status, challenge.realm) in out.challenged:
            return False
        out.challenged.add((response.status, challenge.realm))
        previous = call.invite
        headers = [(n, v) for n, v in previous.headers
                   if n.lower() not in ("via", "cseq", "authorization", "proxy-authorization")]
        call.dialog.local_cseq += 1
        header = "Authorization" if response.status == 401 else "Proxy-Authorization"
        kept = [(n, v) for n, v in previous.headers if n.lower() in ("authorization", "proxy-authorization")
                and n.lower() != header.lower()]
        credentials = authorization(challenge, "INVITE", previous.uri, out.credentials.username,
                                    out.credentials.password)
        host = self._host(out.local_host)
        via = f"SIP/2.0/{call.source.transport} {host}:{self.config.port};branch={new_branch()};rport"
        invite = Request(Headers([("Via", via), ("CSeq", f"{call.dialog.local_cseq} INVITE"), *headers, *kept,
                                  (header, credentials)]), previous.body, method="INVITE", uri=previous.uri)
        call.invite = invite
        call.invite_key = self.layer.send_invite(invite, call.source, now)
        return True

    def _on_outgoing_2xx(self, call: Call, response: Response, now: float) -> None:
        """ACK the 2xx (every retransmission of it too); the first one confirms the dialog, unless we
        already gave up on the call: then it is ended at once with a BYE."""
        out = call.outgoing
        assert out is not None
        dest = call.dialog.next_hop()
        if out.ack is not None:
            if dest is not None:
                self.layer.outbox.append(Send(out.ack, dest))
            return
        if call.state != "calling":
            return
        dialog = call.dialog
        dialog.remote_tag = response.to_addr.tag
        contacts = response.headers.get_all("Contact")
        if contacts:
            try:
                dialog.remote_target = parse_name_addr(contacts[0]).uri
            except SipParseError:
                pass
        dialog.route_set = list(reversed(response.headers.get_all("Record-Route")))
        dest = dialog.next_hop()
        assert dest is not None
        ack = dialog.create_request("ACK", self._host(out.local_host), self.config.port, dest.transport,
                                    headers=self._agent("User-Agent"))
        dialog.local_cseq -= 1                          # an ACK takes the INVITE's CSeq number
        ack.headers.set("CSeq", f"{call.invite.cseq[0]} ACK")
        for name in ("Authorization", "Proxy-Authorization"):
            for value in call.invite.headers.get_all(name):
                ack.headers.add(name, value)
        out.ack = ack.serialize()
        self.layer.outbox.append(Send(out.ack, dest))
        call.state = "confirmed"
        if out.cancel_asked:
            self._send_bye(call, now)
            self._end(call, "cancelled_by_us")
            return
        self._events.append(OutgoingAnswered(call, response.body))

    def hangup(self, call: Call, now: float) -> None:
        """End the call from our side: BYE once answered, or a final error before that."""
        if call.state == "calling":
            out = call.outgoing
            assert out is not None
            if not out.cancel_asked:
                out.cancel_asked = True
                if out.provisional:
                    self.layer.cancel(call.invite_key, now)
            return
        if call.state == "offered":
            self.reject(call, 480, now=now)
            return
        if call.state == "ended":
            return
        if call.state == "answered":
            call.hangup_pending = True     # RFC 3261 15: no BYE before the ACK (or its timeout)
            return
        self._send_bye(call, now)
        self._end(call, "local_bye")

    def drop_setups(self, now: float, cause: str = "shutdown") -> int:
        """End every call not yet confirmed by its ACK (a node shutting down cannot wait for them): offered
        ones get 503, answered ones stop waiting for their ACK. Returns how many."""
        pending = [call for call in self.calls.values() if call.state in ("offered", "answered")]
        for call in pending:
            if call.state == "offered":
                self.reject(call, 503, headers=[("Retry-After", "30")], now=now)
            else:
                self.layer.abandon(call.invite_key)
                self._end(call, cause)
        return len(pending)

    def refer(self, call: Call, target: str, now: float, on_result: ResultHandler) -> None:
        """Blind transfer (RFC 3515): ask the caller's side to call `target` (a number or SIP URI).

        `on_result` gets the final response to the REFER (202 means the transfer was accepted), or
        None on timeout. The NOTIFYs that report its progress are answered 200.
        """
        dest = call.dialog.next_hop()
        if dest is None or call.state != "confirmed":
            on_result(None, now)
            return
        if ":" not in target:
            domain = parse_uri(call.invite.uri).host
            target = f"sip:{target}@{domain}"
        refer = call.dialog.create_request(
            "REFER", self._call_host(call), self.config.port, dest.transport,
            headers=[("Refer-To", f"<{target}>"), ("Referred-By", f"<{parse_name_addr(call.dialog.local_uri).uri}>"),
                     *self._agent("User-Agent")] + self._contact(call))
        self.send_request(refer, dest, now, on_result)

    def send_request(self, request: Request, dest: Endpoint, now: float, on_result: ResultHandler) -> None:
        """Send an out-of-dialog request (REGISTER); `on_result` gets the final response, or None on timeout."""
        key = self.layer.send_request(request, dest, now)
        self._handlers[key] = on_result

    def accept_modify(self, call: Call, key: tuple, sdp: bytes | None, now: float) -> None:
        """Answer a re-INVITE/UPDATE with 200 and `sdp`: our answer to its offer, or our offer to a
        re-INVITE without one (the ACK then brings the caller's answer as a `SessionAnswer`)."""
        request = self.layer.server_request(key)
        if request is None:
            return
        headers = self._common_headers() + self._contact(call)
        if sdp:
            headers.append(("Content-Type", "application/sdp"))
            if request.method == "INVITE" and not request.body:
                call.offer_cseq = request.cseq[0]
        self.layer.respond(key, make_response(request, 200, to_tag=call.dialog.local_tag,
                                              headers=headers, body=sdp or b""), now)

    def reject_modify(self, call: Call, key: tuple, status: int, now: float) -> None:
        request = self.layer.server_request(key)
        if request is not None:
            self.layer.respond(key, make_response(request, status, to_tag=call.dialog.local_tag,
                                                  headers=self._common_headers()), now)

    # -- internals ------------------------------------------------------------------------------

    def _common_headers(self) -> list[tuple[str, str]]:
        return [*self._agent("Server"), ("Allow", ALLOW)]

    def _agent(self, name: str) -> list[tuple[str, str]]:
        """The product header (Server in responses, User-Agent in requests), unless turned off."""
        return [(name, self.config.user_agent)] if self.config.user_agent else []

    def _contact(self, call: Call) -> list[tuple[str, str]]:
        transport = call.source.transport
        suffix = "" if transport == "UDP" else f";transport={transport.lower()}"
        user = f"{call.number}@" if call.number and re.fullmatch(r"[\w.+*#-]+", call.number) else ""
        return [("Contact", f"<sip:{user}{self._call_host(call)}:{self.config.port}{suffix}>")]

    def _call_host(self, call: Call) -> str:
        """Our address in the call's requests (a call we placed: the one its INVITE gave)."""
        return self._host(call.outgoing.local_host if call.outgoing is not None else None)

    def _host(self, host: str | None = None) -> str:
        host = host or self.config.host
        return f"[{host}]" if ":" in host and not host.startswith("[") else host

    def _send_direct(self, request: Request, response: Response, source: Endpoint) -> None:
        self.layer.outbox.append(Send(response.serialize(), response_destination(request, source)))

    def _send_bye(self, call: Call, now: float) -> None:
        dest = call.dialog.next_hop()
        if dest is None:
            return
        bye = call.dialog.create_request("BYE", self._call_host(call), self.config.port, dest.transport,
                                         headers=self._agent("User-Agent"))
        call.bye_key = self.layer.send_request(bye, dest, now)

    def _end(self, call: Call, cause: str, status: int | None = None) -> None:
        if call.state == "ended":
            return
        if call.state in ("offered", "answered") and call.outgoing is None:
            self.setups.ended(call.call_id, self._now, abandoned=cause in ("no_ack", "setup_evicted"))
        call.state = "ended"
        call.end_cause = cause
        self.calls.pop(call.call_id, None)
        self._events.append(CallEnded(call, cause, status))

    def _on_transaction_event(self, event: object, now: float) -> None:
        if isinstance(event, IncomingRequest):
            self._on_request(event, now)
        elif isinstance(event, IncomingAck):
            call = self.calls.get(event.request.call_id)
            if not event.to_2xx or call is None:
                return
            if call.state == "answered":
                call.state = "confirmed"
                self.setups.completed(call.call_id, now)
                if call.hangup_pending:
                    self.hangup(call, now)
                else:
                    self._events.append(CallConfirmed(call, event.request.body))
            elif call.offer_cseq is not None and call.offer_cseq == event.request.cseq[0]:
                call.offer_cseq = None
                self._events.append(SessionAnswer(call, event.request.body))
        elif isinstance(event, IncomingResponse):
            if event.request.method == "INVITE":
                call = self.calls.get(event.request.call_id)
                if call is not None and call.outgoing is not None:
                    self._on_invite_response(call, event.response, now)
            elif event.response.status >= 200 and event.key in self._handlers:
                self._handlers.pop(event.key)(event.response, now)
        elif isinstance(event, TransactionTimeout):
            handler = self._handlers.pop(event.key, None)
            if handler is not None:
                handler(None, now)
                return
            call = self.calls.get(event.request.call_id)
            if call is not None and call.outgoing is not None and event.request.method == "INVITE":
                if call.state == "calling" and event.key == call.invite_key:
                    self._end(call, "cancelled_by_us" if call.outgoing.cancel_asked else "failed")
                return
            if event.no_ack and call is not None and call.state == "answered":
                log.info("call %s: no ACK for our 200, hanging up", call.call_id)
                self._send_bye(call, now)
                self._end(call, "no_ack")

    def _respond(self, event: IncomingRequest, status: int, now: float, reason: str | None = None,
                 headers: list[tuple[str, str]] | None = None, to_tag: str | None = None) -> None:
        response = make_response(event.request, status, reason, to_tag=to_tag or new_tag(),
                                 headers=self._common_headers() + (headers or []))
        self.layer.respond(event.key, response, now)

    def _on_request(self, event: IncomingRequest, now: float) -> None:
        request = event.request
        method = request.method
        to_tag = request.to_addr.tag
        if method == "CANCEL":
            self._on_cancel(event, now)
            return
        unsupported = [tag for tag in request.headers.get_all("Require") if tag.lower() not in SUPPORTED]
        if unsupported:                                    # RFC 3261 8.2.2.3
            self._respond(event, 420, now, headers=[("Unsupported", ", ".join(unsupported))])
            return
        if to_tag is not None:
            self._on_in_dialog(event, now)
            return
        if method == "INVITE":
            self._on_invite(event, now)
        elif method == "OPTIONS":
            if self.accepting:
                self._respond(event, 200, now, headers=[
                    ("Accept", "application/sdp"), ("Supported", "")])
            else:
                self._respond(event, 503, now, headers=[("Retry-After", "30")])
        elif method == "BYE" or method == "INFO" or method == "UPDATE":
            self._respond(event, 481, now)
        elif method == "REGISTER" and self.config.accept_register:
            expires = request.headers.get("Expires") or "3600"
            contacts = [("Contact", c) for c in request.headers.get_all("Contact")]
            self._respond(event, 200, now, headers=contacts + [("Expires", expires)])
        elif method in KNOWN_UNSUPPORTED:
            self._respond(event, 405, now)
        else:
            self._respond(event, 501, now)

    def _refuse_content(self, event: IncomingRequest, now: float, to_tag: str | None = None) -> bool:
        """415 to a body that is not SDP, 406 when the caller does not accept SDP answers (RFC 3261 8.2.3)."""
        request = event.request
        ctype = (request.headers.get("Content-Type") or "application/sdp").split(";")[0].strip().lower()
        if request.body and ctype != "application/sdp":
            self._respond(event, 415, now, headers=[("Accept", "application/sdp")], to_tag=to_tag)
            return True
        accept = [a.split(";")[0].strip().lower() for a in request.headers.get_all("Accept")]
        if "Accept" in request.headers and not {"application/sdp", "application/*", "*/*"} & set(accept):
            self._respond(event, 406, now, to_tag=to_tag,
                          headers=[("Warning", '399 ivr "answers are application/sdp"')])
            return True
        return False

    def _on_invite(self, event: IncomingRequest, now: float) -> None:
        request = event.request
        if self._refuse_content(event, now):
            return
        if request.call_id in self.calls:
            # A second INVITE with the same Call-ID but a new branch (a fork or a confused peer).
            self._respond(event, 482, now, reason="Loop Detected")
            return
        try:
            dialog = Dialog.from_invite(request, event.source)
        except SipParseError:
            self._respond(event, 400, now, reason="Malformed Contact")
            return
        identity = SipIdentity.of(request)
        admission = self.setups.admit(event.source.host, now)
        if not admission.admitted:
            self.stats.setup_refused += 1
            self._respond(event, 503, now, headers=[("Retry-After", "5")])
            return
        if admission.evict is not None and admission.evict in self.calls:
            self.stats.setup_evicted += 1
            self._evict(self.calls[admission.evict], now)
        call = Call(request.call_id, uri_user(request.uri), identity.from_user or None,
                    request, event.source, event.key, dialog, identity=identity)
        self.calls[call.call_id] = call
        self.setups.started(call.call_id, event.source.host, now)
        self.stats.calls_offered += 1
        self._events.append(CallOffered(call, request.body))

    def _evict(self, call: Call, now: float) -> None:
        """End a call that waits for its ACK to make room for another (`setup_guard`): not yet answered, it
        gets 503; answered, its 200 is no longer retransmitted and no BYE is sent (its peer never ACKed)."""
        if call.state == "offered":
            response = make_response(call.invite, 503, to_tag=call.dialog.local_tag,
                                     headers=self._common_headers() + [("Retry-After", "5")])
            self.layer.respond(call.invite_key, response, now)
        else:
            self.layer.abandon(call.invite_key)
        self._end(call, "setup_evicted")

    def _on_cancel(self, event: IncomingRequest, now: float) -> None:
        invite_key = self.layer.find_invite(event.request)
        if invite_key is None:
            self._respond(event, 481, now)
            return
        call = self.calls.get(event.request.call_id)
        tag = call.dialog.local_tag if call else new_tag()    # the To-tag of the INVITE's answer
        self._respond(event, 200, now, to_tag=tag)
        if self.layer.is_pending(invite_key):
            self._terminate_invite(invite_key, tag, now)
            if call is not None:
                self._end(call, "cancelled")

    def _terminate_invite(self, invite_key: tuple, to_tag: str, now: float) -> None:
        """487 to a still pending INVITE (after CANCEL, or a BYE in the early dialog)."""
        invite = self.layer.server_request(invite_key)
        if invite is not None:
            self.layer.respond(invite_key, make_response(invite, 487, to_tag=to_tag,
                                                         headers=self._common_headers()), now)

    def _on_in_dialog(self, event: IncomingRequest, now: float) -> None:
        request = event.request
        call = self.calls.get(request.call_id)
        if call is None or not call.dialog.matches(request):
            self._respond(event, 481, now)
            return
        if not call.dialog.accept_cseq(request):
            self._respond(event, 500, now, reason="CSeq Out of Order", to_tag=call.dialog.local_tag)
            return
        method = request.method
        tag = call.dialog.local_tag
        if method == "BYE":
            self._respond(event, 200, now, to_tag=tag)
            if call.state == "offered":        # early dialog (RFC 3261 15.1.2)
                self._terminate_invite(call.invite_key, tag, now)
            self._end(call, "remote_bye")
        elif method in ("INVITE", "UPDATE"):
            if self._refuse_content(event, now, to_tag=tag):
                return
            contacts = request.headers.get_all("Contact")
            if contacts:
                try:
                    call.dialog.remote_target = parse_name_addr(contacts[0]).uri
                except SipParseError:
                    self._respond(event, 400, now, reason="Malformed Contact", to_tag=tag)
                    return
            self._events.append(SessionModify(call, event.key, request.body, method))
        elif method == "INFO":
            self._on_info(event, call, now)
        elif method == "OPTIONS":
            self._respond(event, 200, now, to_tag=tag, headers=[("Accept", "application/sdp")])
        elif method == "NOTIFY" and (request.headers.get("Event") or "").split(";")[0].strip().lower() == "refer":
            self._respond(event, 200, now, to_tag=tag)      # progress of a transfer we asked for
            match = re.match(r"\s*SIP/2\.0\s+(\d{3})", request.body.decode("utf-8", "replace"))
            status = int(match.group(1)) if match else None
            terminated = (request.headers.get("Subscription-State") or "").strip().lower().startswith("terminated")
            self._events.append(TransferProgress(call, status, terminated or (status or 0) >= 200))
        elif method in KNOWN_UNSUPPORTED:
            self._respond(event, 405, now, to_tag=tag)
        else:
            self._respond(event, 501, now, to_tag=tag)

    def _on_info(self, event: IncomingRequest, call: Call, now: float) -> None:
        request = event.request
        ctype = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        body = request.body.decode("utf-8", "replace")
        digit: str | None = None
        duration: int | None = None
        if ctype == "application/dtmf-relay":
            fields = dict(
                (k.strip().lower(), v.strip())
                for k, _, v in (line.partition("=") for line in body.splitlines()) if _)
            digit = fields.get("signal")
            held = fields.get("duration", "")
            if held.isascii() and held.isdigit():
                duration = int(held)
        elif ctype == "application/dtmf":
            digit = body.strip()
        elif not body.strip():
            self._respond(event, 200, now, to_tag=call.dialog.local_tag)   # INFO keep-alive
            return
        else:
            self._respond(event, 415, now, to_tag=call.dialog.local_tag,
                          headers=[("Accept", "application/dtmf-relay, application/dtmf")])
            return
        if digit is not None:
            digit = digit.upper()
            if digit == "10":
                digit = "*"
            elif digit == "11":
                digit = "#"
        if digit not in DTMF_SIGNALS:
            self._respond(event, 400, now, reason="Bad DTMF Signal", to_tag=call.dialog.local_tag)
            return
        self._respond(event, 200, now, to_tag=call.dialog.local_tag)
        if call.state in ("answered", "confirmed"):
            self._events.append(DtmfInfo(call, digit, duration))


def _challenge(value: str) -> Challenge | None:
    """The digest challenge in `value` if we can answer it."""
    try:
        challenge = parse_challenge(value)
    except AuthError:
        return None
    return challenge if is_supported(challenge) else None
