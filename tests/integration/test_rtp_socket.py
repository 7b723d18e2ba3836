"""A call's RTP socket on loopback, read the way the media clock reads it: all that waits, once a tick."""

from __future__ import annotations

import socket
import time

import pytest

from ivr.engine.rtp_socket import RECEIVE_BATCH, RtpSocket

from .conftest import free_port

pytestmark = pytest.mark.integration


def next_tick(rtp: RtpSocket) -> list[tuple[bytes, tuple[str, int]]]:
    """What the next tick reads, 50 ms on (loopback delivers at once)."""
    time.sleep(0.05)
    return rtp.receive()


def test_a_tick_reads_every_waiting_datagram_in_order_with_its_source() -> None:
    rtp = RtpSocket("127.0.0.1", free_port(udp_and_tcp=False))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as phone:
        phone.bind(("127.0.0.1", 0))
        assert rtp.receive() == []                                   # nothing waiting: no wait, no error
        for n in range(3):
            phone.sendto(bytes([n]) * 172, ("127.0.0.1", rtp.port))
        got = next_tick(rtp)
        assert [data[0] for data, _ in got] == [0, 1, 2]
        assert {source for _, source in got} == {phone.getsockname()}
        rtp.sendto(b"back", phone.getsockname())
        assert phone.recv(16) == b"back"
    rtp.close()
    rtp.close()                                                      # twice is harmless
    assert rtp.closed


def test_a_flood_is_read_in_bounded_batches() -> None:
    rtp = RtpSocket("127.0.0.1", free_port(udp_and_tcp=False))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as flood:
        for _ in range(RECEIVE_BATCH + 10):
            flood.sendto(b"x" * 172, ("127.0.0.1", rtp.port))
        assert len(next_tick(rtp)) == RECEIVE_BATCH
        assert len(rtp.receive()) == 10
    rtp.close()
