"""RFC 4733 telephone-events: receiving keys from RTP, and building the packets a sender emits.

An event is identified by its SSRC and RTP timestamp; all its packets (updates with growing
duration, then the end packet, usually three times) share them. The receiver reports each event
once: on its first end packet, or, when every end packet was lost, `end_timeout` after the last
packet seen (from `poll`). Late duplicates of reported events are ignored.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .rtp import RtpPacket

EVENT_KEYS = "0123456789*#ABCD"


@dataclass
class TelephoneEvent:
    """A key the caller pressed."""

    digit: str
    duration_ms: int


@dataclass
class _Pending:
    code: int
    duration: int
    last_seen: float


class TelephoneEventReceiver:
    """Turns telephone-event RTP packets into one `TelephoneEvent` per key press."""

    def __init__(self, clock_rate: int = 8000, end_timeout: float = 0.25, memory: float = 10.0) -> None:
        self.clock_rate = clock_rate
        self.end_timeout = end_timeout
        self.memory = memory
        self._pending: dict[tuple[int, int], _Pending] = {}
        self._reported: dict[tuple[int, int], float] = {}
        self.ignored = 0

    def receive(self, packet: RtpPacket, now: float) -> list[TelephoneEvent]:
        payload = packet.payload
        if len(payload) < 4:
            self.ignored += 1
            return []
        code, flags, duration = struct.unpack_from("!BBH", payload)
        if code >= len(EVENT_KEYS):
            self.ignored += 1
            return []
        key = (packet.ssrc, packet.timestamp)
        if key in self._reported:
            return []
        out: list[TelephoneEvent] = []
        # A newer event started while an older one never ended: the older one's end was lost.
        for other, pending in list(self._pending.items()):
            if other != key and other[0] == packet.ssrc and _newer(packet.timestamp, other[1]):
                out.append(self._report(other, pending, now))
        if flags & 0x80:
            pending = self._pending.pop(key, None) or _Pending(code, duration, now)
            pending.duration = max(pending.duration, duration)
            out.append(self._report(key, pending, now))
        else:
            pending = self._pending.setdefault(key, _Pending(code, duration, now))
            pending.duration = max(pending.duration, duration)
            pending.last_seen = now
        return out

    def poll(self, now: float) -> list[TelephoneEvent]:
        """Report events whose end packets were all lost; forget old events."""
        out = [self._report(key, p, now) for key, p in list(self._pending.items())
               if now - p.last_seen >= self.end_timeout]
        if self._reported:
            for key, at in list(self._reported.items()):
                if now - at > self.memory:
                    del self._reported[key]
        return out

    def _report(self, key: tuple[int, int], pending: _Pending, now: float) -> TelephoneEvent:
        self._pending.pop(key, None)
        self._reported[key] = now
        return TelephoneEvent(EVENT_KEYS[pending.code], pending.duration * 1000 // self.clock_rate)


def _newer(a: int, b: int) -> bool:
    """RTP timestamp `a` is after `b` (modulo 2^32)."""
    return 0 < ((a - b) & 0xFFFFFFFF) < 0x80000000


def telephone_event_payloads(digit: str, duration_ms: int = 100, ptime_ms: int = 20, volume: int = 10,
                             clock_rate: int = 8000, end_repeats: int = 3) -> list[bytes]:
    """The payloads a sender emits for one key: growing-duration updates, then the end packet repeated."""
    code = EVENT_KEYS.index(digit.upper())
    step = clock_rate * ptime_ms // 1000
    total = clock_rate * duration_ms // 1000
    updates = [struct.pack("!BBH", code, volume, min(d, total)) for d in range(step, total, step)]
    end = struct.pack("!BBH", code, 0x80 | volume, total)
    return updates + [end] * end_repeats
