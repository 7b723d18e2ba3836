"""A `VoiceCall` and a phone in memory, as aioquic pairs a client and a server without sockets: the call's
RTP socket and the phone's are joined by a `Wire`, the SIP dialog is a `MemoryDialog` that records what the
call did, the store is a `MemoryRecorder`, and time is a manual clock the test advances 20 ms at a time,
driving the call exactly as the engine's media clock does (`send_frame`, then `on_tick`)."""

from __future__ import annotations

import asyncio
import zlib
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ivr.channels.caller_id import normalize
from ivr.channels.effects import InMemoryServices
from ivr.engine.call import CallEnvironment, VoiceCall
from ivr.engine.call_sdp import CallSdp
from ivr.engine.metrics import EngineMetrics
from ivr.flow.interpreter import Prompt
from ivr.flow.model import Campaign
from ivr.media import g711
from ivr.media.rfc4733 import telephone_event_packets
from ivr.media.rtp import RtpPacket, RtpSender
from ivr.media.session import MediaSession
from ivr.sip import sdp

TICK = 0.02
CALL_ADDRESS = ("198.51.100.1", 20000)
PHONE_ADDRESS = ("192.0.2.10", 4000)
DTMF_PT = 101


class Wire:
    """Datagrams in flight, by destination address."""

    def __init__(self) -> None:
        self.queues: dict[tuple[str, int], deque[tuple[bytes, tuple[str, int]]]] = defaultdict(deque)


class MemorySocket:
    """A datagram socket on the wire (what `VoiceCall` takes as its RTP socket)."""

    def __init__(self, wire: Wire, address: tuple[str, int]) -> None:
        self.wire = wire
        self.address = address
        self.port = address[1]
        self.closed = False

    def receive(self) -> list[tuple[bytes, tuple[str, int]]]:
        queue = self.wire.queues[self.address]
        out = list(queue)
        queue.clear()
        return out

    def sendto(self, data: bytes, addr: tuple[str, int]) -> None:
        if not self.closed:
            self.wire.queues[addr].append((data, self.address))

    def close(self) -> None:
        self.closed = True


class MemoryDialog:
    """The call's dialog: what the call did to it, and the REFER's result for the test to give."""

    def __init__(self) -> None:
        self.hung_up_at: float | None = None
        self.refers: list[str] = []
        self.refer_result: Any = None
        self.modify_answers: list[tuple[tuple, int, bytes | None]] = []     # (key, status, body)

    def hangup(self, now: float) -> None:
        if self.hung_up_at is None:
            self.hung_up_at = now

    def refer(self, target: str, now: float, on_result: Any) -> None:
        self.refers.append(target)
        self.refer_result = on_result

    def accept_modify(self, key: tuple, sdp: bytes | None, now: float) -> None:
        self.modify_answers.append((key, 200, sdp))

    def reject_modify(self, key: tuple, status: int, now: float) -> None:
        self.modify_answers.append((key, status, None))


@dataclass
class MemoryRecorder:
    """The store's per-call records."""

    started: list[str] = field(default_factory=list)
    answered: list[str] = field(default_factory=list)
    events: list[tuple[str, dict]] = field(default_factory=list)
    ended: dict[str, dict] = field(default_factory=dict)

    def call_started(self, *, call_id: str, **_: Any) -> None:
        self.started.append(call_id)

    def call_answered(self, call_id: str, at: Any) -> None:
        self.answered.append(call_id)

    def event(self, call_id: str, kind: str, data: dict, at: Any) -> None:
        self.events.append((kind, data))

    def call_ended(self, *, call_id: str, disposition: str, cause: str, path: list[str], **_: Any) -> None:
        self.ended[call_id] = {"disposition": disposition, "cause": cause, "path": path}

    def kinds(self, kind: str) -> list[dict]:
        return [data for k, data in self.events if k == kind]


def prompt_level(text: str | None) -> int:
    """The sample value the test prompts say `text` with: one level per text, so the phone can tell them apart."""
    return 1000 + zlib.crc32((text or "").encode()) % 200 * 100


class LevelPrompts:
    """Prompt audio: `seconds` of one constant level per text (what is heard, not how it sounds, is tested)."""

    def __init__(self, seconds: float = 0.5) -> None:
        self.samples = int(seconds * 8000)

    def lookup(self, prompt: Prompt) -> bytes:
        return prompt_level(prompt.text).to_bytes(2, "little", signed=True) * self.samples

    async def render(self, prompt: Prompt) -> bytes:
        return self.lookup(prompt)


class Phone:
    """The caller's RTP end: sends keys as RFC 4733 events, keeps every packet the call sent it."""

    def __init__(self, wire: Wire, address: tuple[str, int] = PHONE_ADDRESS) -> None:
        self.socket = MemorySocket(wire, address)
        self.sender = RtpSender()
        self.heard: list[tuple[float, RtpPacket]] = []

    def offer(self, direction: str = "sendrecv", version: int = 1) -> bytes:
        host, port = self.socket.address
        return (f"v=0\r\no=phone 1 {version} IN IP4 {host}\r\ns=-\r\nc=IN IP4 {host}\r\nt=0 0\r\n"
                f"m=audio {port} RTP/AVP 0 {DTMF_PT}\r\na=rtpmap:0 PCMU/8000\r\n"
                f"a=rtpmap:{DTMF_PT} telephone-event/8000\r\na={direction}\r\n").encode()

    def press(self, digit: str, call: tuple[str, int] = CALL_ADDRESS) -> None:
        """A key press, all its packets on the wire at once (the call reads them on its next tick)."""
        sender = self.sender
        packets = telephone_event_packets(digit, payload_type=DTMF_PT, ssrc=sender.ssrc, sequence=sender.sequence,
                                          timestamp=sender.timestamp, duration_ms=60)
        for packet in packets:
            self.socket.sendto(packet.serialize(), call)
        sender.sequence = (sender.sequence + len(packets)) & 0xFFFF
        sender.skip(8 * 60)

    def speak(self, call: tuple[str, int] = CALL_ADDRESS) -> None:
        """One 20 ms frame of silence, as a phone sends all the time."""
        self.socket.sendto(self.sender.packet(g711.PCMU, g711.encode(g711.PCMU, g711.SILENCE_FRAME), 160), call)

    def listen(self, now: float) -> None:
        for data, _ in self.socket.receive():
            self.heard.append((now, RtpPacket.parse(data)))

    def levels(self) -> list[int]:
        """The level of each frame heard (0: silence), in order."""
        return [abs(int.from_bytes(g711.decode(p.payload_type, p.payload)[:2], "little", signed=True))
                for _, p in self.heard]

    def frames_of(self, text: str) -> int:
        """How many 20 ms frames of the prompt saying `text` were heard."""
        encoded = g711.encode(g711.PCMU, prompt_level(text).to_bytes(2, "little", signed=True) * 160)
        return sum(1 for _, p in self.heard if p.payload == encoded)


class MemoryCall:
    """One `VoiceCall` to `campaign` from a `Phone`, answered and confirmed at time 0 (or left to the test:
    `confirm=False`). `offer=None` makes it an INVITE without SDP: the call offers, `confirm(answer)` answers."""

    def __init__(self, campaign: Campaign, tmp: Path, *, services: InMemoryServices | None = None,
                 offer: bytes | None | str = "phone", confirm: bool = True, prompt_seconds: float = 0.5,
                 rtp_timeout: float = 30.0) -> None:
        self.now = 0.0
        self.wire = Wire()
        self.phone = Phone(self.wire)
        self.dialog = MemoryDialog()
        self.recorder = MemoryRecorder()
        self.metrics = EngineMetrics()
        self.released: list[VoiceCall] = []
        self.services = services or InMemoryServices()
        self.env = CallEnvironment(
            recorder=self.recorder, metrics=self.metrics, services=self.services,
            prompts=lambda campaign: LevelPrompts(prompt_seconds), clock=lambda: self.now,
            released=self.released.append, recordings_dir=tmp / "recordings", rtp_timeout=rtp_timeout)
        self.sdp = CallSdp(CALL_ADDRESS[0], CALL_ADDRESS[1], session_id=7)
        if offer == "phone":
            offer = self.phone.offer()
        if offer is None:
            self.sdp.make_offer()
        else:
            self.sdp.answer(sdp.SessionDescription.parse(offer))
        codec_pt, dtmf_pt, remote = self.sdp.media
        self.call = VoiceCall(call_id="call-1", caller=normalize("+15550001"), number=campaign.voice_numbers[0],
                              dialog=self.dialog, sdp=self.sdp, rtp=MemorySocket(self.wire, CALL_ADDRESS),
                              media=MediaSession(codec_pt, dtmf_pt, remote=remote), campaign=campaign, version=None, env=self.env)
        self.call.begin()
        self.call.answered(self.now)
        if confirm:
            self.call.confirmed(b"", self.now)

    @property
    def session(self):
        assert self.call.conversation is not None
        return self.call.conversation.session

    async def run_until(self, moment: float) -> None:
        """Advance the clock to `moment`, a tick at a time, as the media clock drives the engine's calls."""
        while self.now + TICK <= moment + 1e-9:
            self.now = round(self.now + TICK, 6)
            self.call.send_frame(self.now, 0)
            self.call.on_tick(self.now)
            self.phone.listen(self.now)
            await asyncio.sleep(0)                      # effects (votes, webhooks) run as tasks

    async def run_for(self, seconds: float) -> None:
        await self.run_until(self.now + seconds)

    def press(self, keys: str) -> None:
        for key in keys:
            self.phone.press(key)

    @property
    def ended(self) -> dict | None:
        return self.recorder.ended.get("call-1")
