"""A call's RTP socket: a non-blocking UDP socket watched by the event loop (no task per call)."""

from __future__ import annotations

import asyncio
import socket
from typing import Callable


class RtpSocket:
    """Bound to one even port from the allocator; hands every datagram to `on_datagram`."""

    def __init__(self, host: str, port: int, on_datagram: Callable[[bytes, tuple[str, int]], None],
                 loop: asyncio.AbstractEventLoop) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            self.sock.bind((host, port))
        except OSError:
            self.sock.close()
            raise
        self.sock.setblocking(False)
        self.port = port
        self._loop = loop
        self._on_datagram = on_datagram
        loop.add_reader(self.sock.fileno(), self._readable)
        self.closed = False

    def _readable(self) -> None:
        for _ in range(64):                # bounded: one busy stream cannot starve the loop
            try:
                data, addr = self.sock.recvfrom(2048)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return                     # ICMP port unreachable and the like
            self._on_datagram(data, (addr[0], addr[1]))

    def sendto(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            self.sock.sendto(data, addr)
        except (BlockingIOError, InterruptedError, OSError):
            pass                           # UDP: a lost frame is a lost frame

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._loop.remove_reader(self.sock.fileno())
            self.sock.close()
