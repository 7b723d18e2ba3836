"""Effects shared by every channel: the interpreter asks, these do, the answer goes back as an event.

`CampaignServices` is what a channel needs from the outside world (the store for votes, codes and
outcomes; HTTP for webhooks and notifications). `InMemoryServices` backs the simulator and tests;
the store-backed implementation lives in `store_services.py`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

from ivr.flow.interpreter import (
    CallWebhook, CastVote, CodeResult, Notify, NotifyResult, RecordResult, RedeemCode, RouteRequest, RoutingResult,
    StartRecording, StoreOutcome, Transfer, TransferResult, VoteResult, WebhookResult,
)
from ivr.flow.model import Campaign

log = logging.getLogger(__name__)


@dataclass
class EffectContext:
    """Who the effect is for."""

    call_id: str
    campaign_id: str
    caller: str
    channel: str


class CampaignServices(Protocol):
    async def cast_vote(self, ctx: EffectContext, name: str, choice: str, window: str) -> VoteResult: ...

    async def redeem_code(self, ctx: EffectContext, pool: str, code: str) -> CodeResult: ...

    async def store_outcome(self, ctx: EffectContext, kind: str, name: str, value: str) -> None: ...

    async def send_email(self, to: str, subject: str, text: str) -> bool:
        """True when the message was handed to the mail relay."""

    async def prepare(self, campaigns: list[Campaign]) -> None:
        """Load what campaigns bring with them (promo code pools)."""


async def http_call(action: CallWebhook) -> WebhookResult:
    """Call the business's API with bounded retries and backoff; JSON answers become variables."""
    timeout = aiohttp.ClientTimeout(total=action.timeout)
    last_status: int | None = None
    for attempt in range(action.retries + 1):
        if attempt:
            await asyncio.sleep(min(0.2 * 2 ** attempt, 2.0))
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                kwargs: dict[str, Any] = {"headers": action.headers or None}
                if action.method != "GET":
                    kwargs["json"] = action.body
                async with session.request(action.method, action.url, **kwargs) as response:
                    last_status = response.status
                    if response.status < 300:
                        try:
                            data = await response.json(content_type=None)
                        except ValueError:
                            data = {"text": await response.text()}
                        return WebhookResult(True, response.status, data if isinstance(data, dict) else {"value": data})
                    if response.status < 500:
                        break                    # the business said no: retrying will not help
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            log.info("webhook %s %s failed: %s", action.method, action.url, exc)
    return WebhookResult(False, last_status, {})


async def send_notification(action: Notify, services: CampaignServices, ctx: EffectContext) -> NotifyResult:
    if action.method == "webhook":
        result = await http_call(CallWebhook(action.target, "POST", {
            "subject": action.subject, "text": action.text, "campaign": ctx.campaign_id,
            "caller": ctx.caller, "channel": ctx.channel}, {}, 5.0, 2))
        return NotifyResult(result.ok)
    return NotifyResult(await services.send_email(action.target, action.subject, action.text))


async def run_effect(action: object, services: CampaignServices, ctx: EffectContext) -> object | None:
    """Perform one effect; returns the event to feed back (None for fire-and-forget outcomes)."""
    if isinstance(action, StoreOutcome):
        await services.store_outcome(ctx, action.kind, action.name, action.value)
        return None
    if isinstance(action, CastVote):
        return await services.cast_vote(ctx, action.name, action.choice, action.window)
    if isinstance(action, RedeemCode):
        return await services.redeem_code(ctx, action.pool, action.code)
    if isinstance(action, CallWebhook):
        return await http_call(action)
    if isinstance(action, Notify):
        return await send_notification(action, services, ctx)
    if isinstance(action, RouteRequest):
        result = await http_call(CallWebhook(action.url, "POST", action.state, action.headers, action.timeout, 1))
        node = result.data.get("node", result.data) if result.ok else None
        return RoutingResult(node if isinstance(node, dict) else None)
    if isinstance(action, StartRecording):
        return RecordResult(False)           # recording is not built yet: the flow takes its failure exit
    if isinstance(action, Transfer):
        return TransferResult(False)         # SIP REFER is not built yet
    raise TypeError(f"not an effect: {type(action).__name__}")


class InMemoryServices:
    """Votes, codes and outcomes kept in memory (simulator, tests)."""

    def __init__(self) -> None:
        self.votes: dict[tuple[str, str, str], str] = {}
        self.pools: dict[tuple[str, str], dict[str, str | None]] = defaultdict(dict)
        self.outcomes: list[dict[str, str]] = []
        self.emails: list[dict[str, str]] = []

    async def prepare(self, campaigns: list[Campaign]) -> None:
        for campaign in campaigns:
            for pool, codes in campaign.code_pools.items():
                for code in codes:
                    self.pools[(campaign.id, pool)].setdefault(code, None)

    async def cast_vote(self, ctx: EffectContext, name: str, choice: str, window: str) -> VoteResult:
        key = (ctx.campaign_id, name, ctx.caller)
        if key in self.votes:
            return VoteResult(False, self.votes[key])
        self.votes[key] = choice
        self.outcomes.append({"kind": "vote", "name": name, "value": choice})
        return VoteResult(True)

    async def redeem_code(self, ctx: EffectContext, pool: str, code: str) -> CodeResult:
        codes = self.pools[(ctx.campaign_id, pool)]
        if code not in codes:
            return CodeResult("invalid")
        if codes[code] is not None:
            return CodeResult("used")
        codes[code] = ctx.caller
        self.outcomes.append({"kind": "code", "name": pool, "value": code})
        return CodeResult("redeemed")

    async def store_outcome(self, ctx: EffectContext, kind: str, name: str, value: str) -> None:
        self.outcomes.append({"kind": kind, "name": name, "value": value})

    async def send_email(self, to: str, subject: str, text: str) -> bool:
        self.emails.append({"to": to, "subject": subject, "text": text})
        return True
