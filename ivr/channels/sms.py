"""The SMS channel: the same campaign flow, driven by text messages.

Each inbound message resumes the caller's conversation on that short number (state kept in the
store between messages), runs the flow until it waits for the next message or ends, and returns the
reply texts. A message id seen before is not processed again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from ivr.flow.interpreter import EFFECTS, End, FlowSession, Listen, Say, StoreOutcome, Text
from ivr.flow.model import Campaign

from .effects import CampaignServices, EffectContext, run_effect


@dataclass
class SmsReply:
    session_id: str | None
    replies: list[str]
    duplicate: bool = False
    campaign_id: str | None = None


async def converse(session: FlowSession, text: str | None, services: CampaignServices,
                   ctx: EffectContext) -> list[str]:
    """Feed one message (None starts the conversation); returns what to send back."""
    replies: list[str] = []
    pending = list(session.start() if text is None else session.feed(Text(text)))
    while pending:
        action = pending.pop(0)
        if isinstance(action, Say):
            replies += [p.text for p in action.parts if p.text]
        elif isinstance(action, (Listen, End)):
            break
        elif isinstance(action, StoreOutcome):
            await run_effect(action, services, ctx)
        elif isinstance(action, EFFECTS):
            result = await run_effect(action, services, ctx)
            if result is not None:
                pending = list(session.feed(result))
    return replies


class SmsGateway:
    """Inbound SMS → campaign flow → replies, with sessions kept in the store."""

    def __init__(self, campaigns, store, services: CampaignServices) -> None:
        self.campaigns = campaigns
        self.store = store
        self.services = services

    async def inbound(self, message_id: str, sender: str, number: str, text: str) -> SmsReply:
        campaign: Campaign | None = self.campaigns.for_sms_number(number)
        if campaign is None:
            raise LookupError(f"no campaign on SMS number {number}")
        new, saved = await self.store.sms_claim(message_id=message_id, number=number, caller=sender, text=text)
        if not new:
            return SmsReply(None, [], duplicate=True, campaign_id=campaign.id)
        if saved is not None and saved["campaign_id"] == campaign.id:
            session_id = saved["session_id"]
            session = FlowSession.from_state(campaign, saved["state"])
            session.now = datetime.now(timezone.utc)
            first_text: str | None = text
        else:
            session_id = uuid.uuid4().hex
            variables = {}
            if campaign.limits.get("sessions_per_caller_per_day"):
                variables = {"caller": {"sessions_today": await self.store.sessions_today(campaign.id, sender)}}
            session = FlowSession(campaign, "sms", sender, number, now=datetime.now(timezone.utc),
                                  variables=variables)
            first_text = None
            self.store.call_started(call_id=session_id, caller=sender, number=number, campaign_id=campaign.id,
                                    channel="sms", at=session.now)
        ctx = EffectContext(session_id, campaign.id, sender, "sms")
        replies = await converse(session, first_text, self.services, ctx)
        if first_text is None and session.awaiting == "input" and text.strip():
            # The first message usually is the answer already ("1" to vote): try it on the first
            # question; if it does not fit, the caller gets the welcome and the question instead.
            question = session.current
            answered = await converse(session, text, self.services, ctx)
            if session.finished or session.current != question:
                replies = answered
            else:
                session.attempt = 0
        for event in session.drain_events():
            self.store.event(session_id, event.kind, event.data, datetime.now(timezone.utc))
        if session.finished:
            self.store.call_ended(call_id=session_id, at=datetime.now(timezone.utc), disposition="completed",
                                  cause=session.end_reason or "completed", path=session.path)
        await self.store.sms_save(session_id=session_id, number=number, caller=sender, campaign_id=campaign.id,
                                  state=None if session.finished else session.to_state(), replies=replies)
        return SmsReply(session_id, replies, campaign_id=campaign.id)
