"""RTP packets (RFC 3550): parse and build, and the sending side's sequence/timestamp/SSRC state."""

from __future__ import annotations

import secrets
import struct
from dataclasses import dataclass, field


class RtpError(ValueError):
    """Not a valid RTP packet."""


@dataclass
class RtpPacket:
    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes
    marker: bool = False
    csrcs: list[int] = field(default_factory=list)

    @classmethod
    def parse(cls, data: bytes) -> "RtpPacket":
        if len(data) < 12:
            raise RtpError("shorter than an RTP header")
        b0, b1, seq, ts, ssrc = struct.unpack_from("!BBHII", data)
        if b0 >> 6 != 2:
            raise RtpError("not RTP version 2")
        offset = 12 + 4 * (b0 & 0x0F)
        if len(data) < offset:
            raise RtpError("truncated CSRC list")
        csrcs = list(struct.unpack_from(f"!{b0 & 0x0F}I", data, 12))
        if b0 & 0x10:                                   # header extension
            if len(data) < offset + 4:
                raise RtpError("truncated header extension")
            (words,) = struct.unpack_from("!H", data, offset + 2)
            offset += 4 + 4 * words
        end = len(data)
        if b0 & 0x20:                                   # padding
            pad = data[-1]
            if pad == 0 or offset + pad > end:
                raise RtpError("bad padding")
            end -= pad
        if offset > end:
            raise RtpError("header longer than packet")
        return cls(b1 & 0x7F, seq, ts, ssrc, bytes(data[offset:end]), bool(b1 & 0x80), csrcs)

    def serialize(self) -> bytes:
        head = struct.pack("!BBHII", 0x80 | len(self.csrcs), (0x80 if self.marker else 0) | self.payload_type,
                           self.sequence & 0xFFFF, self.timestamp & 0xFFFFFFFF, self.ssrc)
        return head + b"".join(struct.pack("!I", c) for c in self.csrcs) + self.payload


class RtpSender:
    """Our outgoing stream: random initial sequence, timestamp and SSRC (RFC 3550 5.1)."""

    def __init__(self) -> None:
        self.ssrc = secrets.randbits(32)
        self.sequence = secrets.randbits(16)
        self.timestamp = secrets.randbits(32)
        self.packets = 0
        self.octets = 0

    def packet(self, payload_type: int, payload: bytes, samples: int, marker: bool = False) -> bytes:
        """Build the next packet; the timestamp then advances by `samples`."""
        data = RtpPacket(payload_type, self.sequence, self.timestamp, self.ssrc, payload, marker).serialize()
        self.sequence = (self.sequence + 1) & 0xFFFF
        self.timestamp = (self.timestamp + samples) & 0xFFFFFFFF
        self.packets += 1
        self.octets += len(payload)
        return data
