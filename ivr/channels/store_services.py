"""Campaign services backed by the statistics store: the voice and SMS channels' real effects."""

from __future__ import annotations

import logging
from typing import Any

from ivr.flow.interpreter import CodeResult, IssueResult, VoteResult
from ivr.flow.model import Campaign, caller_facts, vote_names
from ivr.store.db import Store

from .effects import EffectContext
from .mailer import Mailer
from .webhooks import HttpCall, WebhookClient

log = logging.getLogger(__name__)


class StoreServices:
    def __init__(self, store: Store, mailer: Mailer | None = None, http: HttpCall | None = None) -> None:
        self.store = store
        self.mailer = mailer
        self.http = http or WebhookClient()

    async def send_email(self, to: str, subject: str, text: str) -> bool:
        if self.mailer is None:
            log.warning("no SMTP relay configured (--smtp): e-mail to %s not sent", to)
            return False
        return await self.mailer.send(to, subject, text)

    async def prepare(self, campaigns: list[Campaign]) -> None:
        for campaign in campaigns:
            for pool, codes in campaign.code_pools.items():
                await self.store.load_code_pool(campaign.id, pool, codes)

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

    async def cast_vote(self, ctx: EffectContext, name: str, choice: str, window: str) -> VoteResult:
        try:
            accepted, previous = await self.store.cast_vote(
                campaign_id=ctx.campaign_id, name=name, caller=ctx.caller, choice=choice, window=window,
                channel=ctx.channel, call_id=ctx.call_id)
        except Exception:
            log.exception("vote not stored")
            return VoteResult(False, None, unavailable=True)
        return VoteResult(accepted, previous)

    async def redeem_code(self, ctx: EffectContext, pool: str, code: str, named: bool = False) -> CodeResult:
        try:
            status = await self.store.redeem_code(campaign_id=ctx.campaign_id, pool=pool, code=code,
                                                  caller=ctx.caller, channel=ctx.channel, call_id=ctx.call_id,
                                                  named=named)
        except Exception:
            log.exception("code not checked")
            return CodeResult("unavailable")
        return CodeResult(status)

    async def issue_code(self, ctx: EffectContext, pool: str) -> IssueResult:
        try:
            issued = await self.store.issue_code(campaign_id=ctx.campaign_id, pool=pool, caller=ctx.caller,
                                                 channel=ctx.channel, call_id=ctx.call_id)
        except Exception:
            log.exception("code not issued")
            return IssueResult("unavailable")
        return IssueResult(issued.status, issued.code)

    async def store_outcome(self, ctx: EffectContext, kind: str, name: str, value: str) -> None:
        await self.store.record_outcome(call_id=ctx.call_id, campaign_id=ctx.campaign_id, caller=ctx.caller,
                                        channel=ctx.channel, kind=kind, name=name, value=value)
