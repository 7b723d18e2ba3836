"""Campaign services backed by the statistics store: the voice and SMS channels' real effects."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from typing import Any

from ivr.flow.interpreter import CodeResult, IssuedSms, IssueResult, VoteResult
from ivr.flow.model import Campaign, caller_facts, vote_names
from ivr.store.db import Store
from ivr.store.errors import StoreUnavailable

from .effects import EffectContext
from .mailer import Mailer
from .sms_outbox import outbound
from .webhooks import HttpCall, WebhookClient

log = logging.getLogger(__name__)
CALLER_NUMBER = re.compile(r"\+?[0-9]{3,15}")          # a caller an SMS can reach (not withheld, not a SIP name)


class StoreServices:
    def __init__(self, store: Store, mailer: Mailer | None = None, http: HttpCall | None = None,
                 sms_route: str | None = None) -> None:
        self.store = store
        self.mailer = mailer
        self.http = http or WebhookClient()
        self._pools: dict[tuple[str, str], str] = {}      # pools this node loaded: their codes' digest
        self.sms_route = sms_route                  # how notices by SMS go out (smpp, http; None: they cannot)
        self.sms_wake: Callable[[], None] = lambda: None

    async def send_sms(self, ctx: EffectContext, sender: str, to: str, text: str) -> bool:
        """Queue the notice in the outbox (kept "blocked" when the recipient opted out of the number)."""
        if self.sms_route is None or not sender:
            log.warning("no SMS route (--smsc or --sms-outbound): SMS to %s not sent", to)
            return False
        message = outbound(number=sender, recipient=to, text=text, kind="notify", route=self.sms_route,
                           campaign_id=ctx.campaign_id, session_id=ctx.call_id)
        try:
            states = await self.store.sms_enqueue([message])
        except Exception:
            log.exception("SMS to %s not queued", to)
            return False
        self.sms_wake()
        return states == ["queued"]

    async def send_email(self, to: str, subject: str, text: str) -> bool:
        if self.mailer is None:
            log.warning("no SMTP relay configured (--smtp): e-mail to %s not sent", to)
            return False
        return await self.mailer.send(to, subject, text)

    async def prepare(self, campaigns: list[Campaign]) -> None:
        """Load the campaigns' code pools, each once per node and content (an upload and the activation
        that follows do not load 100,000 codes twice)."""
        for campaign in campaigns:
            for pool, codes in campaign.code_pools.items():
                digest = hashlib.sha256("\n".join(codes).encode()).hexdigest()
                if self._pools.get((campaign.id, pool)) == digest:
                    continue
                await self.store.load_code_pool(campaign.id, pool, codes)
                self._pools[(campaign.id, pool)] = digest

    async def caller_variables(self, campaign: Campaign, caller: str, exclude: str | None = None) -> dict[str, Any]:
        """Only the facts the campaign uses, each one query (none for most campaigns)."""
        facts = caller_facts(campaign)
        found: dict[str, Any] = {}
        try:
            if "sessions_today" in facts:
                found["sessions_today"] = await self.store.sessions_today(campaign.id, caller, exclude=exclude)
            if "last_vote" in facts:
                vote = await self.store.last_vote(campaign.id, caller, vote_names(campaign))
                if vote is not None:
                    found["last_vote"] = vote
        except Exception:
            log.exception("campaign %s: what is known of caller %s could not be read; starting without it",
                          campaign.id, caller)
        return found

    async def cast_vote(self, ctx: EffectContext, name: str, choice: str, window: str,
                        defer: bool = False) -> VoteResult:
        try:
            outcome = await self.store.cast_vote(
                campaign_id=ctx.campaign_id, name=name, caller=ctx.caller, choice=choice, window=window,
                channel=ctx.channel, call_id=ctx.call_id, defer=defer)
        except StoreUnavailable as exc:
            log.warning("campaign %s: vote of %s not checked (%s)", ctx.campaign_id, ctx.caller, exc)
            return VoteResult(False, None, unavailable=True)
        except Exception:
            log.exception("vote not stored")
            return VoteResult(False, None, unavailable=True)
        return VoteResult(outcome.accepted, outcome.previous, pending=outcome.deferred)

    async def redeem_code(self, ctx: EffectContext, pool: str, code: str, named: bool = False) -> CodeResult:
        try:
            status = await self.store.redeem_code(campaign_id=ctx.campaign_id, pool=pool, code=code,
                                                  caller=ctx.caller, channel=ctx.channel, call_id=ctx.call_id,
                                                  named=named)
        except Exception:
            log.exception("code not checked")
            return CodeResult("unavailable")
        return CodeResult(status)

    async def issue_code(self, ctx: EffectContext, pool: str, sms: IssuedSms | None = None) -> IssueResult:
        try:
            issued = await self.store.issue_code(campaign_id=ctx.campaign_id, pool=pool, caller=ctx.caller,
                                                 channel=ctx.channel, call_id=ctx.call_id)
        except Exception:
            log.exception("code not issued")
            return IssueResult("unavailable")
        if sms is not None and issued.code and issued.status in ("issued", "again"):
            await self._send_issued(ctx, pool, sms, issued.code)
        return IssueResult(issued.status, issued.code)

    async def _send_issued(self, ctx: EffectContext, pool: str, sms: IssuedSms, code: str) -> None:
        """Queue the SMS with the caller's code, keyed by campaign, pool and caller: it is queued once however
        often the caller is given the code (asked again, the one queued before stands), so a caller whose first
        message could not be queued gets it at their next call."""
        if self.sms_route is None or not sms.sender or not CALLER_NUMBER.fullmatch(ctx.caller):
            log.warning("issued code of %s not sent by SMS (no SMS route, number or caller number)", ctx.caller)
            return
        message = outbound(number=sms.sender, recipient=ctx.caller, text=sms.text(code), kind="notify",
                           route=self.sms_route, campaign_id=ctx.campaign_id, session_id=ctx.call_id,
                           key=f"issued:{ctx.campaign_id}:{pool}:{ctx.caller}")
        try:
            await self.store.sms_enqueue([message])
        except Exception:
            log.exception("SMS with the issued code of %s not queued", ctx.caller)
            return
        self.sms_wake()

    async def store_outcome(self, ctx: EffectContext, kind: str, name: str, value: str) -> None:
        await self.store.record_outcome(call_id=ctx.call_id, campaign_id=ctx.campaign_id, caller=ctx.caller,
                                        channel=ctx.channel, kind=kind, name=name, value=value)
