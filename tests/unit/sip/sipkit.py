"""Request builders shared by the SIP core tests: the bytes a caller's phone would send."""

from __future__ import annotations

from ivr.sip.transaction import Endpoint

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
