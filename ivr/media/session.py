"""A call's media, sans-I/O: RTP in (audio, RFC 4733 keys, in-band keys), RTP out (prompts or silence).

The engine feeds every datagram to `receive` and asks `on_tick` for the packet to send on each media
clock tick; `poll` reports keys whose end packets were lost and playback progress. Symmetric RTP:
packets go to where the caller's RTP comes from (NAT), falling back to the SDP address.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import g711
from .goertzel import DtmfDetector
from .player import PlaybackFinished, PlaybackStarted, Player
from .rfc4733 import TelephoneEvent, TelephoneEventReceiver
from .rtp import RtpError, RtpPacket, RtpSender


@dataclass
class DtmfDigit:
    """A key the caller pressed; `source` is rfc4733 or inband."""

    digit: str
    source: str
    duration_ms: int = 0


MediaEvent = DtmfDigit | PlaybackStarted | PlaybackFinished


@dataclass
class MediaStats:
    packets_received: int = 0
    packets_sent: int = 0
    bad_packets: int = 0
    other_payload: int = 0


class MediaSession:
    """RTP for one call with the negotiated codec (0 = PCMU, 8 = PCMA) and telephone-event type."""

    def __init__(self, codec_pt: int, dtmf_pt: int | None, ptime: int = 20,
                 remote: tuple[str, int] | None = None, inband_dtmf: bool = True,
                 audio_sink: Callable[[bytes], None] | None = None) -> None:
        self.codec_pt = codec_pt
        self.dtmf_pt = dtmf_pt
        self.samples = 8000 * ptime // 1000
        self.sdp_remote = remote
        self.remote_addr = remote
        self.player = Player()
        self.sender = RtpSender()
        self.events = TelephoneEventReceiver()
        self.detector = DtmfDetector() if inband_dtmf else None
        self.audio_sink = audio_sink
        self.on_hold = False
        self.last_received: float | None = None
        self.stats = MediaStats()
        self._talking = False
        self._seen_events = False
        self._pending: list[MediaEvent] = []

    # -- receive --------------------------------------------------------------------------------

    def receive(self, datagram: bytes, source: tuple[str, int], now: float) -> list[MediaEvent]:
        try:
            packet = RtpPacket.parse(datagram)
        except RtpError:
            self.stats.bad_packets += 1
            return []
        if packet.payload_type == self.dtmf_pt:
            self._latch(source, now)
            self._seen_events = True
            return [self._digit(e, "rfc4733") for e in self.events.receive(packet, now)]
        if packet.payload_type != self.codec_pt:
            self.stats.other_payload += 1
            return []
        self._latch(source, now)
        pcm = g711.decode(self.codec_pt, packet.payload)
        if self.audio_sink is not None:
            self.audio_sink(pcm)
        if self.detector is not None and not self._seen_events:
            return [DtmfDigit(d, "inband") for d in self.detector.feed(pcm)]
        return []

    def _latch(self, source: tuple[str, int], now: float) -> None:
        self.stats.packets_received += 1
        self.last_received = now
        self.remote_addr = source

    @staticmethod
    def _digit(event: TelephoneEvent, source: str) -> DtmfDigit:
        return DtmfDigit(event.digit, source, event.duration_ms)

    # -- send -----------------------------------------------------------------------------------

    def on_tick(self, now: float) -> bytes | None:
        """The packet to send this tick (a prompt frame or silence), or None on hold/no address."""
        frame = self.player.next_frame()
        self._pending.extend(self.player.drain_events())
        if self.on_hold or self.remote_addr is None:
            return None
        marker = frame is not None and not self._talking
        self._talking = frame is not None
        payload = g711.encode(self.codec_pt, frame or g711.SILENCE_FRAME)
        self.stats.packets_sent += 1
        return self.sender.packet(self.codec_pt, payload, self.samples, marker=marker)

    def poll(self, now: float) -> list[MediaEvent]:
        """Playback events since the last call, and keys whose end packets never came."""
        events, self._pending = self._pending, []
        events.extend(self._digit(e, "rfc4733") for e in self.events.poll(now))
        return events

    # -- control --------------------------------------------------------------------------------

    def play(self, prompt_id: str, pcm: bytes) -> None:
        self.player.play(prompt_id, pcm)

    def stop_playback(self) -> None:
        self.player.stop()
        self._pending.extend(self.player.drain_events())

    @property
    def playing(self) -> bool:
        return self.player.playing

    def set_hold(self, hold: bool) -> None:
        """On hold (the caller sent sendonly/inactive) we keep quiet."""
        self.on_hold = hold

    def update_remote(self, codec_pt: int, dtmf_pt: int | None, remote: tuple[str, int] | None) -> None:
        """A re-INVITE changed the codec, event type or address."""
        self.codec_pt = codec_pt
        self.dtmf_pt = dtmf_pt
        if remote != self.sdp_remote:
            self.sdp_remote = remote
            self.remote_addr = remote
