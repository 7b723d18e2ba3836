"""HTTP requests to a business's API (webhook and notify nodes, routing mode), made safe to send.

Every request carries an `Idempotency-Key`, the same on each retry of one effect, and, when a secret
is known (the campaign's `webhook_secret`, else the node's `--webhook-secret`), a signature:

    X-Ivr-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

(`verify` checks one). Network errors, timeouts, 429 and 5xx answers are retried `retries` times after
`backoff_delay` (exponential with jitter, never more than the node's timeout nor BACKOFF_CAP); other
answers are final. Redirects are not followed. Unless private targets are allowed, a URL whose host is
or resolves to a loopback, private, link-local, shared (CGNAT), multicast or reserved address is
refused without a request; the check is made on the addresses actually connected to, so a name that
resolves differently later (DNS rebinding) is caught as well.

`stats` counts each request's final result (after its retries): ok, failed, refused. A copy made with
`dataclasses.replace` (a simulation's client) starts its own counts, so simulations do not count as the
node's traffic.

One target is built in: `DEMO_ORIGIN` (a name under `.invalid`, which never resolves, RFC 6761) stands
for the demo business API a node serves for its demo campaigns (`web/demo.py`). When the node serves it,
the client sends such a URL to the node's own HTTP address under `/demo/` (`demo_base`), whatever the
private-target policy; when it does not, the URL is refused like any target that cannot be called.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import logging
import posixpath
import random
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from ivr.flow.events import CallWebhook, WebhookResult

if TYPE_CHECKING:
    from .effects import EffectContext

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Ivr-Signature"
BACKOFF_BASE = 0.25          # seconds before the first retry (then doubling), before jitter
BACKOFF_CAP = 2.0
SIGNATURE_TOLERANCE = 300    # seconds a receiver should accept between t= and its clock
REFUSED = "refused: "        # how the error of a request never sent begins
DEMO_ORIGIN = "http://demo.ivr.invalid"     # the built-in demo business API, wherever the node serves it


class WebhookRefused(OSError):
    """The target may not be called (not http(s), or a private address without permission)."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Ivr-Signature value for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, now: float | None = None,
           tolerance: float = SIGNATURE_TOLERANCE) -> bool:
    """True when `header` signs `body` with `secret` and its time is within `tolerance` of `now`."""
    fields = dict(part.strip().partition("=")[::2] for part in header.split(","))
    timestamp = fields.get("t", "")
    if not timestamp.isdigit() or "v1" not in fields:
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), f"t={timestamp},v1={fields['v1']}")


def backoff_delay(attempt: int, timeout: float, rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait before retry number `attempt` (1, 2, ...): half to all of the doubling step."""
    step = min(BACKOFF_BASE * 2 ** (attempt - 1), BACKOFF_CAP, timeout)
    return step * (0.5 + rand() / 2)


def private_reason(address: str) -> str | None:
    """Why an IP address is not a public one (None when it is)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for kind in ("loopback", "link_local", "multicast", "unspecified", "private", "reserved"):
        if getattr(ip, f"is_{kind}"):
            return f"{ip} is a {kind.replace('_', '-')} address"
    if not ip.is_global:
        return f"{ip} is not a public address"
    return None


class _PublicOnlyResolver(AbstractResolver):
    """Resolves like aiohttp does, then refuses names that lead to a non-public address."""

    def __init__(self) -> None:
        self._resolver = DefaultResolver()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        results = await self._resolver.resolve(host, port, family)
        for result in results:
            reason = private_reason(result["host"])
            if reason is not None:
                raise WebhookRefused(f"{host} resolves to {reason}")
        return results

    async def close(self) -> None:
        await self._resolver.close()


@dataclass
class WebhookStats:
    """Requests by final result, after their retries."""

    ok: int = 0
    failed: int = 0          # error answers, timeouts, connection failures
    refused: int = 0         # never sent: not http(s), or a private address without permission

    def as_dict(self) -> dict[str, int]:
        return {"ok": self.ok, "failed": self.failed, "refused": self.refused}


@dataclass
class WebhookClient:
    """Makes `CallWebhook` requests for one node (or one simulation); see the module's docstring."""

    allow_private: bool = False
    secret: str | None = None                                  # the node's --webhook-secret
    campaign_secret: Callable[[str], str | None] = field(default=lambda campaign_id: None)
    rand: Callable[[], float] = random.random
    stats: WebhookStats = field(init=False, default_factory=WebhookStats)
    demo_base: str | None = None          # where this node serves the demo API (None: it does not)

    async def __call__(self, action: CallWebhook, ctx: "EffectContext") -> WebhookResult:
        result = await self._request(action, ctx)
        if result.ok:
            self.stats.ok += 1
        elif (result.error or "").startswith(REFUSED):
            self.stats.refused += 1
        else:
            self.stats.failed += 1
        return result

    async def _request(self, action: CallWebhook, ctx: "EffectContext") -> WebhookResult:
        try:
            demo_url = self._demo_url(action.url)
        except WebhookRefused as exc:
            return self._refused(action, exc, suggest=False)
        try:
            if demo_url is None:
                self._check_target(action.url)
        except WebhookRefused as exc:
            return self._refused(action, exc)
        if demo_url is not None:      # the node's own address (an IP literal: no resolver is asked)
            action = replace(action, url=demo_url)
        body = b"" if action.method == "GET" else json.dumps(action.body, separators=(",", ":")).encode()
        headers = {**action.headers, "Idempotency-Key": uuid.uuid4().hex}
        if body:
            headers["Content-Type"] = "application/json"
        secret = self.campaign_secret(ctx.campaign_id) or self.secret
        last_status: int | None = None
        error: str | None = None
        for attempt in range(action.retries + 1):
            if attempt:
                await asyncio.sleep(backoff_delay(attempt, action.timeout, self.rand))
            if secret:
                headers[SIGNATURE_HEADER] = sign(secret, int(time.time()), body)
            try:
                status, data = await self._send(action, headers, body)
            except aiohttp.ClientConnectorError as exc:
                if isinstance(exc.os_error, WebhookRefused):
                    return self._refused(action, exc.os_error)
                error = f"cannot connect: {exc.os_error}"
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                error = "timed out" if isinstance(exc, asyncio.TimeoutError) else f"{type(exc).__name__}: {exc}"
            else:
                last_status = status
                if status < 300:
                    return WebhookResult(True, status, data)
                error = f"answered {status}"
                if status < 500 and status != 429:
                    break                    # the business said no: retrying will not help
            log.info("webhook %s %s (attempt %d of %d): %s", action.method, action.url, attempt + 1,
                     action.retries + 1, error)
        return WebhookResult(False, last_status, {}, error)

    def _demo_url(self, url: str) -> str | None:
        """The node's own address for a URL of the built-in demo API (kept under /demo/); None for any
        other URL; refused when the node does not serve the demo API."""
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}".lower() != DEMO_ORIGIN:
            return None
        if self.demo_base is None:
            raise WebhookRefused(f"{DEMO_ORIGIN} is the demo business API, served only with the demo campaigns")
        path = posixpath.normpath("/" + parts.path).lstrip("/")
        return f"{self.demo_base}/{path}" + (f"?{parts.query}" if parts.query else "")

    def _check_target(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise WebhookRefused(f"not an http(s) URL: {url!r}")
        if self.allow_private:
            return
        try:
            reason = private_reason(parts.hostname)
        except ValueError:
            return                           # a name: checked when resolved
        if reason is not None:
            raise WebhookRefused(reason)

    def _refused(self, action: CallWebhook, exc: WebhookRefused, suggest: bool = True) -> WebhookResult:
        """The failed result of a refused target; `suggest`: name the flag that allows private ones."""
        hint = "" if self.allow_private or not suggest else " (ivr serve --allow-private-webhooks allows private targets)"
        log.warning("webhook %s %s refused: %s", action.method, action.url, exc)
        return WebhookResult(False, None, {}, f"{REFUSED}{exc}{hint}")

    async def _send(self, action: CallWebhook, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        connector = aiohttp.TCPConnector(resolver=None if self.allow_private else _PublicOnlyResolver(),
                                         use_dns_cache=False)
        async with aiohttp.ClientSession(connector=connector,
                                         timeout=aiohttp.ClientTimeout(total=action.timeout)) as session:
            async with session.request(action.method, action.url, headers=headers, data=body or None,
                                       allow_redirects=False) as response:
                if response.status >= 300:
                    return response.status, {}
                try:
                    data = await response.json(content_type=None)
                except ValueError:
                    data = {"text": await response.text(errors="replace")}
                return response.status, data if isinstance(data, dict) else {"value": data}


HttpCall = Callable[[CallWebhook, "EffectContext"], Awaitable[WebhookResult]]
