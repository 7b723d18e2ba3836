"""Fuzzing properties: whatever bytes or text come in, only our typed errors come out.

Each `Property` pairs a hypothesis strategy with a check. `test_fuzz.py` runs them with hypothesis'
default example counts; `bench/fuzz.py` runs the same ones for as long as it is told. Inputs are
random bytes, text from the alphabet each format is made of, and mutations (cut, repeat, splice,
flip) of real messages: the RFC 4475/5118 torture set, our own SIP and SDP, the demo campaigns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import yaml
from hypothesis import strategies as st

from ivr.flow.loader import load_campaign
from ivr.flow.validate import DialplanError
from ivr.media.rfc4733 import EVENT_KEYS, PAYLOAD, TelephoneEventError, TelephoneEventReceiver, telephone_event_packets
from ivr.media.rtp import RtpError, RtpPacket
from ivr.sip.message import (
    MAX_MESSAGE_SIZE, Request, Response, SipError, StreamFramer, check_request, parse_message,
)
from ivr.sip.sdp import SdpError, SessionDescription, negotiate
from ivr.sip.transaction import Endpoint
from ivr.sip.ua import UAConfig, UserAgent

from ..sip.sipkit import SDP_ANSWER, SDP_OFFER, invite, sip_request

ROOT = Path(__file__).resolve().parents[3]
SIP_CORPUS = [p.read_bytes() for p in sorted((ROOT / "tests/unit/sip").glob("rfc*/*/*.dat"))] + [
    invite(), sip_request("OPTIONS"), sip_request("BYE", to_tag="t1"), sip_request("INFO", to_tag="t1"),
    sip_request("CANCEL"), sip_request("ACK", to_tag="t1")]
SDP_CORPUS = [SDP_OFFER, SDP_ANSWER] + [m.split(b"\r\n\r\n", 1)[1] for m in SIP_CORPUS
                                        if b"application/sdp" in m and b"\r\n\r\nv=0" in m]
DIALPLANS = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "dialplans").glob("*.yaml"))]
SOURCE = Endpoint("UDP", "127.0.0.1", 5070)


@dataclass(frozen=True)
class Property:
    """A strategy and a check that must hold (raise nothing but an AssertionError on failure)."""

    name: str
    strategy: st.SearchStrategy[Any]
    check: Callable[[Any], None]


def only(errors: tuple[type[Exception], ...], call: Callable[[], Any]) -> Any:
    """`call()`; one of `errors` counts as a proper refusal (None), anything else escapes."""
    try:
        return call()
    except errors:
        return None


# --- strategies -------------------------------------------------------------------------------------

@st.composite
def mutated(draw: st.DrawFn, corpus: list[bytes]) -> bytes:
    """A corpus item with a few random edits: cut, repeat or replace a span, flip bytes, splice two."""
    data = bytearray(draw(st.sampled_from(corpus)))
    for _ in range(draw(st.integers(0, 6))):
        at = draw(st.integers(0, len(data)))
        span = draw(st.integers(0, 64))
        edit = draw(st.sampled_from(["cut", "repeat", "insert", "flip", "splice"]))
        if edit == "cut":
            del data[at:at + span]
        elif edit == "repeat":
            data[at:at] = data[at:at + span] * draw(st.integers(1, 4))
        elif edit == "insert":
            data[at:at] = draw(st.sampled_from([b"\r\n", b" ", b"\t", b":", b";", b",", b"<", b">", b'"', b"\\",
                                                b"@", b"[", b"]", b"%", b"\x00", b"\xff", b"\r\n ", b"\r\n\r\n",
                                                "²".encode(), "٣".encode(), b"0", b"-1", b"99999999999"]))
        elif edit == "flip" and data:
            data[min(at, len(data) - 1)] = draw(st.integers(0, 255))
        elif edit == "splice":
            other = draw(st.sampled_from(corpus))
            start = draw(st.integers(0, len(other)))
            data[at:] = other[start:]
    return bytes(data)


SIP_ALPHABET = st.sampled_from(
    ["INVITE", "OPTIONS", "BYE", "SIP/2.0", "SIP/7.0", " ", "  ", "\t", "\r\n", "\n", "\r\n ", ":", ";", ",", "=",
     "<", ">", '"', "\\", "@", "[", "]", "?", "%00", "sip:", "sips:", "tel:", "3838", "127.0.0.1", "::1",
     "Via", "v", "From", "To", "Call-ID", "CSeq", "Content-Length", "l", "Contact", "Require", "Accept",
     "Content-Type", "Max-Forwards", "tag", "branch=z9hG4bK", "z9hG4bK", "rport", "received", "0", "1",
     "70", "-1", "4294967296", "²", "é", "\x00", "application/sdp"])
SIP_TEXT = st.lists(SIP_ALPHABET, max_size=80).map(lambda parts: "".join(parts).encode("utf-8", "surrogatepass"))
SIP_INPUTS = st.one_of(st.binary(max_size=1024), SIP_TEXT, mutated(SIP_CORPUS))

SDP_LINES = st.lists(st.tuples(
    st.sampled_from("vosictmabkz?"),
    st.lists(st.sampled_from(["0", "1", "101", "8000", " ", "IN", "IP4", "IP6", "127.0.0.1", "::1", "0.0.0.0",
                              "audio", "video", "RTP/AVP", "RTP/AVPF", "/", "-", ":", "rtpmap", "fmtp", "ptime",
                              "maxptime", "PCMU", "PCMA", "telephone-event", "sendonly", "inactive", "0-16",
                              "²", "65536", "99999999999999999999"]), max_size=8).map("".join)),
    max_size=16).map(lambda lines: "".join(f"{k}={v}\r\n" for k, v in lines).encode())
SDP_INPUTS = st.one_of(st.binary(max_size=512), SDP_LINES, st.builds(lambda b, s: b"v=0\r\no=- 1 1 IN IP4 h\r\n" + s,
                                                                      st.none(), SDP_LINES), mutated(SDP_CORPUS))

RTP_FIELDS = st.builds(
    RtpPacket, payload_type=st.integers(-2, 130), sequence=st.integers(-2, 0x10001),
    timestamp=st.integers(-2, 2**32 + 1), ssrc=st.integers(-2, 2**32 + 1), payload=st.binary(max_size=64),
    marker=st.booleans(), csrcs=st.lists(st.integers(-1, 2**32), max_size=17).map(tuple),
    extension=st.none() | st.tuples(st.integers(-1, 0x10000), st.binary(max_size=12)))

TELEPHONE_EVENTS = st.lists(st.tuples(
    st.binary(min_size=0, max_size=6) | st.builds(PAYLOAD.pack, st.integers(0, 255), st.integers(0, 255),
                                                   st.integers(0, 0xFFFF)),
    st.sampled_from([1, 2, 0xFFFFFFFF]), st.sampled_from([0, 160, 800, 80000, 0x7FFFFFFF, 0xFFFFFF00]),
    st.floats(0, 2, allow_nan=False)), max_size=40)

YAML_TEXT = st.lists(st.sampled_from(
    ["id", "name", "numbers", "nodes", "start", "type", "say", "ask", "next", "choices", "key", "- ", ": ", "\n",
     "  ", "{", "}", "[", "]", ",", "'", '"', "&a", "*a", "!!str", "|", ">", "#", "3838", "yes", "true", "null",
     "~", "{{", "}}", "{{ x }}", "end", "vote", "en", "uk", "text", "\t", "%", "@", "`", "²"]), max_size=120).map("".join)
SCHEMA_WORDS = st.sampled_from(["id", "name", "numbers", "languages", "start", "nodes", "type", "text", "next",
                                "say", "ask", "choices", "key", "end", "menu", "vote", "code", "pattern", "url",
                                "schedule", "code_pools", "channels", "voice", "sms", "en", "x", "²", "0"])
JSON_DATA = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5000) | st.text(max_size=12) | SCHEMA_WORDS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(SCHEMA_WORDS, inner, max_size=6), max_leaves=40)
DIALPLAN_INPUTS = st.one_of(
    YAML_TEXT, st.text(max_size=400),
    JSON_DATA.map(lambda d: yaml.safe_dump(d, allow_unicode=True)), JSON_DATA.map(json.dumps),
    mutated([d.encode() for d in DIALPLANS]).map(lambda b: b.decode("utf-8", "replace")),
    st.integers(1, 200).map(lambda n: "a:\n" + "".join("  " * i + "- \n" for i in range(1, n))),
    st.integers(1, 200).map(lambda n: "[" * n + "]" * n))


# --- checks -----------------------------------------------------------------------------------------

def check_sip_parser(data: bytes) -> None:
    message = only((SipError,), lambda: parse_message(data))
    if message is None:
        return
    for field in ("call_id", "cseq", "from_addr", "to_addr", "top_via"):
        only((SipError,), lambda: getattr(message, field))
    if isinstance(message, Request):
        invalid = check_request(message)
        assert invalid is None or 400 <= invalid.status <= 599
    assert message.serialize()


def check_user_agent(datagrams: list[bytes]) -> None:
    """Nothing escapes the UA, it only ever sends well-formed responses to the source, and a good
    INVITE is still offered afterwards."""
    ua = UserAgent(UAConfig())
    for n, data in enumerate(datagrams):
        ua.receive(data, SOURCE, n * 0.01)
        ua.drain_events()
    ua.poll(100.0)
    for send in ua.drain_outgoing():
        response = parse_message(send.data)
        assert isinstance(response, Response) and 100 <= response.status <= 699
        assert send.dest.host == SOURCE.host
    ua.receive(invite(call_id="fuzz-after@127.0.0.1", branch="z9hG4bK-fuzz-after"), SOURCE, 200.0)
    assert [type(e).__name__ for e in ua.drain_events()] == ["CallOffered"]


def check_stream_framer(chunks: list[bytes]) -> None:
    framer = StreamFramer()
    for chunk in chunks:
        messages = only((SipError,), lambda: framer.feed(chunk))
        if messages is None:
            return                     # the connection is closed on a framing error
        assert all(len(m) <= MAX_MESSAGE_SIZE for m in messages)


def check_sdp(data: bytes) -> None:
    description = only((SdpError,), lambda: SessionDescription.parse(data))
    if description is None:
        return
    answer = only((SdpError,), lambda: negotiate(description, "127.0.0.1", 30000))
    again = SessionDescription.parse(description.serialize())
    assert again.serialize() == description.serialize()
    if answer is not None:
        ports = [m.port for m in SessionDescription.parse(answer.sdp.serialize()).media]
        assert ports.count(30000) == 1 and set(ports) <= {0, 30000}


def check_rtp_parse(data: bytes) -> None:
    packet = only((RtpError,), lambda: RtpPacket.parse(data))
    if packet is not None:
        assert RtpPacket.parse(packet.serialize()) == packet


def check_rtp_build(packet: RtpPacket) -> None:
    data = only((RtpError,), packet.serialize)
    if data is not None:
        assert RtpPacket.parse(data) == packet


def check_telephone_events(items: list[tuple[bytes, int, int, float]]) -> None:
    receiver = TelephoneEventReceiver()
    now, reported = 0.0, []
    for payload, ssrc, timestamp, delay in items:
        now += delay
        reported += receiver.receive(RtpPacket(101, 0, timestamp, ssrc, payload), now)
        reported += receiver.poll(now)
    reported += receiver.poll(now + 10)
    assert all(event.digit in EVENT_KEYS and event.duration_ms >= 0 for event in reported)
    assert len(reported) <= len(items)


def check_telephone_event_sender(args: tuple[str, int, int, int]) -> None:
    digit, duration_ms, ptime_ms, volume = args
    packets = only((TelephoneEventError,), lambda: telephone_event_packets(
        digit, payload_type=101, ssrc=9, sequence=0xFFFE, timestamp=1, duration_ms=duration_ms,
        ptime_ms=ptime_ms, volume=volume))
    if packets is None:
        return
    receiver = TelephoneEventReceiver()
    events = [e for p in packets for e in receiver.receive(RtpPacket.parse(p.serialize()), 0.0)]
    assert [e.digit for e in events] == [digit.upper()]


def check_dialplan(text: str) -> None:
    campaign = only((DialplanError,), lambda: load_campaign(text))
    assert campaign is None or campaign.id


PROPERTIES = {p.name: p for p in [
    Property("sip_parser", SIP_INPUTS, check_sip_parser),
    Property("sip_user_agent", st.lists(SIP_INPUTS, min_size=1, max_size=6), check_user_agent),
    Property("sip_stream_framer", st.lists(st.binary(max_size=300) | mutated(SIP_CORPUS), max_size=6),
             check_stream_framer),
    Property("sdp", SDP_INPUTS, check_sdp),
    Property("rtp_parse", st.binary(max_size=128), check_rtp_parse),
    Property("rtp_build", RTP_FIELDS, check_rtp_build),
    Property("rfc4733_receiver", TELEPHONE_EVENTS, check_telephone_events),
    Property("rfc4733_sender", st.tuples(st.text(max_size=2), st.integers(-10, 10000), st.integers(-5, 100),
                                          st.integers(-2, 70)), check_telephone_event_sender),
    Property("dialplan_loader", DIALPLAN_INPUTS, check_dialplan),
]}
