"""One operator link over SMPP 3.4: smpp34 binds and carries the PDUs (window, enquire_link, timers);
this layer keeps the link bound (re-bind with backoff after a drop), paces submits at the link's
throughput, pauses on throttling, and hands every deliver_sm to `on_inbound`. What to do when is decided
by `machine.LinkMachine`; secrets are never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import smpp34

from ..sms_metrics import SmsMetrics
from .config import LinkSettings
from .machine import LinkMachine, LinkState, Pacer

log = logging.getLogger(__name__)

ESME_ROK = 0x00
ESME_RMSGQFUL = 0x14
ESME_RTHROTTLED = 0x58
THROTTLING = (ESME_RTHROTTLED, ESME_RMSGQFUL)
# Answers worth trying again later (system error, submit failed, unknown, temporary application error).
TRANSIENT = (*THROTTLING, 0x08, 0x45, 0xFF, 0x64)
THROTTLE_TRIES = 8              # throttled answers to one submit before it goes back to the outbox
CONNECT_TIMEOUT_MS = 5000


class LinkDown(ConnectionError):
    """The link is not bound (or broke during the submit)."""


@dataclass(frozen=True)
class Inbound:
    """A deliver_sm as received: a mobile-originated part or a delivery receipt."""

    link: str
    source: str
    destination: str
    esm_class: int
    data_coding: int
    short_message: bytes
    tlvs: dict[int, bytes]


@dataclass(frozen=True)
class SubmitOutcome:
    accepted: bool
    message_id: str | None
    status: int
    transient: bool = False


InboundHandler = Callable[[Inbound], Awaitable[None]]


class SmppLink:
    def __init__(self, settings: LinkSettings, on_inbound: InboundHandler, metrics: SmsMetrics,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.on_inbound = on_inbound
        self.metrics = metrics
        self.clock = clock
        self.machine = LinkMachine(settings.reconnect_min, settings.reconnect_max)
        self.pacer = Pacer(settings.throughput, burst=max(1.0, min(settings.throughput, settings.window)))
        self._window = asyncio.Semaphore(settings.window)
        self._bound = asyncio.Event()
        self._clients: list[Any] = []
        self._sender: Any = None
        self._task: asyncio.Task[None] | None = None
        self.metrics.link_state(settings.name, False, "not bound yet")

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def state(self) -> LinkState:
        return self.machine.state

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        self.machine.close()
        self._bound.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._close_sessions()

    async def submit(self, *, source: str, destination: str, short_message: bytes, data_coding: int,
                     esm_class: int) -> SubmitOutcome:
        """One submit_sm at the link's pace; raises LinkDown when the link is not bound or breaks."""
        s = self.settings
        async with self._window:
            for _ in range(THROTTLE_TRIES):
                if not self._bound.is_set() or self._sender is None:
                    raise LinkDown(f"link {self.name} is {self.machine.state.value}")
                wait = self.machine.pause(self.clock())
                wait += self.pacer.reserve(self.clock() + wait)
                if wait:
                    await asyncio.sleep(wait)
                sender = self._sender
                if sender is None:
                    raise LinkDown(f"link {self.name} went down")
                try:
                    resp = await sender.submit_sm(
                        destination, short_message, source_addr=source, source_addr_ton=s.source_ton,
                        source_addr_npi=s.source_npi, dest_addr_ton=s.dest_ton, dest_addr_npi=s.dest_npi,
                        esm_class=esm_class, data_coding=data_coding,
                        registered_delivery=1 if s.registered_delivery else 0)
                except smpp34.SmppError as exc:
                    self.metrics.submits[(self.name, "error")] += 1
                    raise LinkDown(f"link {self.name}: {exc}") from exc
                status = resp.command_status
                if status == ESME_ROK:
                    self.machine.accepted()
                    self.metrics.submits[(self.name, "ok")] += 1
                    return SubmitOutcome(True, resp.message_id, status)
                if status in THROTTLING:
                    self.metrics.submits[(self.name, "throttled")] += 1
                    self.metrics.throttles[self.name] += 1
                    pause = self.machine.throttled(self.clock())
                    log.info("link %s throttled (status 0x%02x): pausing %.1f s", self.name, status, pause)
                    continue
                self.metrics.submits[(self.name, "rejected")] += 1
                return SubmitOutcome(False, None, status, transient=status in TRANSIENT)
            return SubmitOutcome(False, None, ESME_RTHROTTLED, transient=True)

    # -- keeping the link bound ------------------------------------------------------------------

    async def _run(self) -> None:
        while self.machine.state is not LinkState.CLOSED:
            await asyncio.sleep(self.machine.connect_delay(self.clock()))
            self.machine.connecting(self.clock())
            try:
                sessions = await self._bind()
            except (smpp34.SmppError, OSError, TimeoutError) as exc:
                delay = self.machine.failed(self.clock())
                self.metrics.binds[(self.name, "failed")] += 1
                log.warning("link %s: bind to %s:%d as %s failed (%s); again in %.1f s", self.name,
                            self.settings.host, self.settings.port, self.settings.system_id, exc, delay)
                await self._close_sessions()
                continue
            self.machine.bound(self.clock())
            self.metrics.binds[(self.name, "bound")] += 1
            self.metrics.link_state(self.name, True, f"{self.settings.host}:{self.settings.port} {self.settings.bind}")
            log.info("link %s bound to %s:%d (%s)", self.name, self.settings.host, self.settings.port,
                     self.settings.bind)
            self._bound.set()
            readers = [asyncio.ensure_future(self._read(session)) for session in sessions]
            try:
                await asyncio.wait(readers, return_when=asyncio.FIRST_COMPLETED)
            finally:
                self._bound.clear()
                self.metrics.link_state(self.name, False, "bind lost")
                for reader in readers:
                    reader.cancel()
                await self._close_sessions()
            if self.machine.state is LinkState.BOUND:
                delay = self.machine.lost(self.clock())
                self.metrics.binds[(self.name, "lost")] += 1
                log.warning("link %s: the bind was lost; re-binding in %.1f s", self.name, delay)

    async def _bind(self) -> list[Any]:
        s = self.settings
        kinds = ("TRX",) if s.bind == "transceiver" else ("TX", "RX")
        sessions = []
        for kind in kinds:
            client = smpp34.Client(host=s.host, port=s.port, system_id=s.system_id, password=s.password,
                                   bind_type=kind, system_type=s.system_type, tls=s.tls, window_size=s.window,
                                   connect_timeout_ms=CONNECT_TIMEOUT_MS)
            self._clients.append(client)
            session = await client.connect()
            sessions.append(session)
            if kind in ("TRX", "TX"):
                self._sender = session
        return sessions

    async def _read(self, session: Any) -> None:
        while True:
            event = await session.next()
            if isinstance(event, smpp34.Disconnected):
                return
            tlvs = {t.tag: bytes(t.value) for t in event.tlvs}
            inbound = Inbound(self.name, event.source_addr, event.destination_addr, event.esm_class,
                              event.data_coding, bytes(event.short_message), tlvs)
            try:
                await self.on_inbound(inbound)
            except Exception:
                log.exception("link %s: an inbound message could not be handled", self.name)

    async def _close_sessions(self) -> None:
        self._sender = None
        clients, self._clients = self._clients, []
        for client in clients:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.stop(), 2.0)
