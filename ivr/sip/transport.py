"""Asyncio I/O around the sans-I/O user agent: UDP and TCP on one address, and the SIP timers.

`SipTransport` owns the sockets and one timer handle. Every input goes to `UserAgent.receive`, then the
owner's `on_events` callback gets the call events and the outbox is flushed to the wire. A TCP
connection that carries no call and has sent nothing for the user agent's `tcp_idle` seconds is closed
(swept every few seconds), so idle or half-opened connections cannot pile up.
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
        self.last_data = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)    # uvloop's transports are not subclasses
        self.last_data = self.owner.now()
        host, port = transport.get_extra_info("peername")[:2]
        if not self.owner.ua.allowed.permits(host):
            transport.abort()          # outside the allow-list: not even a connection
            return
        self.peer = Endpoint("TCP", host, port)
        self.owner.tcp_connections[(host, port)] = self

    def data_received(self, data: bytes) -> None:
        if self.peer is None or self.transport is None:
            return
        self.last_data = self.owner.now()
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
        self._timer: asyncio.TimerHandle | asyncio.Handle | None = None
        self._timer_at: float | None = None     # uvloop gives a plain Handle (no when()) for a past deadline
        self._sweeper: asyncio.TimerHandle | None = None
        self._loop = asyncio.get_event_loop()
        self.address: tuple[str, int] | None = None
        self.idle_closed = 0

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
            self._sweeper = self._loop.call_later(self._sweep_every(), self._sweep)
        self.address = (bound[0], bound[1])
        return self.address

    def now(self) -> float:
        return self._loop.time()

    def _sweep_every(self) -> float:
        return min(5.0, max(0.2, self.ua.config.tcp_idle / 4))

    def _sweep(self) -> None:
        """Close TCP connections that carry no call and have been silent for `tcp_idle`."""
        now = self._loop.time()
        in_calls = {(c.source.host, c.source.port) for c in self.ua.calls.values() if c.source.transport == "TCP"}
        for key, conn in list(self.tcp_connections.items()):
            if key not in in_calls and now - conn.last_data >= self.ua.config.tcp_idle and conn.transport is not None:
                log.info("closing TCP connection from %s:%s: silent for %.0f s", key[0], key[1], now - conn.last_data)
                self.idle_closed += 1
                conn.transport.close()
                self.tcp_connections.pop(key, None)
        self._sweeper = self._loop.call_later(self._sweep_every(), self._sweep)

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
                try:
                    self._udp.sendto(send.data, (dest.host, dest.port))
                except (OSError, ValueError) as exc:      # a host name (no DNS here), a bad address
                    log.info("cannot send to %s:%s over UDP: %s", dest.host, dest.port, exc)
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
            if deadline is not None and self._timer_at is not None and abs(self._timer_at - deadline) < 1e-4:
                return
            self._timer.cancel()
            self._timer = self._timer_at = None
        if deadline is not None:
            self._timer = self._loop.call_at(deadline, self._on_timer)
            self._timer_at = deadline

    def _on_timer(self) -> None:
        self._timer = self._timer_at = None
        self.ua.poll(self._loop.time())
        self.flush()

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._sweeper is not None:
            self._sweeper.cancel()
        if self._udp is not None:
            self._udp.close()
        if self._tcp_server is not None:
            self._tcp_server.close()
            for conn in list(self.tcp_connections.values()):
                if conn.transport is not None:
                    conn.transport.close()
            await self._tcp_server.wait_closed()
