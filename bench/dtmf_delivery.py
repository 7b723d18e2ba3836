"""Keys over a lossy network: RFC 4733 digits sent with seeded random loss and duplication.

SIPp places the calls (bench/sipp/uac_keys.xml); each call's SDP names one of our UDP ports. When the
engine's prompt arrives there we know the engine's RTP address, and send from that port what a phone
sends: 20 ms PCMU silence, and for each key 100 ms of telephone-event updates and three end packets.
Every packet, audio or event, is dropped with probability `loss` and otherwise sent twice with
probability `duplicate`. The last key is # (the campaign's finish key).
"""

from __future__ import annotations

import asyncio
import random
import secrets
import struct
from dataclasses import dataclass, field
from typing import cast

from ivr.media.rfc4733 import telephone_event_packets

PTIME = 0.020
SILENCE = b"\xff" * 160
TELEPHONE_EVENT = 101
KEYS = "0123456789*"


@dataclass
class KeyedCall:
    """One call's keys and what happened to its packets."""

    digits: str
    sent: int = 0
    dropped: int = 0
    duplicated: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)


class _Phone(asyncio.DatagramProtocol):
    """One call's RTP port: waits for the engine's first packet, then keys in the digits."""

    def __init__(self, call: KeyedCall, rng: random.Random, loss: float, duplicate: float) -> None:
        self.call = call
        self.rng = rng
        self.loss = loss
        self.duplicate = duplicate
        self.transport: asyncio.DatagramTransport | None = None
        self.started = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        if not self.started:
            self.started = True
            asyncio.ensure_future(self._key_in((addr[0], addr[1])))

    async def _key_in(self, engine: tuple[str, int]) -> None:
        ssrc, sequence, timestamp = secrets.randbits(32), secrets.randbits(16), secrets.randbits(32)
        schedule: list[bytes] = []
        for digit in ("",) * 25 + tuple(self.call.digits + "#"):   # 0.5 s of silence first
            for _ in range(5):                                       # 100 ms between keys
                schedule.append(struct.pack("!BBHII", 0x80, 0, sequence, timestamp, ssrc) + SILENCE)
                sequence, timestamp = (sequence + 1) & 0xFFFF, (timestamp + 160) & 0xFFFFFFFF
            if not digit:
                continue
            packets = telephone_event_packets(digit, payload_type=TELEPHONE_EVENT, ssrc=ssrc, sequence=sequence,
                                              timestamp=timestamp, duration_ms=100)
            schedule += [p.serialize() for p in packets]
            sequence = (sequence + len(packets)) & 0xFFFF
            timestamp = (timestamp + 800) & 0xFFFFFFFF
        loop = asyncio.get_running_loop()
        start = loop.time()
        for n, packet in enumerate(schedule):
            await asyncio.sleep(max(0.0, start + n * PTIME - loop.time()))
            draw = self.rng.random()
            if draw < self.loss:
                self.call.dropped += 1
                continue
            copies = 2 if draw < self.loss + self.duplicate else 1
            self.call.duplicated += copies - 1
            for _ in range(copies):
                assert self.transport is not None
                self.transport.sendto(packet, engine)
                self.call.sent += 1
        self.call.done.set()


async def open_phones(count: int, digits: int, loss: float, duplicate: float, seed: int
                      ) -> tuple[list[KeyedCall], list[int], list[asyncio.DatagramTransport]]:
    """`count` RTP ports on loopback, each with its own seeded random keys; returns the calls, the ports
    (in SIPp's injection order) and the transports to close."""
    loop = asyncio.get_running_loop()
    calls, ports, transports = [], [], []
    for n in range(count):
        rng = random.Random(seed * 1_000_003 + n)
        call = KeyedCall("".join(rng.choice(KEYS) for _ in range(digits)))
        transport, _ = await loop.create_datagram_endpoint(lambda: _Phone(call, rng, loss, duplicate),
                                                           local_addr=("127.0.0.1", 0))
        calls.append(call)
        ports.append(transport.get_extra_info("sockname")[1])
        transports.append(transport)
    return calls, ports, transports
