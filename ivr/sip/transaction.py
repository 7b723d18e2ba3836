"""SIP transaction layer (RFC 3261 section 17, with the RFC 6026 "Accepted" state), sans-I/O.

`TransactionLayer` is fed parsed messages with their source and the current time, and gives back
events for the transaction user; what must go on the wire collects in `outbox` as `Send` items.
Timers are driven by `poll(now)`; `next_deadline()` tells the I/O layer when to call it. Timer times
are kept in a heap (stale entries dropped when they surface), so both cost O(log n) per timer rather
than a walk over every live transaction: at 100 calls a second thousands are alive (Timers J and L
keep them 32 s).

Server side: INVITE and non-INVITE server transactions absorb retransmitted requests (answering
with the last response), retransmit final INVITE responses over UDP (Timer G) until the ACK, and
report a missing ACK (Timer H). Client side: non-INVITE client transactions (BYE, REGISTER, OPTIONS,
REFER, CANCEL) retransmit over UDP (Timer E) and time out (Timer F); INVITE client transactions (calls we
place) retransmit until a provisional response (Timer A), time out (Timer B), ACK every non-2xx final
response themselves (Timer D absorbs its retransmissions) and, per RFC 6026, stay "accepted" after a 2xx
so its retransmissions still reach the transaction user, which ACKs them end to end.
"""

from __future__ import annotations

import heapq
import itertools
import secrets
from dataclasses import dataclass

from .message import Headers, Request, Response, SipError, SipParseError, make_response, parse_via


@dataclass(frozen=True)
class Endpoint:
    """A transport address: 'UDP' or 'TCP', host and port."""

    transport: str
    host: str
    port: int

    @property
    def reliable(self) -> bool:
        return self.transport != "UDP"


@dataclass(frozen=True)
class Timers:
    """RFC 3261 timer values in seconds."""

    t1: float = 0.5
    t2: float = 4.0
    t4: float = 5.0
    ack_wait: float | None = None       # how long a 2xx waits for its ACK (None: 64*T1, Timers H and L)


@dataclass
class Send:
    """Bytes to put on the wire."""

    data: bytes
    dest: Endpoint


@dataclass
class IncomingRequest:
    """A new request for the transaction user (not a retransmission). `key` names its transaction."""

    request: Request
    source: Endpoint
    key: tuple


@dataclass
class IncomingAck:
    """An ACK: for a 2xx (dialog level) or for a non-2xx final answer (`to_2xx` False)."""

    request: Request
    source: Endpoint
    to_2xx: bool


@dataclass
class IncomingResponse:
    """A response matched to one of our client transactions."""

    response: Response
    key: tuple
    request: Request


@dataclass
class TransactionTimeout:
    """A client transaction got no final response (Timer F), or our 2xx got no ACK (Timer H)."""

    key: tuple
    request: Request
    no_ack: bool = False


Event = IncomingRequest | IncomingAck | IncomingResponse | TransactionTimeout


def new_branch() -> str:
    return "z9hG4bK" + secrets.token_hex(8)


def response_destination(request: Request, source: Endpoint) -> Endpoint:
    """Where responses go (RFC 3261 18.2.2, RFC 3581 rport).

    Stream transports reuse the connection. Over UDP: the source address, at the source port when
    the top Via asks for rport, else at the Via's sent-by port (5060 when it has none).
    """
    if source.reliable:
        return source
    via = request.top_via
    port = source.port if "rport" in via.params else via.port or 5060
    return Endpoint(source.transport, source.host, port)


def _server_key(request: Request) -> tuple:
    via = request.top_via
    method = "INVITE" if request.method == "ACK" else request.method
    branch = via.branch or ""
    if branch.startswith("z9hG4bK") and len(branch) > len("z9hG4bK"):    # a bare cookie names nothing
        return ("s", branch, via.host, via.port, method)
    # RFC 2543 peers: match on the request's identity instead of the branch.
    cseq_num, _ = request.cseq
    return ("s2543", request.call_id, cseq_num, request.headers.get("From"), via.host, via.port, method)


@dataclass
class _ServerTransaction:
    key: tuple
    request: Request
    reply_to: Endpoint
    invite: bool
    state: str = "trying"               # trying | proceeding | completed | accepted | confirmed
    last_response: bytes | None = None
    final_status: int = 0
    retransmit_at: float | None = None
    interval: float = 0.0
    expire_at: float | None = None


@dataclass
class _ClientTransaction:
    key: tuple
    request: Request
    data: bytes
    dest: Endpoint
    state: str = "trying"               # trying (INVITE: calling) | proceeding | completed | accepted
    retransmit_at: float | None = None
    interval: float = 0.0
    expire_at: float = 0.0
    invite: bool = False
    ack: bytes | None = None            # INVITE: our ACK of its non-2xx final response (sent again on retransmits)


@dataclass
class TransactionStats:
    requests: int = 0
    retransmissions_absorbed: int = 0
    stray_responses: int = 0
    timeouts: int = 0


class TransactionLayer:
    """All transactions of one user agent."""

    def __init__(self, timers: Timers = Timers()) -> None:
        self.timers = timers
        self.outbox: list[Send] = []
        self.stats = TransactionStats()
        self._servers: dict[tuple, _ServerTransaction] = {}
        self._accepted: dict[tuple[str, int], _ServerTransaction] = {}
        self._clients: dict[tuple, _ClientTransaction] = {}
        self._deadlines: list[tuple[float, int, _ServerTransaction | _ClientTransaction]] = []
        self._order = itertools.count()

    # -- incoming -----------------------------------------------------------------------------

    def receive(self, message: Request | Response, source: Endpoint, now: float) -> list[Event]:
        """Feed one parsed message; returns the events for the transaction user."""
        if isinstance(message, Response):
            return self._receive_response(message, now)
        return self._receive_request(message, source, now)

    def _receive_request(self, request: Request, source: Endpoint, now: float) -> list[Event]:
        key = _server_key(request)
        tx = self._servers.get(key)
        if request.method == "ACK":
            if tx is not None and tx.invite and tx.state == "completed":
                tx.state = "confirmed"
                tx.retransmit_at = None
                tx.expire_at = now + (0 if source.reliable else self.timers.t4)
                self._arm(tx.expire_at, tx)
                return [IncomingAck(request, source, to_2xx=False)]
            if tx is not None and tx.state == "confirmed":
                return []
            cseq_num, _ = request.cseq
            accepted = self._accepted.pop((request.call_id, cseq_num), None)
            if accepted is not None:      # Timer L keeps absorbing INVITE retransmissions
                accepted.state = "confirmed"
                accepted.retransmit_at = None
            return [IncomingAck(request, source, to_2xx=True)]
        if tx is not None:
            self.stats.retransmissions_absorbed += 1
            if tx.last_response is not None:
                self.outbox.append(Send(tx.last_response, tx.reply_to))
            return []
        self.stats.requests += 1
        tx = _ServerTransaction(key, request, response_destination(request, source),
                                invite=request.method == "INVITE")
        self._servers[key] = tx
        if tx.invite:
            self._send_response(tx, make_response(request, 100), now)
        return [IncomingRequest(request, source, key)]

    def _receive_response(self, response: Response, now: float) -> list[Event]:
        try:
            via = response.top_via
            _, method = response.cseq
        except SipError:
            self.stats.stray_responses += 1
            return []
        tx = self._clients.get((via.branch, method))
        if tx is None:
            self.stats.stray_responses += 1
            return []
        if tx.invite:
            return self._invite_response(tx, response, now)
        if tx.state == "completed":
            return []
        if response.status < 200:
            tx.state = "proceeding"
            return [IncomingResponse(response, tx.key, tx.request)]
        tx.state = "completed"
        tx.retransmit_at = None
        tx.expire_at = now + (0 if tx.dest.reliable else self.timers.t4)  # Timer K
        self._arm(tx.expire_at, tx)
        return [IncomingResponse(response, tx.key, tx.request)]

    def _invite_response(self, tx: _ClientTransaction, response: Response, now: float) -> list[Event]:
        """RFC 3261 17.1.1 with RFC 6026: provisional responses stop the retransmissions; a non-2xx final
        response is ACKed here (again for each retransmission of it); a 2xx, and each retransmission of it,
        goes to the transaction user, which ACKs it in the dialog."""
        if tx.state == "completed":
            if response.status >= 300 and tx.ack is not None:
                self.outbox.append(Send(tx.ack, tx.dest))
            return []
        if response.status < 200:
            if tx.state == "accepted":
                return []
            if tx.state == "trying":
                tx.state = "proceeding"
                tx.retransmit_at = None
                tx.expire_at = float("inf")          # ringing has no transaction timeout: the TU's ring timer ends it
            return [IncomingResponse(response, tx.key, tx.request)]
        tx.retransmit_at = None
        if response.status < 300:
            if tx.state != "accepted":
                tx.state = "accepted"
                tx.expire_at = now + 64 * self.timers.t1                     # Timer M
                self._arm(tx.expire_at, tx)
            return [IncomingResponse(response, tx.key, tx.request)]
        if tx.state == "accepted":
            return []
        tx.state = "completed"
        tx.ack = _ack_for(tx.request, response).serialize()
        self.outbox.append(Send(tx.ack, tx.dest))
        tx.expire_at = now + (0 if tx.dest.reliable else 32.0)              # Timer D
        self._arm(tx.expire_at, tx)
        return [IncomingResponse(response, tx.key, tx.request)]

    # -- transaction user actions -------------------------------------------------------------

    def respond(self, key: tuple, response: Response, now: float) -> None:
        """Send `response` through server transaction `key` (ignored if it has ended)."""
        tx = self._servers.get(key)
        if tx is None or tx.state not in ("trying", "proceeding"):
            return
        self._send_response(tx, response, now)

    def server_request(self, key: tuple) -> Request | None:
        tx = self._servers.get(key)
        return tx.request if tx else None

    def find_invite(self, cancel: Request) -> tuple | None:
        """The key of the INVITE server transaction a CANCEL refers to (RFC 3261 9.2)."""
        invite_key = _server_key(cancel)[:-1] + ("INVITE",)   # keys end with the method
        tx = self._servers.get(invite_key)
        if tx is None or not tx.invite:
            return None
        return invite_key

    def abandon(self, key: tuple) -> None:
        """Stop an INVITE server transaction waiting for its ACK: its response is no longer retransmitted,
        retransmitted INVITEs are absorbed silently, and it ends without a timeout event."""
        tx = self._servers.get(key)
        if tx is None or not tx.invite:
            return
        self._accepted.pop((tx.request.call_id, tx.request.cseq[0]), None)
        tx.state = "confirmed"
        tx.retransmit_at = None
        tx.last_response = None

    def is_pending(self, key: tuple) -> bool:
        tx = self._servers.get(key)
        return tx is not None and tx.state in ("trying", "proceeding")

    def _send_response(self, tx: _ServerTransaction, response: Response, now: float) -> None:
        data = response.serialize()
        tx.last_response = data
        self.outbox.append(Send(data, tx.reply_to))
        t = self.timers
        if response.status < 200:
            tx.state = "proceeding"
            return
        tx.final_status = response.status
        if not tx.invite:
            tx.state = "completed"
            tx.expire_at = now + (0 if tx.reply_to.reliable else 64 * t.t1)   # Timer J
            self._arm(tx.expire_at, tx)
            return
        tx.state = "accepted" if response.status < 300 else "completed"
        if response.status < 300:
            self._accepted[(tx.request.call_id, tx.request.cseq[0])] = tx
        tx.interval = t.t1
        # Timer G; a 2xx is retransmitted end to end whatever the transport (RFC 3261 13.3.1.4).
        reliable_error = tx.reply_to.reliable and response.status >= 300
        tx.retransmit_at = None if reliable_error else now + t.t1
        wait = t.ack_wait if response.status < 300 and t.ack_wait is not None else 64 * t.t1
        tx.expire_at = now + wait                                         # Timer H / L
        self._arm(tx.retransmit_at, tx)
        self._arm(tx.expire_at, tx)

    def send_request(self, request: Request, dest: Endpoint, now: float) -> tuple:
        """Start a non-INVITE client transaction; returns its key."""
        via = parse_via(request.headers.get_all("Via")[0])
        _, method = request.cseq
        key = (via.branch, method)
        data = request.serialize()
        t = self.timers
        tx = _ClientTransaction(key, request, data, dest, interval=t.t1,
                                retransmit_at=None if dest.reliable else now + t.t1,
                                expire_at=now + 64 * t.t1)
        self._clients[key] = tx
        self._arm(tx.retransmit_at, tx)
        self._arm(tx.expire_at, tx)
        self.outbox.append(Send(data, dest))
        return key

    def send_invite(self, request: Request, dest: Endpoint, now: float) -> tuple:
        """Start an INVITE client transaction; returns its key."""
        via = parse_via(request.headers.get_all("Via")[0])
        key = (via.branch, "INVITE")
        data = request.serialize()
        t = self.timers
        tx = _ClientTransaction(key, request, data, dest, interval=t.t1, invite=True,
                                retransmit_at=None if dest.reliable else now + t.t1,   # Timer A
                                expire_at=now + 64 * t.t1)                            # Timer B
        self._clients[key] = tx
        self._arm(tx.retransmit_at, tx)
        self._arm(tx.expire_at, tx)
        self.outbox.append(Send(data, dest))
        return key

    def cancel(self, invite_key: tuple, now: float) -> tuple | None:
        """CANCEL a pending INVITE client transaction (RFC 3261 9.1): the key of the CANCEL's own
        transaction, or None when the INVITE has had its final response or no provisional one yet (a CANCEL
        may only follow a provisional response)."""
        tx = self._clients.get(invite_key)
        if tx is None or not tx.invite or tx.state != "proceeding":
            return None
        invite = tx.request
        headers = [("Via", invite.headers.get_all("Via")[0]), ("Max-Forwards", "70"),
                   ("From", invite.headers.get("From") or ""), ("To", invite.headers.get("To") or ""),
                   ("Call-ID", invite.call_id), ("CSeq", f"{invite.cseq[0]} CANCEL")]
        headers += [("Route", route) for route in invite.headers.get_all("Route")]
        tx.expire_at = now + 64 * self.timers.t1         # no final response to the INVITE by then: it times out
        self._arm(tx.expire_at, tx)
        return self.send_request(Request(Headers(headers), b"", method="CANCEL", uri=invite.uri), tx.dest, now)

    def invite_pending(self, invite_key: tuple) -> str | None:
        """The state of an INVITE client transaction (None once it is gone)."""
        tx = self._clients.get(invite_key)
        return tx.state if tx is not None and tx.invite else None

    # -- timers -------------------------------------------------------------------------------

    def _arm(self, when: float | None, tx: _ServerTransaction | _ClientTransaction) -> None:
        """Note a timer just set on `tx` (entries whose timer has since changed are skipped later)."""
        if when is not None:
            heapq.heappush(self._deadlines, (when, next(self._order), tx))

    def _live(self, when: float, tx: _ServerTransaction | _ClientTransaction) -> bool:
        table: dict = self._servers if isinstance(tx, _ServerTransaction) else self._clients
        return table.get(tx.key) is tx and when in (tx.retransmit_at, tx.expire_at)

    def next_deadline(self) -> float | None:
        deadlines = self._deadlines
        while deadlines and not self._live(deadlines[0][0], deadlines[0][2]):
            heapq.heappop(deadlines)
        return deadlines[0][0] if deadlines else None

    def poll(self, now: float) -> list[Event]:
        """Fire due timers: retransmissions go to the outbox, timeouts come back as events."""
        due: dict[int, _ServerTransaction | _ClientTransaction] = {}
        while self._deadlines and self._deadlines[0][0] <= now:
            when, _, tx = heapq.heappop(self._deadlines)
            if self._live(when, tx):
                due.setdefault(id(tx), tx)
        events: list[Event] = []
        for tx in due.values():
            if isinstance(tx, _ServerTransaction):
                self._poll_server(tx, now, events)
            else:
                self._poll_client(tx, now, events)
        return events

    def _poll_server(self, tx: _ServerTransaction, now: float, events: list[Event]) -> None:
        t = self.timers
        if tx.retransmit_at is not None and now >= tx.retransmit_at and tx.last_response:
            self.outbox.append(Send(tx.last_response, tx.reply_to))
            tx.interval = min(2 * tx.interval, t.t2)
            tx.retransmit_at = now + tx.interval
            self._arm(tx.retransmit_at, tx)
        if tx.expire_at is not None and now >= tx.expire_at:
            if tx.state == "accepted":
                self.stats.timeouts += 1
                events.append(TransactionTimeout(tx.key, tx.request, no_ack=True))
                self._accepted.pop((tx.request.call_id, tx.request.cseq[0]), None)
            del self._servers[tx.key]

    def _poll_client(self, ctx: _ClientTransaction, now: float, events: list[Event]) -> None:
        t = self.timers
        if ctx.state == "completed":
            if now >= ctx.expire_at:
                del self._clients[ctx.key]
            return
        if ctx.state == "accepted":
            if now >= ctx.expire_at:
                del self._clients[ctx.key]
            return
        if ctx.retransmit_at is not None and now >= ctx.retransmit_at:
            self.outbox.append(Send(ctx.data, ctx.dest))
            if ctx.invite:
                ctx.interval *= 2                                             # Timer A doubles, uncapped
            else:
                ctx.interval = t.t2 if ctx.state == "proceeding" else min(2 * ctx.interval, t.t2)
            ctx.retransmit_at = now + ctx.interval
            self._arm(ctx.retransmit_at, ctx)
        if now >= ctx.expire_at:
            self.stats.timeouts += 1
            events.append(TransactionTimeout(ctx.key, ctx.request))
            del self._clients[ctx.key]

    def drain(self) -> list[Send]:
        """Take what must be sent now."""
        out, self.outbox = self.outbox, []
        return out

    @property
    def active(self) -> int:
        return len(self._servers) + len(self._clients)


def _ack_for(invite: Request, response: Response) -> Request:
    """The ACK of a non-2xx final response (RFC 3261 17.1.1.3): the INVITE's branch, its To with the
    response's tag, its Route set."""
    headers = [("Via", invite.headers.get_all("Via")[0]), ("Max-Forwards", "70"),
               ("From", invite.headers.get("From") or ""), ("To", response.headers.get("To") or ""),
               ("Call-ID", invite.call_id), ("CSeq", f"{invite.cseq[0]} ACK")]
    headers += [("Route", route) for route in invite.headers.get_all("Route")]
    return Request(Headers(headers), b"", method="ACK", uri=invite.uri)


__all__ = [
    "Endpoint", "Timers", "Send", "IncomingRequest", "IncomingAck", "IncomingResponse",
    "TransactionTimeout", "TransactionLayer", "new_branch", "response_destination", "SipParseError",
]
