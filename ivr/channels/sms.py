"""The SMS channel: the same campaign flow, driven by text messages.

`SmsConversation` adapts a `FlowSession` to texts: `Say` becomes a reply, `Listen` means "stop and wait
for the next message" (its timeout is the reminder delay: the runtime calls `on_timeout()` when it has
passed and sends what that returns), effects run through `run_effect`. The message that opens a
conversation is also tried as the answer to the first question: texting "2" to a vote number votes at
once, while "hello" gets the welcome and the question. A conversation is saved between messages with
`to_state()` and resumed with `from_state()`.

`SmsGateway` is the runtime behind the HTTP endpoint: it finds the campaign by short number, keeps
conversations in the store (a message id seen before is not processed again) and writes the timeline.
A conversation waiting for an answer is due for its reminder `reminder_after` seconds after the last
message; `remind_due()` (called periodically) feeds those conversations a no-input and returns the
texts to send: the ask's `reminder`, or, once its retries are used up, the flow's `noinput` way out.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from ivr.flow.events import EFFECTS, Action, End, Listen, NoInput, Say, StoreOutcome, Text
from ivr.flow.interpreter import FlowError, FlowSession
from ivr.flow.model import Campaign

from .effects import CampaignServices, EffectContext, run_effect

log = logging.getLogger(__name__)


class SmsConversation:
    """One caller's conversation with a campaign on an SMS short number."""

    def __init__(self, session: FlowSession, services: CampaignServices, context: EffectContext,
                 opened: bool = False, reminder_after: float | None = None) -> None:
        self.session = session
        self.services = services
        self.context = context
        self.opened = opened
        self.reminder_after = reminder_after     # seconds to wait before `on_timeout`; None: nothing awaited

    @classmethod
    def open(cls, campaign: Campaign, services: CampaignServices, caller: str, number: str,
             session_id: str | None = None, now: datetime | None = None,
             variables: dict[str, Any] | None = None) -> "SmsConversation":
        """A new conversation (the first message still has to be handled)."""
        session = FlowSession(campaign, "sms", caller, number, now=now, variables=variables)
        return cls(session, services, EffectContext(session_id or uuid.uuid4().hex, campaign.id, caller, "sms"))

    @property
    def finished(self) -> bool:
        return self.session.finished

    async def handle(self, text: str) -> list[str]:
        """One inbound message; returns the reply texts."""
        if not self.opened:
            self.opened = True
            replies = await self._run(self.session.start())
            if text.strip() and self.session.accepts(Text(text)):
                replies = await self._run(self.session.feed(Text(text)))
            return replies
        if self.finished:
            return []
        return await self._run(self.session.feed(Text(text)))

    async def on_timeout(self) -> list[str]:
        """The reminder delay passed without a message: the reminder (or the flow's way out)."""
        if self.finished or self.reminder_after is None:
            return []
        return await self._run(self.session.feed(NoInput()))

    async def _run(self, actions: list[Action]) -> list[str]:
        replies: list[str] = []
        self.reminder_after = None
        pending = list(actions)
        while pending:
            action = pending.pop(0)
            if isinstance(action, Say):
                replies += [part.text for part in action.parts if part.text]
            elif isinstance(action, Listen):
                self.reminder_after = action.spec.timeout
            elif isinstance(action, End):
                break
            elif isinstance(action, StoreOutcome):
                await run_effect(action, self.services, self.context)
            elif isinstance(action, EFFECTS):
                result = await run_effect(action, self.services, self.context)
                pending = list(self.session.feed(result)) if result is not None else []
        return replies

    def to_state(self) -> dict[str, Any]:
        """Plain JSON to keep between messages."""
        return {"session": self.session.to_state(), "context": asdict(self.context), "opened": self.opened,
                "reminder_after": self.reminder_after}

    @classmethod
    def from_state(cls, campaign: Campaign, state: dict[str, Any], services: CampaignServices) -> "SmsConversation":
        """Resume; FlowError or KeyError when the state does not fit the campaign (start a new one then)."""
        return cls(FlowSession.from_state(campaign, state["session"]), services, EffectContext(**state["context"]),
                   state["opened"], state["reminder_after"])


@dataclass
class SmsReply:
    session_id: str | None
    replies: list[str]
    duplicate: bool = False
    campaign_id: str | None = None
    number: str = ""             # the short number the replies are sent from
    caller: str = ""             # and the caller they go to


class SmsGateway:
    """Inbound SMS → campaign flow → replies, with conversations kept in the store."""

    def __init__(self, campaigns: Any, store: Any, services: CampaignServices) -> None:
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
        conversation = self._resume(campaign, saved) or await self._open(campaign, sender, number)
        replies = await conversation.handle(text)
        return await self._save(conversation, campaign, number, sender, replies)

    async def remind_due(self, now: datetime | None = None) -> list[SmsReply]:
        """Conversations whose reminder delay has passed: each gets its no-input turn, once."""
        out = []
        for saved in await self.store.sms_due(now):
            campaign = self.campaigns.for_sms_number(saved["number"])
            conversation = self._resume(campaign, saved) if campaign is not None else None
            if conversation is None:
                continue
            replies = await conversation.on_timeout()
            out.append(await self._save(conversation, campaign, saved["number"], saved["caller"], replies))
        return out

    async def _save(self, conversation: SmsConversation, campaign: Campaign, number: str, caller: str,
                    replies: list[str]) -> SmsReply:
        """Write the turn's timeline and the conversation (or its end); the replies to send."""
        session_id = conversation.context.call_id
        now = datetime.now(timezone.utc)
        for event in conversation.session.drain_events():
            self.store.event(session_id, event.kind, event.data, now)
        if conversation.finished:
            self.store.call_ended(call_id=session_id, at=now, disposition="completed",
                                  cause=conversation.session.end_reason or "completed",
                                  path=conversation.session.path)
        waiting = not conversation.finished and conversation.reminder_after is not None
        await self.store.sms_save(session_id=session_id, number=number, caller=caller, campaign_id=campaign.id,
                                  state=None if conversation.finished else conversation.to_state(), replies=replies,
                                  due_at=now + timedelta(seconds=conversation.reminder_after) if waiting else None)
        return SmsReply(session_id, replies, campaign_id=campaign.id, number=number, caller=caller)

    def _resume(self, campaign: Campaign, saved: dict[str, Any] | None) -> SmsConversation | None:
        if saved is None or saved["campaign_id"] != campaign.id or not saved.get("state"):
            return None
        try:
            return SmsConversation.from_state(campaign, saved["state"], self.services)
        except (FlowError, KeyError, TypeError) as exc:
            log.info("SMS session %s not resumed (%s): starting again", saved.get("session_id"), exc)
            return None

    async def _open(self, campaign: Campaign, sender: str, number: str) -> SmsConversation:
        known = await self.services.caller_variables(campaign, sender)
        conversation = SmsConversation.open(campaign, self.services, sender, number,
                                            now=datetime.now(timezone.utc), variables={"caller": known})
        deployed = self.campaigns.deployed(campaign.id)
        self.store.call_started(call_id=conversation.context.call_id, caller=sender, number=number,
                                campaign_id=campaign.id, channel="sms", at=conversation.session.now,
                                version=deployed.version if deployed else None)
        return conversation
