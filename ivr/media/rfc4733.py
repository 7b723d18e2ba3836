"""RFC 4733 telephone-events: keys from RTP, one per press, and the packets a sender emits.

An event is identified by its SSRC and RTP timestamp: all its packets (updates with a growing
duration, then the end packet, usually sent three times) carry the same ones. The receiver reports
each event once: on its first end packet, or, when every end packet was lost, from `poll` once
`end_timeout` passed after its last packet, or as soon as a later event of the same stream begins.
An event whose start was lost still counts when its end arrives. Reported events are remembered (the
last `MEMORY` of them), and packets more than `stale_after` seconds of RTP time older than the newest
event of their stream are dropped, so late duplicates are never reported twice.
Events over 8 s, which RFC 4733 splits into segments, would count once per segment.
"""

from __future__ import annotations

import struct
from collections import OrderedDict
from dataclasses import dataclass

from .rtp import RtpPacket, timestamp_after

EVENT_KEYS = "0123456789*#ABCD"                  # events 0-15; others (tones, line events) are ignored
PAYLOAD = struct.Struct("!BBH")
END = 0x80
MEMORY = 256


class TelephoneEventError(ValueError):
    """A key or a field that cannot be sent as a telephone-event."""


@dataclass(frozen=True)
class TelephoneEvent:
    """A key press: the digit, how long it was held and when its last packet came."""

    digit: str
    duration_ms: int
    last_packet_at: float


@dataclass
class _Pending:
    code: int
    duration: int
    last_seen: float


class TelephoneEventReceiver:
    """Sans-I/O: fed telephone-event packets and the time, returns one `TelephoneEvent` per key press."""

    def __init__(self, clock_rate: int = 8000, end_timeout: float = 0.25, stale_after: float = 10.0) -> None:
        self.clock_rate = clock_rate
        self.end_timeout = end_timeout
        self.stale_samples = int(stale_after * clock_rate)
        self.ignored = 0                         # malformed, stale, or not a key
        self._pending: dict[tuple[int, int], _Pending] = {}
        self._reported: OrderedDict[tuple[int, int], None] = OrderedDict()
        self._newest: dict[int, int] = {}        # SSRC → newest event timestamp

    @property
    def active_digits(self) -> set[str]:
        """Keys held down right now (started, not yet ended or timed out)."""
        return {EVENT_KEYS[p.code] for p in self._pending.values()}

    def receive(self, packet: RtpPacket, now: float) -> list[TelephoneEvent]:
        """Feed one telephone-event packet; returns the key presses it completes."""
        if len(packet.payload) < PAYLOAD.size:
            self.ignored += 1
            return []
        code, flags, duration = PAYLOAD.unpack_from(packet.payload)
        key = (packet.ssrc, packet.timestamp)
        newest = self._newest.get(packet.ssrc)
        if code >= len(EVENT_KEYS) or (
                newest is not None and (newest - packet.timestamp) & 0xFFFFFFFF > self.stale_samples
                and timestamp_after(newest, packet.timestamp)):
            self.ignored += 1
            return []
        if key in self._reported:
            return []
        out: list[TelephoneEvent] = []
        if newest is None or timestamp_after(packet.timestamp, newest):
            self._newest[packet.ssrc] = packet.timestamp
            # a later event began: earlier ones of this stream whose ends were lost are over
            out += [self._report(k, p) for k, p in list(self._pending.items())
                    if k[0] == packet.ssrc and timestamp_after(packet.timestamp, k[1])]
        pending = self._pending.setdefault(key, _Pending(code, duration, now))
        pending.duration = max(pending.duration, duration)
        pending.last_seen = now
        if flags & END:
            out.append(self._report(key, pending))
        return out

    def poll(self, now: float) -> list[TelephoneEvent]:
        """Key presses whose end packets never came, `end_timeout` after their last packet."""
        if not self._pending:
            return []
        return [self._report(key, p) for key, p in list(self._pending.items())
                if now - p.last_seen >= self.end_timeout]

    def _report(self, key: tuple[int, int], pending: _Pending) -> TelephoneEvent:
        del self._pending[key]
        self._reported[key] = None
        if len(self._reported) > MEMORY:
            self._reported.popitem(last=False)
        return TelephoneEvent(EVENT_KEYS[pending.code], pending.duration * 1000 // self.clock_rate,
                              pending.last_seen)


def telephone_event_packets(digit: str, *, payload_type: int, ssrc: int, sequence: int, timestamp: int,
                            duration_ms: int = 100, ptime_ms: int = 20, volume: int = 10, end_repeats: int = 3,
                            clock_rate: int = 8000) -> list[RtpPacket]:
    """The packets a sender emits for one key press held `duration_ms`: an update every `ptime_ms`
    with the duration so far (the first with the marker bit), then the end packet `end_repeats` times.
    All share `timestamp`; sequence numbers count up from `sequence` and wrap."""
    if len(digit) != 1 or digit.upper() not in EVENT_KEYS:
        raise TelephoneEventError(f"{digit!r} is not a key (0-9, *, #, A-D)")
    if not 0 <= volume <= 63:
        raise TelephoneEventError(f"volume {volume} outside 0-63 (-dBm0)")
    code = EVENT_KEYS.index(digit.upper())
    step = clock_rate * ptime_ms // 1000
    total = clock_rate * duration_ms // 1000
    if not 0 < total <= 0xFFFF or step <= 0:
        raise TelephoneEventError(f"duration {duration_ms} ms does not fit one event")
    payloads = [PAYLOAD.pack(code, volume, d) for d in range(step, total, step)]
    payloads += [PAYLOAD.pack(code, END | volume, total)] * end_repeats
    return [RtpPacket(payload_type, (sequence + i) & 0xFFFF, timestamp, ssrc, payload, marker=(i == 0))
            for i, payload in enumerate(payloads)]
