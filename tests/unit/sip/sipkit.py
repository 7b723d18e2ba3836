"""Shared by the SIP core tests: the bytes a caller's phone would send, and `Phone`, a caller
driving the sans-I/O user agent with a fake clock."""

from __future__ import annotations

from dataclasses import dataclass

from ivr.sip.message import Request, Response, parse_message
from ivr.sip.transaction import Endpoint
from ivr.sip.ua import Call, CallConfirmed, CallEvent, CallOffered, UAConfig, UserAgent

CALLER = Endpoint("UDP", "127.0.0.1", 5070)

SDP_OFFER = (b"v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
             b"m=audio 40000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n")
SDP_ANSWER = (b"v=0\r\no=ivr 7 7 IN IP4 127.0.0.1\r\ns=ivr\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
              b"m=audio 30000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n")


def sip_request(method: str, *, uri: str = "sip:3838@127.0.0.1:5060", call_id: str = "call-1@127.0.0.1",
                branch: str = "z9hG4bK-inv-1", cseq: int = 1, cseq_method: str | None = None,
                from_tag: str = "alice-tag", to_tag: str | None = None,
                via: str = "SIP/2.0/UDP 127.0.0.1:5070;rport",
                contact: str | None = "<sip:alice@127.0.0.1:5070>",
                headers: tuple[tuple[str, str], ...] = (), body: bytes = b"",
                content_type: str | None = None) -> bytes:
    """A well-formed request as a softphone at 127.0.0.1:5070 would send it to 3838."""
    lines = [
        f"{method} {uri} SIP/2.0",
        f"Via: {via};branch={branch}",
        "Max-Forwards: 70",
        f'From: "Alice" <sip:alice@127.0.0.1>;tag={from_tag}',
        "To: <sip:3838@127.0.0.1>" + (f";tag={to_tag}" if to_tag else ""),
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} {cseq_method or method}",
    ]
    if contact:
        lines.append(f"Contact: {contact}")
    lines += [f"{name}: {value}" for name, value in headers]
    if content_type:
        lines.append(f"Content-Type: {content_type}")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def invite(**kwargs: object) -> bytes:
    """An initial INVITE with an SDP offer (keyword arguments as for `sip_request`)."""
    kwargs.setdefault("body", SDP_OFFER)
    kwargs.setdefault("content_type", "application/sdp")
    return sip_request("INVITE", **kwargs)  # type: ignore[arg-type]


ACK = sip_request("ACK", branch="z9hG4bK-ack-1", to_tag="{tag}", contact=None)


@dataclass
class Sent:
    """One message the UA put on the wire."""

    dest: Endpoint
    message: Request | Response

    @property
    def status(self) -> int:
        assert isinstance(self.message, Response), self.message
        return self.message.status

    @property
    def request(self) -> Request:
        assert isinstance(self.message, Request), self.message
        return self.message


class Phone:
    """A caller talking to the UA under test, with a fake clock."""

    def __init__(self, config: UAConfig | None = None) -> None:
        self.ua = UserAgent(config or UAConfig(host="127.0.0.1", port=5060))
        self.now = 0.0

    def send(self, data: bytes, source: Endpoint = CALLER) -> list[Sent]:
        self.ua.receive(data, source, self.now)
        return self.wire()

    def wire(self) -> list[Sent]:
        return [Sent(s.dest, parse_message(s.data)) for s in self.ua.drain_outgoing()]

    def advance(self, seconds: float) -> list[Sent]:
        """Let time pass, firing every timer on its deadline."""
        end = self.now + seconds
        sent: list[Sent] = []
        while (deadline := self.ua.next_deadline()) is not None and deadline <= end:
            self.now = max(self.now, deadline)
            self.ua.poll(self.now)
            sent += self.wire()
        self.now = end
        return sent

    def events(self) -> list[CallEvent]:
        return self.ua.drain_events()

    def offer(self, **kwargs: object) -> Call:
        """Send an INVITE; returns the offered call."""
        sent = self.send(invite(**kwargs))
        assert [s.status for s in sent] == [100]
        [offered] = self.events()
        assert isinstance(offered, CallOffered)
        return offered.call

    def answered(self, **kwargs: object) -> tuple[Call, Response]:
        call = self.offer(**kwargs)
        self.ua.answer(call, SDP_ANSWER, self.now)
        [ok] = self.wire()
        assert isinstance(ok.message, Response)
        return call, ok.message

    def confirmed(self, **kwargs: object) -> Call:
        call, _ = self.answered(**kwargs)
        assert self.send(ack(call)) == []
        assert [type(e) for e in self.events()] == [CallConfirmed]
        return call


def ack(call: Call) -> bytes:
    return ACK.replace(b"{tag}", call.dialog.local_tag.encode())


def finals(sent: list[Sent]) -> list[int]:
    return [s.status for s in sent if s.status >= 200]
