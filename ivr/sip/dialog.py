"""UAS dialog state (RFC 3261 section 12): tags, route set, CSeq, and requests inside the dialog."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from urllib.parse import unquote

from .message import NameAddr, Request, SipParseError, new_request, parse_name_addr, parse_uri
from .transaction import Endpoint, new_branch


def new_tag() -> str:
    return secrets.token_hex(6)


@dataclass
class Dialog:
    """A dialog created by an incoming INVITE that we answered."""

    call_id: str
    local_tag: str
    remote_tag: str | None
    local_uri: str                     # the To of the INVITE, without tag
    remote_uri: str                    # the From of the INVITE, without tag
    remote_target: str                 # the caller's Contact URI
    route_set: list[str] = field(default_factory=list)
    local_cseq: int = field(default_factory=lambda: random.randint(1, 10000))
    remote_cseq: int = 0
    peer: Endpoint | None = None       # where the INVITE came from (NAT-friendly fallback)

    @classmethod
    def from_invite(cls, invite: Request, source: Endpoint, local_tag: str | None = None) -> "Dialog":
        from_addr = invite.from_addr
        to_addr = invite.to_addr
        contacts = invite.headers.get_all("Contact")
        target = parse_name_addr(contacts[0]).uri if contacts else from_addr.uri
        return cls(
            call_id=invite.call_id,
            local_tag=local_tag or new_tag(),
            remote_tag=from_addr.tag,
            local_uri=str(NameAddr(to_addr.display, to_addr.uri)),
            remote_uri=str(NameAddr(from_addr.display, from_addr.uri)),
            remote_target=target,
            route_set=invite.headers.get_all("Record-Route"),
            remote_cseq=invite.cseq[0],
            peer=source,
        )

    def matches(self, request: Request) -> bool:
        """True when an in-dialog request belongs to this dialog (Call-ID and both tags)."""
        try:
            return (request.call_id == self.call_id
                    and request.to_addr.tag == self.local_tag
                    and request.from_addr.tag == self.remote_tag)
        except SipParseError:
            return False

    def accept_cseq(self, request: Request) -> bool:
        """RFC 3261 12.2.2: a lower CSeq than the last one is out of order (answer 500)."""
        number, method = request.cseq
        if method in ("ACK", "CANCEL"):
            return True
        if number <= self.remote_cseq and self.remote_cseq:
            return False
        self.remote_cseq = number
        return True

    def create_request(self, method: str, via_host: str, via_port: int, transport: str,
                       headers: list[tuple[str, str]] | None = None, body: bytes = b"") -> Request:
        """A new request inside the dialog (RFC 3261 12.2.1.1), loose routing only."""
        self.local_cseq += 1
        items: list[tuple[str, str]] = [
            ("Via", f"SIP/2.0/{transport} {via_host}:{via_port};branch={new_branch()};rport"),
            ("Max-Forwards", "70"),
            ("From", f"{self.local_uri};tag={self.local_tag}"),
            ("To", self.remote_uri + (f";tag={self.remote_tag}" if self.remote_tag else "")),
            ("Call-ID", self.call_id),
            ("CSeq", f"{self.local_cseq} {method}"),
        ]
        for route in self.route_set:
            items.append(("Route", route))
        items.extend(headers or [])
        return new_request(method, self.remote_target, items, body)

    def next_hop(self) -> Endpoint | None:
        """Where in-dialog requests go: the first route if any, else the peer the INVITE came from.

        Answering to the INVITE's source rather than the Contact keeps calls from callers behind NAT
        working; a stateful proxy that wants to stay in the path records its route.
        """
        if self.route_set:
            try:
                uri = parse_name_addr(self.route_set[0]).parsed_uri()
            except SipParseError:
                return self.peer
            transport = (uri.params.get("transport") or (self.peer.transport if self.peer else "udp")).upper()
            return Endpoint(transport, uri.host.strip("[]"), uri.port or 5060)
        return self.peer


def uri_user(uri: str) -> str | None:
    """The dialled number: a SIP URI's user part (%-escapes decoded) or a tel URI's number, or None."""
    try:
        parsed = parse_uri(uri)
    except SipParseError:
        return None
    user = parsed.host if parsed.scheme == "tel" else parsed.user
    return unquote(user) if user is not None else None


__all__ = ["Dialog", "new_tag", "uri_user"]
