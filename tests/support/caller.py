"""A scripted SIP + RTP phone for loopback tests and benchmarks (Linux, UDP).

It dials with hand-written SIP (INVITE, ACK, BYE either way), sends a silence frame every 20 ms as a
phone does, presses keys as RFC 4733 events, and keeps every RTP packet the engine sends with the
kernel's arrival time (SO_TIMESTAMPNS): timing checks do not depend on when this process got round
to reading its socket. Every time here is on the `time.time()` clock, the one the kernel stamps with.
"""

from __future__ import annotations

import asyncio
import audioop  # Python >= 3.13 gets the same module name from the audioop-lts package
import secrets
import socket
import struct
import time
from dataclasses import dataclass
from typing import Callable

from ivr.media import g711
from ivr.media.rfc4733 import telephone_event_packets
from ivr.media.rtp import RtpPacket, RtpSender
from ivr.sip.message import Request, Response, SipParseError, parse_message
from ivr.sip.sdp import SessionDescription

SO_TIMESTAMPNS = 35                       # Linux; the socket module does not name it
TIMESPEC = struct.Struct("@ll")
FRAME = 0.020
DTMF_PT = 101
SILENCE_LEVEL = 8                          # the smallest step of G.711 around zero


class CallFailed(Exception):
    """The engine did not answer the call, or did not do something the script waited for in time."""


@dataclass(frozen=True)
class Arrival:
    """One RTP packet from the engine and when the kernel received it."""

    at: float
    packet: RtpPacket

    @property
    def pcm(self) -> bytes:
        """The payload decoded to 16-bit linear PCM."""
        return g711.decode(self.packet.payload_type, self.packet.payload)

    @property
    def silent(self) -> bool:
        """Every sample is at the codec's zero level (A-law has no 0: its quietest step is ±8), which is
        what the engine sends when nothing plays."""
        return audioop.max(self.pcm, 2) <= SILENCE_LEVEL


class Caller:
    """One call to `engine` (host, port) for `number`, offering `codecs` (G.711 payload types, in order)."""

    def __init__(self, engine: tuple[str, int], number: str, *, caller_id: str = "+15550000001",
                 codecs: tuple[int, ...] = (g711.PCMU,), host: str = "127.0.0.1",
                 invite_headers: tuple[tuple[str, str], ...] = ()) -> None:
        self.engine = engine
        self.invite_headers = invite_headers      # e.g. P-Asserted-Identity, Privacy
        self.engine_sdp: SessionDescription | None = None
        self.number = number
        self.caller_id = caller_id
        self.codecs = codecs
        self.host = host
        self.codec_pt: int | None = None          # what the engine answered with
        self.ack_sent_at: float | None = None
        self.received: list[Arrival] = []
        self.hung_up_by_engine = False
        self._call_id = f"{secrets.token_hex(8)}@{host}"
        self._tag = secrets.token_hex(4)
        self._remote_tag = ""
        self._remote_target = ""
        self._cseq = 0
        self._branch = ""
        self._acked_cseq: int | None = None
        self._rtp_remote: tuple[str, int] | None = None
        self._rtp_sender = RtpSender()
        self._sending_key = False
        self._loop = asyncio.get_running_loop()
        self._sip = self._bind()
        self._rtp = self._bind()
        self._rtp.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self._responses: asyncio.Queue[Response] = asyncio.Queue()
        self._bye = asyncio.Event()
        self._rtp_arrived = asyncio.Event()
        self._silence_task: asyncio.Task | None = None
        self._loop.add_reader(self._sip.fileno(), self._read_sip)
        self._loop.add_reader(self._rtp.fileno(), self._read_rtp)

    async def __aenter__(self) -> Caller:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def _bind(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((self.host, 0))
        sock.setblocking(False)
        return sock

    @property
    def sip_port(self) -> int:
        return self._sip.getsockname()[1]

    @property
    def rtp_port(self) -> int:
        return self._rtp.getsockname()[1]

    # -- SIP ------------------------------------------------------------------------------------

    @property
    def media_address(self) -> tuple[str, int] | None:
        """Where the engine's SDP says to send RTP (c= and m= of its answer or offer)."""
        return self._rtp_remote

    def _sdp(self, codecs: tuple[int, ...], direction: str = "sendrecv", version: int = 1) -> str:
        formats = " ".join(str(pt) for pt in (*codecs, DTMF_PT))
        rtpmaps = "".join(f"a=rtpmap:{pt} {g711.CODEC_NAMES[pt]}/8000\r\n" for pt in codecs)
        return (f"v=0\r\no=caller 1 {version} IN IP4 {self.host}\r\ns=-\r\nc=IN IP4 {self.host}\r\nt=0 0\r\n"
                f"m=audio {self.rtp_port} RTP/AVP {formats}\r\n{rtpmaps}"
                f"a=rtpmap:{DTMF_PT} telephone-event/8000\r\na=fmtp:{DTMF_PT} 0-15\r\na=ptime:20\r\n"
                f"a={direction}\r\n")

    def _take_media(self, body: bytes) -> SessionDescription:
        """Codec and RTP address from the engine's SDP."""
        description = SessionDescription.parse(body)
        self.engine_sdp = description
        media = description.media[0]
        self.codec_pt = int(media.formats[0])
        self._rtp_remote = (media.connection or description.connection or self.engine[0], media.port)
        return description

    async def dial(self, timeout: float = 15.0) -> None:
        """INVITE, wait for the 200 OK, ACK it (noting when), and start sending silence."""
        uri = f"sip:{self.number}@{self.engine[0]}:{self.engine[1]}"
        self._send_request("INVITE", uri, self._next_cseq(), f"<{uri}>", self._sdp(self.codecs),
                           content_type="application/sdp")
        response = await self._final_response(timeout)
        if response.status != 200:
            raise CallFailed(f"INVITE answered {response.status} {response.reason}")
        self._remote_tag = response.to_addr.tag or ""
        contact = response.headers.get("Contact") or uri
        self._remote_target = contact.strip().lstrip("<").split(">")[0]
        self._take_media(response.body)
        self._ack(self._cseq)
        self._silence_task = asyncio.ensure_future(self._send_silence())

    async def reinvite(self, direction: str | None, answer: str = "sendrecv", timeout: float = 10.0) -> Response:
        """A re-INVITE offering our codecs `direction` (sendonly: hold, sendrecv: unhold), or without SDP
        when None (a session refresh: the engine's 200 carries the offer, our ACK the answer, `answer` its
        direction). Returns the final response, ACKed."""
        cseq = self._next_cseq()
        body = "" if direction is None else self._sdp(self.codecs, direction, version=cseq)
        self._send_request("INVITE", self._remote_target, cseq, self._to_header(), body,
                           content_type="application/sdp" if body else None)
        response = await self._final_response(timeout)
        ours = ""
        if response.status == 200 and response.body:
            offered = self._take_media(response.body)
            if direction is None:
                ours = self._sdp((int(offered.media[0].formats[0]),), answer, version=cseq)
        self._ack(cseq, ours, to_2xx=response.status == 200)
        return response

    async def update(self, timeout: float = 10.0) -> Response:
        """An UPDATE without SDP (refreshes the dialog alone); returns the final response."""
        self._send_request("UPDATE", self._remote_target, self._next_cseq(), self._to_header())
        return await self._final_response(timeout)

    def _next_cseq(self) -> int:
        self._cseq += 1
        return self._cseq

    def _ack(self, cseq: int, sdp: str = "", to_2xx: bool = True) -> None:
        if to_2xx:
            self.ack_sent_at = time.time()
            self._acked_cseq = cseq
        self._send_request("ACK", self._remote_target, cseq, self._to_header(), sdp,
                           content_type="application/sdp" if sdp else None, branch=None if to_2xx else self._branch)

    async def hang_up(self, timeout: float = 10.0) -> None:
        """BYE, and wait for its answer."""
        self._stop_media()
        self._send_request("BYE", self._remote_target, self._next_cseq(), self._to_header())
        response = await self._final_response(timeout)
        if response.status != 200:
            raise CallFailed(f"BYE answered {response.status}")

    async def wait_hangup(self, timeout: float) -> None:
        """Wait for the engine's BYE (answered 200 as it arrives)."""
        try:
            await asyncio.wait_for(self._bye.wait(), timeout)
        except asyncio.TimeoutError:
            raise CallFailed(f"the engine did not hang up within {timeout} s") from None

    def _to_header(self) -> str:
        return f"<sip:{self.number}@{self.engine[0]}:{self.engine[1]}>;tag={self._remote_tag}"

    def _send_request(self, method: str, uri: str, cseq: int, to: str, body: str = "",
                      content_type: str | None = None, branch: str | None = None) -> None:
        """Send a request; a new branch unless `branch` (an ACK to an error takes its INVITE's)."""
        if branch is None:
            branch = self._branch = f"z9hG4bK{secrets.token_hex(8)}"
        lines = [f"{method} {uri} SIP/2.0",
                 f"Via: SIP/2.0/UDP {self.host}:{self.sip_port};branch={branch};rport",
                 f"From: <sip:{self.caller_id}@{self.host}>;tag={self._tag}", f"To: {to}",
                 f"Call-ID: {self._call_id}", f"CSeq: {cseq} {method}",
                 f"Contact: <sip:caller@{self.host}:{self.sip_port}>", "Max-Forwards: 70"]
        if method == "INVITE" and cseq == 1:
            lines += [f"{name}: {value}" for name, value in self.invite_headers]
        if content_type:
            lines.append(f"Content-Type: {content_type}")
        lines.append(f"Content-Length: {len(body.encode())}")
        self._sip.sendto(("\r\n".join(lines) + "\r\n\r\n" + body).encode(), self.engine)

    async def _final_response(self, timeout: float) -> Response:
        deadline = self._loop.time() + timeout
        while True:
            try:
                response = await asyncio.wait_for(self._responses.get(), max(0.0, deadline - self._loop.time()))
            except asyncio.TimeoutError:
                raise CallFailed(f"no final response within {timeout} s") from None
            if response.status >= 200:
                return response

    def _read_sip(self) -> None:
        while True:
            try:
                data, source = self._sip.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            try:
                message = parse_message(data)
            except SipParseError:
                continue
            if isinstance(message, Response):
                if message.cseq[1] == "INVITE" and message.status == 200 and message.cseq[0] == self._acked_cseq:
                    self._ack(message.cseq[0])    # a retransmitted 200: our ACK was lost or late
                else:
                    self._responses.put_nowait(message)
            elif message.method == "BYE":
                self._answer(message, source)
                self._stop_media()
                self.hung_up_by_engine = True
                self._bye.set()
            elif message.method != "ACK":
                self._answer(message, source)

    def _answer(self, request: Request, source: tuple[str, int]) -> None:
        copied = [f"{name}: {value}" for name, value in request.headers
                  if name.lower() in ("via", "from", "to", "call-id", "cseq")]
        self._sip.sendto(("\r\n".join(["SIP/2.0 200 OK", *copied, "Content-Length: 0"]) + "\r\n\r\n").encode(),
                         source)

    # -- RTP ------------------------------------------------------------------------------------

    async def press(self, digit: str, duration_ms: int = 100) -> float:
        """A key as RFC 4733 events, one packet per 20 ms then the end packet three times; returns when
        the first one was sent."""
        assert self._rtp_remote is not None, "dial first"
        sender = self._rtp_sender
        packets = telephone_event_packets(digit, payload_type=DTMF_PT, ssrc=sender.ssrc, sequence=sender.sequence,
                                          timestamp=sender.timestamp, duration_ms=duration_ms)
        self._sending_key = True
        try:
            first = time.time()
            for packet in packets:
                self._rtp.sendto(packet.serialize(), self._rtp_remote)
                await asyncio.sleep(FRAME)
        finally:
            self._sending_key = False
        sender.sequence = (sender.sequence + len(packets)) & 0xFFFF
        sender.skip(8 * duration_ms)
        return first

    async def _send_silence(self) -> None:
        assert self._rtp_remote is not None and self.codec_pt is not None
        frame = g711.encode(self.codec_pt, g711.SILENCE_FRAME)
        start = self._loop.time()
        n = 0
        while True:
            if not self._sending_key:
                self._rtp.sendto(self._rtp_sender.packet(self.codec_pt, frame, g711.FRAME_SAMPLES), self._rtp_remote)
            n += 1
            await asyncio.sleep(max(0.0, start + n * FRAME - self._loop.time()))

    def _read_rtp(self) -> None:
        while True:
            try:
                data, ancillary, _, _ = self._rtp.recvmsg(2048, socket.CMSG_SPACE(TIMESPEC.size))
            except (BlockingIOError, InterruptedError):
                return
            at = time.time()
            for level, kind, value in ancillary:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    seconds, nanoseconds = TIMESPEC.unpack(value[:TIMESPEC.size])
                    at = seconds + nanoseconds / 1e9
            self.received.append(Arrival(at, RtpPacket.parse(data)))
            self._rtp_arrived.set()

    async def wait_until(self, condition: Callable[[list[Arrival]], bool], timeout: float) -> None:
        """Wait until `condition(self.received)` holds; CallFailed after `timeout` seconds."""
        deadline = self._loop.time() + timeout
        while not condition(self.received):
            self._rtp_arrived.clear()
            remaining = deadline - self._loop.time()
            if remaining <= 0:
                raise CallFailed(f"waited {timeout} s for the engine's audio")
            try:
                await asyncio.wait_for(self._rtp_arrived.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    def _stop_media(self) -> None:
        if self._silence_task is not None:
            self._silence_task.cancel()
            self._silence_task = None

    def close(self) -> None:
        self._stop_media()
        for sock in (self._sip, self._rtp):
            if sock.fileno() >= 0:
                self._loop.remove_reader(sock.fileno())
                sock.close()


def locate(arrivals: list[Arrival], encoded: bytes, start: int = 0) -> int | None:
    """Index of the packet (from `start`) whose payload begins `encoded` (G.711 bytes running on across
    packets), or None when the stream does not carry it from a packet's start."""
    stream = b"".join(a.packet.payload for a in arrivals[start:])
    offset = stream.find(encoded)
    while offset >= 0 and offset % g711.FRAME_SAMPLES:
        offset = stream.find(encoded, offset + 1)
    return None if offset < 0 else start + offset // g711.FRAME_SAMPLES
