"""Asyncio I/O around the sans-I/O user agent: UDP and TCP on one address, and the SIP timers.

`SipTransport` owns the sockets and one timer handle. Every input goes to `UserAgent.receive`, then the
owner's `on_events` callback gets the call events and the outbox is flushed to the wire.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Callable, cast

from .message import SipFramingError, StreamFramer, StreamMessageTooLarge
from .transaction import Endpoint, Send
from .ua import CallEvent, UserAgent

log = logging.getLogger(__name__)


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, owner: "SipTransport") -> None:
        self.owner = owner

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        self.owner.feed(data, Endpoint("UDP", addr[0], addr[1]))

    def error_received(self, exc: Exception) -> None:
        log.debug("UDP error: %s", exc)


class _TcpProtocol(asyncio.Protocol):
    def __init__(self, owner: "SipTransport") -> None:
        self.owner = owner
        self.framer = StreamFramer()
        self.transport: asyncio.Transport | None = None
        self.peer: Endpoint | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)    # uvloop's transports are not subclasses
        host, port = transport.get_extra_info("peername")[:2]
        if not self.owner.ua.allowed.permits(host):
            transport.abort()          # outside the allow-list: not even a connection
            return
        self.peer = Endpoint("TCP", host, port)
        self.owner.tcp_connections[(host, port)] = self

    def data_received(self, data: bytes) -> None:
        if self.peer is None or self.transport is None:
            return
        try:
            messages = self.framer.feed(data)
        except SipFramingError as exc:
            log.info("closing TCP connection from %s:%s: %s", self.peer.host, self.peer.port, exc)
            if isinstance(exc, StreamMessageTooLarge):
                self.owner.ua.refuse_too_large(exc.head, self.peer)     # 513 before closing
                self.owner.flush()
            self.transport.close()
            return
        if self.framer.keepalives:
            self.transport.write(b"\r\n" * self.framer.keepalives)   # RFC 5626 pong
            self.framer.keepalives = 0
        for message in messages:
            self.owner.feed(message, self.peer)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.peer is not None:
            self.owner.tcp_connections.pop((self.peer.host, self.peer.port), None)


class SipTransport:
    """UDP and TCP listeners on one address feeding one `UserAgent`."""

    def __init__(self, ua: UserAgent, on_events: Callable[[list[CallEvent]], None]) -> None:
        self.ua = ua
        self.on_events = on_events
        self.tcp_connections: dict[tuple[str, int], _TcpProtocol] = {}
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp_server: asyncio.base_events.Server | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._loop = asyncio.get_event_loop()
        self.address: tuple[str, int] | None = None

    async def start(self, host: str, port: int, tcp: bool = True) -> tuple[str, int]:
        """Bind UDP (and TCP on the same port); returns the bound address (port 0 picks one)."""
        self._loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        udp, _ = await self._loop.create_datagram_endpoint(
            lambda: _UdpProtocol(self), local_addr=(host, port), family=family)
        self._udp = udp
        bound = udp.get_extra_info("sockname")[:2]
        if tcp:
            self._tcp_server = await self._loop.create_server(
                lambda: _TcpProtocol(self), host=host, port=bound[1], family=family, reuse_address=True)
        self.address = (bound[0], bound[1])
        return self.address

    def feed(self, data: bytes, source: Endpoint) -> None:
        self.ua.receive(data, source, self._loop.time())
        self.flush()

    def flush(self) -> None:
        """Hand pending call events to the owner and write pending bytes; re-arm the timer."""
        while True:
            events = self.ua.drain_events()
            if events:
                self.on_events(events)
            sends = self.ua.drain_outgoing()
            for send in sends:
                self._write(send)
            if not events and not sends:
                break
        self._arm_timer()

    def _write(self, send: Send) -> None:
        dest = send.dest
        if dest.transport == "UDP":
            if self._udp is not None:
                self._udp.sendto(send.data, (dest.host, dest.port))
            return
        conn = self.tcp_connections.get((dest.host, dest.port))
        if conn is not None and conn.transport is not None and not conn.transport.is_closing():
            conn.transport.write(send.data)
        else:
            self._loop.create_task(self._connect_and_write(dest, send.data))

    async def _connect_and_write(self, dest: Endpoint, data: bytes) -> None:
        try:
            _, proto = await self._loop.create_connection(lambda: _TcpProtocol(self), dest.host, dest.port)
        except OSError as exc:
            log.info("TCP connect to %s:%s failed: %s", dest.host, dest.port, exc)
            return
        if proto.transport is not None:
            proto.transport.write(data)

    def _arm_timer(self) -> None:
        deadline = self.ua.next_deadline()
        if self._timer is not None:
            if deadline is not None and abs(self._timer.when() - deadline) < 1e-4:
                return
            self._timer.cancel()
            self._timer = None
        if deadline is not None:
            self._timer = self._loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self.ua.poll(self._loop.time())
        self.flush()

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._udp is not None:
            self._udp.close()
        if self._tcp_server is not None:
            self._tcp_server.close()
            for conn in list(self.tcp_connections.values()):
                if conn.transport is not None:
                    conn.transport.close()
            await self._tcp_server.wait_closed()
