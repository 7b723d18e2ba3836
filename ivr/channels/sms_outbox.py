"""Outbound SMS: every message is a row of the store's outbox first (durable, with a stable id and its
part count), then a dispatcher claims due rows for this node and hands each to the transport of its
route: an SMPP operator link (`smpp.transport`) or the HTTP gateway (`HttpTransport`). A message the
transport could not hand over goes back to the outbox with a backoff; one it refused for good is
"rejected"; after MAX_ATTEMPTS it is "failed". Nothing queued is lost on a restart: a node's claims run
out (or are given back on a clean stop) and any node sends the message.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import random
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

from ivr.store.outbox import ClaimedSms, OutboundSms, SentPart

from .sms_metrics import SmsMetrics
from .smpp.encoding import DC_UCS2, encode
from .webhooks import SIGNATURE_HEADER, sign

log = logging.getLogger(__name__)

ROUTE_SMPP = "smpp"
ROUTE_HTTP = "http"
ROUTE_RESPONSE = "response"      # the reply travels in the HTTP gateway's response (nothing to send)
MAX_ATTEMPTS = 10
BACKOFF_BASE = 2.0               # seconds before the first retry, doubling, with jitter
BACKOFF_CAP = 600.0
LINK_DOWN_RETRY = 2.0            # a message whose link is down waits this long (no attempt counted)
POLL = 0.5
LEASE = 120.0


def outbound(*, number: str, recipient: str, text: str, kind: str, route: str, campaign_id: str | None = None,
             session_id: str | None = None, key: str | None = None) -> OutboundSms:
    """A message to queue: encoded once to know its part count (what it costs) and its encoding. `key`: what
    the message announces (e.g. a draw's place), so its id is the same however often it is queued and it goes
    out once (`outbox.enqueue` is idempotent by id)."""
    reference = secrets.randbelow(256)
    encoded = encode(text, reference)
    return OutboundSms(number=number, recipient=recipient, text=text, kind=kind, route=route,
                       encoding="ucs2" if encoded.data_coding == DC_UCS2 else "gsm7", parts=encoded.count,
                       reference=reference, campaign_id=campaign_id, session_id=session_id,
                       **({"id": keyed_id(key)} if key is not None else {}))


def keyed_id(key: str) -> str:
    """The outbox id of the message announcing `key` (32 hex digits, as every outbox id)."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def backoff(attempt: int, rand: Callable[[], float] = random.random) -> float:
    """Seconds before retry number `attempt` (1, 2, ...): half to all of the doubling step."""
    return min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1)) * (0.5 + rand() / 2)


@dataclass(frozen=True)
class Delivery:
    """What a transport did with a message: "accepted" (on `link`), "rejected" (for good) or "retry"."""

    result: str
    link: str | None = None
    error: str | None = None
    counted: bool = True             # a retry counts as an attempt (not when the link was merely down)


PartSent = Callable[[int, str, str], Awaitable[None]]     # (part number, link, the SMSC's id)


class Transport(Protocol):
    route: str

    async def deliver(self, message: ClaimedSms, part_sent: PartSent) -> Delivery:
        """Hand the message over (the parts not yet sent); report each accepted part through `part_sent`."""


class HttpTransport:
    """The HTTP gateway's outbound side: one signed POST per message (JSON: id, from, to, text, parts,
    encoding), `Idempotency-Key` = the message id, X-Ivr-Signature as for webhooks. 2xx hands it over;
    429, 5xx and network errors are retried with backoff; other answers reject it."""

    route = ROUTE_HTTP

    def __init__(self, url: str, secret: str | None, timeout: float = 10.0) -> None:
        self.url = url
        self.secret = secret
        self.timeout = timeout

    async def deliver(self, message: ClaimedSms, part_sent: PartSent) -> Delivery:
        body = json.dumps({"id": message.id, "from": message.number, "to": message.recipient, "text": message.text,
                           "parts": message.parts}, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": message.id}
        if self.secret:
            headers[SIGNATURE_HEADER] = sign(self.secret, int(time.time()), body)
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout)) as session:
                async with session.post(self.url, data=body, headers=headers, allow_redirects=False) as response:
                    status = response.status
        except (aiohttp.ClientError, TimeoutError, socket.gaierror) as exc:
            return Delivery("retry", error=f"SMS gateway unreachable: {type(exc).__name__}: {exc}")
        if status < 300:
            await part_sent(1, ROUTE_HTTP, message.id)
            return Delivery("accepted", ROUTE_HTTP)
        if status == 429 or status >= 500:
            return Delivery("retry", error=f"SMS gateway answered {status}")
        return Delivery("rejected", error=f"SMS gateway answered {status}")


class OutboxDispatcher:
    """Claims this node's share of the outbox and sends it through the transports, `workers` at a time."""

    def __init__(self, store: Any, transports: dict[str, Transport], metrics: SmsMetrics, node_id: str | None = None,
                 workers: int = 32, lease: float = LEASE, poll: float = POLL) -> None:
        self.store = store
        self.transports = transports
        self.metrics = metrics
        self.node_id = node_id or f"{socket.gethostname()}-{secrets.token_hex(4)}"
        self.workers = workers
        self.lease = lease
        self.poll = poll
        self._wake = asyncio.Event()
        self._queue: asyncio.Queue[ClaimedSms] = asyncio.Queue()
        self._busy = 0
        self._more = False                           # the last claim filled every free worker
        self._tasks: list[asyncio.Task[None]] = []

    def wake(self) -> None:
        """Something was queued: look at once instead of at the next poll."""
        self._wake.set()

    def start(self) -> None:
        if not self.transports:
            return
        self._tasks = [asyncio.ensure_future(self._claim_loop())]
        self._tasks += [asyncio.ensure_future(self._worker()) for _ in range(self.workers)]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        with contextlib.suppress(Exception):
            released = await self.store.sms_release(self.node_id)
            if released:
                log.info("SMS outbox: %d claimed messages given back", released)

    async def _claim_loop(self) -> None:
        """Claim due messages for the idle workers and as many again queued ahead, in batches of at least
        half the workers (one transaction each); look again when woken (something was queued, or workers
        came free while more may be due) or after `poll` seconds."""
        while True:
            self._wake.clear()
            free = 2 * self.workers - self._busy - self._queue.qsize()      # a worker's worth queued ahead
            if free >= self.workers // 2 or not self._queue.qsize():
                try:
                    claimed = await self.store.sms_claim_outbox(node=self.node_id, routes=tuple(self.transports),
                                                                lease=self.lease, limit=free)
                except Exception as exc:
                    log.warning("SMS outbox: cannot claim messages (%s); trying again", exc)
                    claimed = []
                for message in claimed:
                    self._queue.put_nowait(message)
                self._more = len(claimed) == free
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll)

    async def _worker(self) -> None:
        while True:
            message = await self._queue.get()
            self._busy += 1
            try:
                await self.send(message)
            except Exception:
                log.exception("SMS outbox: message %s could not be sent", message.id)
                with contextlib.suppress(Exception):
                    await self.store.sms_finish(message_id=message.id, parts=[], state="queued",
                                                retry_in=backoff(message.attempts + 1), error="internal error")
            finally:
                self._busy -= 1
                if self._more:                       # more may be due: claim for this free worker now
                    self._wake.set()

    async def send(self, message: ClaimedSms) -> Delivery:
        """Hand one claimed message to its transport and write what became of it."""
        transport = self.transports[message.route]
        sent: list[SentPart] = []

        async def part_sent(seq: int, link: str, smsc_id: str) -> None:
            sent.append(SentPart(seq, link, smsc_id))

        delivery = await transport.deliver(message, part_sent)
        route = message.route
        if delivery.result in ("accepted", "rejected"):
            await self.store.sms_finish(message_id=message.id, parts=sent, state=delivery.result, link=delivery.link,
                                        error=delivery.error)
        elif delivery.counted and message.attempts + 1 >= MAX_ATTEMPTS:
            delivery = Delivery("failed", delivery.link, delivery.error)
            await self.store.sms_finish(message_id=message.id, parts=sent, state="failed", error=delivery.error)
        else:
            delay = backoff(message.attempts + 1) if delivery.counted else LINK_DOWN_RETRY
            await self.store.sms_finish(message_id=message.id, parts=sent, state="queued", retry_in=delay,
                                        error=delivery.error or "retry", count=delivery.counted)
            delivery = Delivery("retried", delivery.link, delivery.error, delivery.counted)
        self.metrics.outbox[(route, delivery.result)] += 1
        if delivery.result in ("rejected", "failed"):
            log.warning("SMS %s to %s %s: %s", message.id, message.recipient, delivery.result, delivery.error)
        return delivery
