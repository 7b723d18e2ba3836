"""The media path under attack, against a real `ivr serve` on loopback: live calls wait at the vote while
attackers on other loopback addresses spray RFC 4733 keys (and audio) over the node's whole RTP range.
No key reaches a call, no attacker hears a call's audio, the drops are counted in /metrics, and the
callers' own keys still count. Each call's SDP answer has its own o= session id (RFC 4566)."""

from __future__ import annotations

import asyncio
import random
import socket
import threading
import time
from pathlib import Path

import pytest

from ivr.media import g711
from ivr.media.rfc4733 import telephone_event_packets
from ivr.media.rtp import RtpPacket
from tests.support.caller import Caller

from .conftest import start_engine, stored_outcomes

pytestmark = pytest.mark.integration

ATTACKERS = ("127.0.0.21", "127.0.0.22", "127.0.0.23", "127.0.0.24")


class Spray(threading.Thread):
    """From each attacker address, RFC 4733 presses of "5" (new SSRC each) and a PCMU frame to every port
    of `ports`, `rounds` times; counts every datagram that comes back to the attackers."""

    def __init__(self, ports: range, rounds: int = 3) -> None:
        super().__init__(daemon=True)
        self.ports, self.rounds = ports, rounds
        self.sent = 0
        self.received = 0
        self.socks = []
        for host in ATTACKERS:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((host, 0))
            sock.setblocking(False)
            self.socks.append(sock)

    def run(self) -> None:
        rng = random.Random(4733)
        silence = g711.encode(g711.PCMU, g711.SILENCE_FRAME)
        for _ in range(self.rounds):
            for port in self.ports:
                for sock in self.socks:
                    ssrc, seq, ts = rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(32)
                    packets = [p.serialize() for p in telephone_event_packets("5", payload_type=101, ssrc=ssrc,
                                                                              sequence=seq, timestamp=ts)]
                    packets.append(RtpPacket(g711.PCMU, (seq + 20) & 0xFFFF, ts, ssrc, silence).serialize())
                    for data in packets:
                        try:
                            sock.sendto(data, ("127.0.0.1", port))
                            self.sent += 1
                        except OSError:
                            pass
                self._drain()
        time.sleep(0.5)
        self._drain()

    def _drain(self) -> None:
        for sock in self.socks:
            while True:
                try:
                    sock.recv(4096)
                except (BlockingIOError, InterruptedError):
                    break
                self.received += 1

    def close(self) -> None:
        for sock in self.socks:
            sock.close()


def test_a_key_spray_over_the_rtp_range_reaches_no_call_and_hears_nothing(tmp_path: Path) -> None:
    engine = start_engine(tmp_path)
    rtp_low = 20000 + (engine.sip_port % 100) * 400            # the range start_engine gives the node
    try:
        spray, callers = asyncio.run(_attack(engine, range(rtp_low, rtp_low + 399)))
        metrics = engine.metrics()
        records = {r["from"]: r for r in engine.call_records() if r["event"] == "call_ended"}
    finally:
        engine.stop()
    assert spray.sent > 20_000 and spray.received == 0          # not one packet of any call's audio
    assert {caller: records[caller]["digits"] for caller in callers} == {
        "+380501112201": "", "+380501112202": "", "+380501112203": "", "+380501112200": "2"}
    assert stored_outcomes(engine) == [("+380501112200", "vote", "talent", "boris")]
    assert metrics['ivr_rtp_packets_dropped_total{reason="source"}'] >= 4 * 7    # at least the presses at calls


async def _attack(engine, ports: range) -> tuple[Spray, list[str]]:
    callers = [Caller(("127.0.0.1", engine.sip_port), "3838", caller_id=f"+38050111220{n}") for n in range(4)]
    try:
        for caller in callers:
            await caller.dial()
        origins = {caller.engine_sdp.origin.split()[1] for caller in callers}
        assert len(origins) == 4, origins                       # o= session id: one per session
        await asyncio.sleep(1.0)                                # the welcome plays, the ask listens
        spray = Spray(ports)
        spray.start()
        while spray.is_alive():
            await asyncio.sleep(0.1)
        spray.close()
        voter = callers[0]
        await voter.press("2")                                  # the caller's own key still counts
        await voter.wait_hangup(20)
        for caller in callers[1:]:
            await caller.hang_up()
        await asyncio.sleep(0.5)
        return spray, [caller.caller_id for caller in callers]
    finally:
        for caller in callers:
            caller.close()
