"""A call's RTP socket: a non-blocking UDP socket that the media clock reads and writes on its tick.

No reader is registered with the event loop: every 20 ms the clock sends each call's frame and then
drains each call's socket, so a thousand calls cost one timer wake-up per tick instead of a thousand
readiness callbacks. Keys and audio wait at most one tick in the kernel's buffer.
"""

from __future__ import annotations

import socket

MAX_DATAGRAM = 2048
RECEIVE_BATCH = 64           # datagrams read per tick at most: one flooding peer cannot stall the clock


class RtpSocket:
    """Bound to one even port from the allocator."""

    def __init__(self, host: str, port: int) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            self.sock.bind((host, port))
        except OSError:
            self.sock.close()
            raise
        self.sock.setblocking(False)
        self.port = port
        self.closed = False

    def receive(self) -> list[tuple[bytes, tuple[str, int]]]:
        """The datagrams waiting in the socket (up to RECEIVE_BATCH), oldest first, with their source."""
        received: list[tuple[bytes, tuple[str, int]]] = []
        recvfrom = self.sock.recvfrom
        for _ in range(RECEIVE_BATCH):
            try:
                data, addr = recvfrom(MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                break                      # ICMP port unreachable and the like
            received.append((data, (addr[0], addr[1])))
        return received

    def sendto(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            self.sock.sendto(data, addr)
        except (BlockingIOError, InterruptedError, OSError):
            pass                           # UDP: a lost frame is a lost frame

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.sock.close()
