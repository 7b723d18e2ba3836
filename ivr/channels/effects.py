"""Effects shared by every channel: the interpreter asks, these do, the answer goes back as an event.

`run_effect(action, services, ctx)` maps an effect action to its result event, so the voice and SMS
channels (and the simulator) perform effects the same way. `CampaignServices` is what it needs from
the store (votes, codes redeemed and issued, outcomes), the mail relay and HTTP: webhooks, e-mail-less notifications and
routing requests go through its `http` (a `webhooks.WebhookClient`, or a stand-in). `InMemoryServices`
backs the simulator and tests; the store-backed implementation is `store_services.StoreServices`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Protocol

from ivr.flow.events import (
    CallWebhook, CastVote, CodeResult, IssueCode, IssuedSms, IssueResult, Notify, NotifyResult, RecordResult,
    RedeemCode, RouteRequest, RoutingResult, StartRecording, StoreOutcome, Transfer, TransferResult, VoteResult,
)
from ivr.flow.model import Campaign, caller_facts, vote_names
from ivr.store.records import window_key

from .webhooks import HttpCall, WebhookClient

log = logging.getLogger(__name__)


@dataclass
class EffectContext:
    """Whom an effect is for: the session (call id), campaign, caller and channel."""

    call_id: str
    campaign_id: str
    caller: str
    channel: str


class CampaignServices(Protocol):
    """The outside world a channel needs (all async; the runtime implements it on the store)."""

    http: HttpCall                       # webhooks, notify webhooks and routing requests

    async def cast_vote(self, ctx: EffectContext, name: str, choice: str, window: str,
                        defer: bool = False) -> VoteResult:
        """One vote per caller, campaign, vote name and window, whatever the channel. Accepted only once the
        store has counted it; while it cannot check it, `unavailable`, or with `defer` kept to be checked
        later (`pending`)."""

    async def redeem_code(self, ctx: EffectContext, pool: str, code: str, named: bool = False) -> CodeResult:
        """Single use: redeemed, used (before, by anyone), invalid, or unavailable (store down). `named`: a
        pool of the campaign's tenant, else one the campaign file lists."""

    async def issue_code(self, ctx: EffectContext, pool: str, sms: IssuedSms | None = None) -> IssueResult:
        """A code of the tenant's pool for the caller: issued, again (the same as before), exhausted, or
        unavailable (store down). With `sms`, the code also goes to the caller by SMS, once per caller
        (asked again, nothing more is sent; not to a caller who opted out)."""

    async def store_outcome(self, ctx: EffectContext, kind: str, name: str, value: str) -> None:
        """Returns once the outcome is durable."""

    async def send_email(self, to: str, subject: str, text: str) -> bool:
        """True when the message was handed to the mail relay."""

    async def send_sms(self, ctx: EffectContext, sender: str, to: str, text: str) -> bool:
        """Queue an SMS from short number `sender`; True when queued (False: no route, or opted out)."""

    async def prepare(self, campaigns: list[Campaign]) -> None:
        """Load what campaigns bring with them (promo code pools)."""

    async def caller_variables(self, campaign: Campaign, caller: str, exclude: str | None = None) -> dict[str, Any]:
        """What is known of the caller before a session starts (see `model.caller_facts`), for `caller.*`:
        sessions today (not counting session `exclude`), the last vote; what cannot be read is left out."""


async def run_effect(action: object, services: CampaignServices, ctx: EffectContext) -> object | None:
    """Perform one effect; returns the event to feed back (None for `StoreOutcome`)."""
    if isinstance(action, StoreOutcome):
        await services.store_outcome(ctx, action.kind, action.name, action.value)
        return None
    if isinstance(action, CastVote):
        return await services.cast_vote(ctx, action.name, action.choice, action.window, defer=action.defer)
    if isinstance(action, RedeemCode):
        return await services.redeem_code(ctx, action.pool, action.code, action.named)
    if isinstance(action, IssueCode):
        return await services.issue_code(ctx, action.pool, action.sms)
    if isinstance(action, CallWebhook):
        return await services.http(action, ctx)
    if isinstance(action, Notify):
        if action.method == "email":
            return NotifyResult(await services.send_email(action.target, action.subject, action.text))
        if action.method == "sms":
            to = ctx.caller if action.target == "caller" else action.target
            return NotifyResult(await services.send_sms(ctx, action.sender, to, action.text))
        result = await services.http(CallWebhook(action.target, "POST", {
            "subject": action.subject, "text": action.text, "campaign": ctx.campaign_id,
            "caller": ctx.caller, "channel": ctx.channel}, {}, 5.0, 2), ctx)
        return NotifyResult(result.ok)
    if isinstance(action, RouteRequest):
        result = await services.http(CallWebhook(action.url, "POST", action.state, action.headers, action.timeout, 1),
                                     ctx)
        node = result.data.get("node", result.data) if result.ok else None
        return RoutingResult(node if isinstance(node, dict) else None)
    if isinstance(action, StartRecording):
        return RecordResult(False)           # a runtime without audio cannot record: the failure exit
    if isinstance(action, Transfer):
        return TransferResult(False)         # nor transfer
    raise TypeError(f"not an effect: {type(action).__name__}")


@dataclass
class InMemoryServices:
    """Votes, codes, outcomes and e-mails kept in memory (simulator, tests). Vote windows are UTC."""

    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    http: HttpCall = field(default_factory=WebhookClient)
    votes: dict[tuple[str, str, str, str], str] = field(default_factory=dict)
    pools: dict[tuple[str, str], dict[str, str | None]] = field(default_factory=lambda: defaultdict(dict))
    issued: dict[tuple[str, str], dict[str, str]] = field(default_factory=lambda: defaultdict(dict))
    outcomes: list[dict[str, str]] = field(default_factory=list)
    emails: list[dict[str, str]] = field(default_factory=list)
    sms: list[dict[str, str]] = field(default_factory=list)

    async def prepare(self, campaigns: list[Campaign]) -> None:
        for campaign in campaigns:
            for pool, codes in campaign.code_pools.items():
                for code in codes:
                    self.pools[(campaign.id, pool)].setdefault(code, None)

    async def caller_variables(self, campaign: Campaign, caller: str, exclude: str | None = None) -> dict[str, Any]:
        """The last vote only (sessions are not counted in memory)."""
        if "last_vote" not in caller_facts(campaign):
            return {}
        names = vote_names(campaign)
        votes = [choice for (campaign_id, name, voter, _), choice in self.votes.items()
                 if (campaign_id, voter) == (campaign.id, caller) and name in names]
        return {"last_vote": votes[-1]} if votes else {}

    async def cast_vote(self, ctx: EffectContext, name: str, choice: str, window: str,
                        defer: bool = False) -> VoteResult:
        key = (ctx.campaign_id, name, ctx.caller, window_key(window, self.clock()))
        if key in self.votes:
            return VoteResult(False, self.votes[key])
        self.votes[key] = choice
        self.outcomes.append({"kind": "vote", "name": name, "value": choice})
        return VoteResult(True)

    async def redeem_code(self, ctx: EffectContext, pool: str, code: str, named: bool = False) -> CodeResult:
        codes = self.pools[(ctx.campaign_id, pool)]
        if code not in codes:
            return CodeResult("invalid")
        if codes[code] is not None:
            return CodeResult("used")
        codes[code] = ctx.caller
        self.outcomes.append({"kind": "code", "name": pool, "value": code})
        return CodeResult("redeemed")

    async def issue_code(self, ctx: EffectContext, pool: str, sms: IssuedSms | None = None) -> IssueResult:
        """A code of `pools[(campaign, pool)]` not handed out yet; without such codes (a simulation of a
        campaign whose pool is in the store) a made-up SAMPLE code. Its SMS goes to `sms` once."""
        given = self.issued[(ctx.campaign_id, pool)]
        if ctx.caller in given:
            return IssueResult("again", given[ctx.caller])
        codes = self.pools.get((ctx.campaign_id, pool))
        if codes:
            free = next((c for c in codes if c not in given.values() and codes[c] is None), None)
            if free is None:
                return IssueResult("exhausted")
            code = free
        else:
            code = f"SAMPLE{len(given) + 1:04d}"
        given[ctx.caller] = code
        self.outcomes.append({"kind": "issued", "name": pool, "value": code})
        if sms is not None:
            self.sms.append({"from": sms.sender, "to": ctx.caller, "text": sms.text(code)})
        return IssueResult("issued", code)

    async def store_outcome(self, ctx: EffectContext, kind: str, name: str, value: str) -> None:
        self.outcomes.append({"kind": kind, "name": name, "value": value})

    async def send_email(self, to: str, subject: str, text: str) -> bool:
        self.emails.append({"to": to, "subject": subject, "text": text})
        return True

    async def send_sms(self, ctx: EffectContext, sender: str, to: str, text: str) -> bool:
        self.sms.append({"from": sender, "to": to, "text": text})
        return True
