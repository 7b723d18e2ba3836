"""RTP packets (RFC 3550): parse and build, and the state of the stream we send."""

from __future__ import annotations

import secrets
import struct
from typing import NamedTuple

VERSION = 2
HEADER = struct.Struct("!BBHII")


class RtpError(ValueError):
    """Not a valid RTP packet, or a header field out of range."""


class RtpPacket(NamedTuple):
    """One RTP packet. `extension` is the header extension as (profile, data); padding is not kept.
    A named tuple rather than a frozen dataclass: one is parsed for every datagram a call receives,
    and a tuple is built several times faster."""

    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes
    marker: bool = False
    csrcs: tuple[int, ...] = ()
    extension: tuple[int, bytes] | None = None

    @classmethod
    def parse(cls, data: bytes) -> "RtpPacket":
        """Decode a datagram; raises RtpError when it is not version 2 RTP or its lengths do not add up."""
        if len(data) < HEADER.size:
            raise RtpError(f"{len(data)} bytes is shorter than an RTP header")
        b0, b1, sequence, timestamp, ssrc = HEADER.unpack_from(data)
        if b0 >> 6 != VERSION:
            raise RtpError(f"RTP version {b0 >> 6}, expected 2")
        count = b0 & 0x0F
        offset = HEADER.size + 4 * count
        end = len(data)
        if b0 & 0x20:
            padding = data[-1]
            if padding == 0 or padding > end - offset:
                raise RtpError(f"padding of {padding} bytes does not fit")
            end -= padding
        if offset > end:
            raise RtpError("CSRC list longer than the packet")
        csrcs = struct.unpack_from(f"!{count}I", data, HEADER.size) if count else ()
        extension = None
        if b0 & 0x10:
            if offset + 4 > end:
                raise RtpError("header extension longer than the packet")
            profile, words = struct.unpack_from("!HH", data, offset)
            start, offset = offset + 4, offset + 4 + 4 * words
            if offset > end:
                raise RtpError("header extension longer than the packet")
            extension = (profile, bytes(data[start:offset]))
        return cls(b1 & 0x7F, sequence, timestamp, ssrc, bytes(data[offset:end]), bool(b1 & 0x80), csrcs,
                   extension)

    def serialize(self) -> bytes:
        """Encode; raises RtpError for fields out of range."""
        if not 0 <= self.payload_type <= 127:
            raise RtpError(f"payload type {self.payload_type} out of range")
        if len(self.csrcs) > 15:
            raise RtpError(f"{len(self.csrcs)} CSRCs, at most 15")
        if self.extension is not None and len(self.extension[1]) % 4:
            raise RtpError("header extension data must be a whole number of 32-bit words")
        b0 = VERSION << 6 | (0x10 if self.extension is not None else 0) | len(self.csrcs)
        b1 = (0x80 if self.marker else 0) | self.payload_type
        try:
            head = HEADER.pack(b0, b1, self.sequence, self.timestamp, self.ssrc)
            head += struct.pack(f"!{len(self.csrcs)}I", *self.csrcs)
            if self.extension is not None:
                profile, data = self.extension
                head += struct.pack("!HH", profile, len(data) // 4) + data
        except struct.error as exc:
            raise RtpError(f"header field out of range: {exc}") from None
        return head + self.payload


def timestamp_after(a: int, b: int) -> bool:
    """Whether RTP timestamp `a` is later than `b`, across the 32-bit wrap-around."""
    return 0 < (a - b) & 0xFFFFFFFF < 0x80000000


class RtpSender:
    """Our outgoing stream: random initial sequence number, timestamp and SSRC (RFC 3550 5.1, 8.1)."""

    def __init__(self) -> None:
        self.ssrc = secrets.randbits(32)
        self.sequence = secrets.randbits(16)
        self.timestamp = secrets.randbits(32)
        self.packets = 0
        self.octets = 0

    def packet(self, payload_type: int, payload: bytes, samples: int, marker: bool = False) -> bytes:
        """The next packet, stamped with the current timestamp, which then advances by `samples`.
        Built straight from the header format (no CSRCs, no extension): this runs for every frame sent."""
        if not 0 <= payload_type <= 127:
            raise RtpError(f"payload type {payload_type} out of range")
        data = HEADER.pack(VERSION << 6, (0x80 if marker else 0) | payload_type, self.sequence, self.timestamp,
                           self.ssrc) + payload
        self.sequence = (self.sequence + 1) & 0xFFFF
        self.skip(samples)
        self.packets += 1
        self.octets += len(payload)
        return data

    def skip(self, samples: int) -> None:
        """Let `samples` of time pass without sending (hold): the timestamp keeps following the clock."""
        self.timestamp = (self.timestamp + samples) & 0xFFFFFFFF
