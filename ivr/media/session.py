"""A call's media, sans-I/O: RTP in (audio, RFC 4733 keys, in-band keys), RTP out (prompts or silence).

The call layer owns one `MediaSession` per call and drives it:

- every datagram from the call's RTP socket: `events = session.receive(data, addr, now)`;
- every media clock tick (20 ms): `packet = session.on_tick(now)`, sent to `session.remote_addr` when
  not None, then `session.poll(now)` for playback events and keys whose end packets were lost.

Symmetric RTP with a latch (`latch.SourceLatch`): only the caller's stream is taken (the SDP address, or
the source learned behind NAT); packets from elsewhere are dropped and counted before they reach the
key detectors, and our audio goes to the latched source (the SDP address until one is latched), never
to whoever sent a stray packet. Keys: RFC 4733 events and, optionally, tones in the audio; an RFC 4733 key is announced on
its first packet (`KeyDown`, for barge-in) and reported when it ends; a press that arrives both ways
is reported once (the in-band copy is dropped while the same key is held by RFC 4733 or just ended,
the RFC 4733 copy when the tone was already reported in-band during that press). Lost audio packets
are not concealed: the detector hears the frames that came, back to back.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Callable, Literal

from . import g711
from .goertzel import DtmfDetector
from .latch import DropCounts, SourceLatch, Verdict
from .player import PlaybackFinished, PlaybackStarted, Player
from .rfc4733 import TelephoneEvent, TelephoneEventReceiver
from .rtp import RtpError, RtpPacket, RtpSender

__all__ = ["DtmfDigit", "KeyDown", "MediaEvent", "MediaSession", "MediaSessionError", "MediaStats",
           "PlaybackFinished", "PlaybackStarted"]

SAME_PRESS = 0.12            # s: an in-band tone this soon after the RFC 4733 end is the same press
CLOCK_MS = 20                # the media clock's tick


class MediaSessionError(ValueError):
    """A codec or packetisation time the session cannot handle."""


@dataclass(frozen=True)
class DtmfDigit:
    """A key the caller pressed. In-band keys are reported as soon as recognised: duration 0."""

    digit: str
    source: Literal["rfc4733", "inband"]
    duration_ms: int


@dataclass(frozen=True)
class KeyDown:
    """An RFC 4733 key began (its first packet): a prompt may stop now; the `DtmfDigit` follows when it ends."""

    digit: str


MediaEvent = DtmfDigit | KeyDown | PlaybackStarted | PlaybackFinished


@dataclass
class MediaStats:
    packets_received: int = 0    # valid RTP of our codec or telephone-event type
    bytes_received: int = 0      # their payload octets
    packets_sent: int = 0
    bytes_sent: int = 0
    bad_packets: int = 0         # not RTP
    dropped: int = 0             # valid RTP from another source or stream than the call's (see `latch`)
    other_payload: int = 0       # RTP of a payload type not negotiated (comfort noise, ...)
    duplicate_digits: int = 0    # one press heard both in-band and by RFC 4733, reported once


class MediaSession:
    """RTP for one call with the negotiated codec (0 = PCMU, 8 = PCMA) and telephone-event type."""

    def __init__(self, codec_pt: int, dtmf_pt: int | None, ptime: int = 20,
                 remote: tuple[str, int] | None = None, inband_dtmf: bool = True,
                 audio_sink: Callable[[bytes], None] | None = None, dtmf_end_timeout: float = 0.25,
                 signalling_host: str | None = None, drops: DropCounts | None = None) -> None:
        _check_codec(codec_pt)
        if ptime <= 0 or ptime % CLOCK_MS:
            raise MediaSessionError(f"ptime {ptime} ms is not a multiple of the {CLOCK_MS} ms clock")
        self.codec_pt = codec_pt
        self.dtmf_pt = dtmf_pt
        self.ptime = ptime
        self.latch = SourceLatch(remote, signalling_host, drops=drops)
        self.audio_sink = audio_sink          # gets the decoded linear PCM of each audio packet received
        self.on_hold = False
        self.last_received: float | None = None
        self.stats = MediaStats()
        self.player = Player()
        self.sender = RtpSender()
        self.telephone_events = TelephoneEventReceiver(end_timeout=dtmf_end_timeout)
        self.detector = DtmfDetector() if inband_dtmf else None
        self._frames: list[bytes] = []
        self._frames_talking = False
        self._last_sent: Literal["audio", "silence"] | None = None   # None: nothing sent since start/hold
        self._inband_recent: deque[tuple[str, float]] = deque(maxlen=8)
        self._rfc4733_recent: deque[tuple[str, float]] = deque(maxlen=8)

    # -- receive ----------------------------------------------------------------------------------

    def receive(self, datagram: bytes, source: tuple[str, int], now: float) -> list[MediaEvent]:
        """Feed a datagram from the RTP socket; returns the keys it begins and completes."""
        try:
            packet = RtpPacket.parse(datagram)
        except RtpError:
            self.stats.bad_packets += 1
            return []
        if self.latch.check(source, packet.ssrc, packet.sequence, now) is not Verdict.ACCEPT:
            self.stats.dropped += 1
            return []
        if packet.payload_type == self.dtmf_pt:
            self._accept(packet, now)
            held = self.telephone_events.active_digits
            digits = self._rfc4733_digits(self.telephone_events.receive(packet, now), now)
            return [KeyDown(d) for d in sorted(self.telephone_events.active_digits - held)] + digits
        if packet.payload_type != self.codec_pt:
            self.stats.other_payload += 1
            return []
        self._accept(packet, now)
        pcm = g711.decode(self.codec_pt, packet.payload)
        if self.audio_sink is not None:
            self.audio_sink(pcm)
        if self.detector is None:
            return []
        return self._inband_digits(self.detector.feed(pcm), now)

    def _accept(self, packet: RtpPacket, now: float) -> None:
        self.stats.packets_received += 1
        self.stats.bytes_received += len(packet.payload)
        self.last_received = now

    @property
    def remote_addr(self) -> tuple[str, int] | None:
        """Where our RTP goes: the latched source, else the SDP address (None: nowhere yet)."""
        return self.latch.send_to

    def _inband_digits(self, digits: list[str], now: float) -> list[MediaEvent]:
        out: list[MediaEvent] = []
        for digit in digits:
            if digit in self.telephone_events.active_digits or any(
                    d == digit and now - at <= SAME_PRESS for d, at in self._rfc4733_recent):
                self.stats.duplicate_digits += 1
                continue
            self._inband_recent.append((digit, now))
            out.append(DtmfDigit(digit, "inband", 0))
        return out

    def _rfc4733_digits(self, events: list[TelephoneEvent], now: float) -> list[MediaEvent]:
        out: list[MediaEvent] = []
        for event in events:
            pressed = event.last_packet_at - event.duration_ms / 1000 - SAME_PRESS
            heard = next((item for item in self._inband_recent if item[0] == event.digit and item[1] >= pressed),
                         None)
            if heard is not None:
                self._inband_recent.remove(heard)
                self.stats.duplicate_digits += 1
                continue
            self._rfc4733_recent.append((event.digit, now))
            out.append(DtmfDigit(event.digit, "rfc4733", event.duration_ms))
        return out

    # -- send -------------------------------------------------------------------------------------

    def on_tick(self, now: float) -> bytes | None:
        """The RTP packet to send this tick: prompt audio or silence in the codec. None on ticks that
        only collect a frame (ptime > 20 ms), on hold, or while there is no remote address. On hold the
        prompt stays where it is (the caller hears it from there after the hold); otherwise time runs on
        without an address. The RTP timestamp runs on in both cases."""
        if self.on_hold:
            self.sender.skip(g711.FRAME_SAMPLES)
            self._last_sent = None
            return None
        talking = self.player.playing
        pcm = self.player.next_frame()
        if self.ptime > CLOCK_MS:                          # gather the frames of one packet
            self._frames_talking |= talking
            self._frames.append(pcm)
            if len(self._frames) * CLOCK_MS < self.ptime:
                return None
            pcm, talking = b"".join(self._frames), self._frames_talking
            self._frames, self._frames_talking = [], False
        samples = len(pcm) // 2
        if self.on_hold or self.remote_addr is None:
            self.sender.skip(samples)
            self._last_sent = None
            return None
        marker = self._last_sent is None or (talking and self._last_sent == "silence")
        self._last_sent = "audio" if talking else "silence"
        payload = g711.encode(self.codec_pt, pcm)
        self.stats.packets_sent += 1
        self.stats.bytes_sent += len(payload)
        return self.sender.packet(self.codec_pt, payload, samples, marker=marker)

    def poll(self, now: float) -> list[MediaEvent]:
        """Playback events since the last call, then keys whose end packets never came."""
        events: list[MediaEvent] = list(self.player.drain_events())
        ended = self.telephone_events.poll(now)
        return events + self._rfc4733_digits(ended, now) if ended else events

    # -- control ----------------------------------------------------------------------------------

    def play(self, prompt_id: str, pcm: bytes, barge_in: bool = True) -> None:
        """Queue 16-bit linear 8 kHz mono audio after what is already playing; `barge_in=False`: a key
        does not stop it."""
        self.player.play(prompt_id, pcm, barge_in)

    def barge_in(self) -> bool:
        """A key: unless a must-hear prompt plays, the prompts up to the next must-hear one stop from the
        next tick on (reported by `poll`); whether anything stopped."""
        return self.player.barge_in()

    @property
    def playing(self) -> bool:
        return self.player.playing

    @property
    def interruptible(self) -> bool:
        """Whether a prompt plays that the caller may stop (not a must-hear one)."""
        return self.player.interruptible

    def skip_ticks(self, ticks: int) -> None:
        """The media clock dropped `ticks` ticks (it fell too far behind): the RTP timestamp jumps over
        them, so the peer hears a gap in time instead of the stream running slow; the prompt resumes
        where it was, nothing of it is lost."""
        self.sender.skip(ticks * g711.FRAME_SAMPLES)

    def set_hold(self, hold: bool) -> None:
        """On hold (the caller's SDP is sendonly/inactive) we send nothing and the prompt pauses; the
        marker bit is set again on the first packet after."""
        self.on_hold = hold

    def update_remote(self, codec_pt: int, dtmf_pt: int | None, remote: tuple[str, int] | None) -> None:
        """A re-INVITE's outcome: codec, telephone-event type and SDP address (None: do not send).
        A changed SDP address is learned again (`SourceLatch.renegotiate`)."""
        _check_codec(codec_pt)
        self.codec_pt = codec_pt
        self.dtmf_pt = dtmf_pt
        self.latch.renegotiate(remote)


def _check_codec(codec_pt: int) -> None:
    if codec_pt not in g711.CODEC_NAMES:
        raise MediaSessionError(f"payload type {codec_pt} is not G.711 (0 or 8)")
