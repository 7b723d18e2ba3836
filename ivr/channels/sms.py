"""The SMS channel: the same campaign flow, driven by text messages.

`SmsConversation` adapts a `FlowSession` to texts: `Say` becomes a reply, `Listen` means "stop and wait
for the next message" (its timeout is the reminder delay: the runtime calls `on_timeout()` when it has
passed and sends what that returns), effects run through `run_effect`. The message that opens a
conversation is also tried as the answer to the first question: texting "2" to a vote number votes at
once, while "hello" gets the welcome and the question. A conversation is saved between messages with
`to_state()` and resumed with `from_state()`.

`SmsGateway` is the runtime behind the HTTP gateway and the SMPP links alike: it normalises the sender
(`caller_id.normalize`, in the region of the number's campaign, else the node's), finds the campaign by
short number and first word (keywords), handles opt-out (STOP / START and the campaigns' own words), keeps
conversations in the store (a message id seen before is not processed again), writes the timeline, and
queues the replies in the store's outbox in the same transaction as the conversation's state (see
`sms_outbox`). A conversation waiting for an answer is due for its reminder `reminder_after` seconds
after the last message; `remind_due()` (called periodically) feeds those conversations a no-input and
queues what that returns: the ask's `reminder`, or, once its retries are used up, the flow's `noinput`
way out. Every message to a sender who opted out is kept as "blocked", never sent.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from ivr.flow.events import EFFECTS, Action, End, Listen, NoInput, Notify, NotifyResult, Say, StoreOutcome, Text
from ivr.flow.interpreter import FlowError, FlowSession
from ivr.flow.model import Campaign, localized
from ivr.flow.templates import render

from .caller_id import CallerId, IdentitySettings, normalize
from .effects import CampaignServices, EffectContext, run_effect
from .sms_outbox import ROUTE_RESPONSE, outbound

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
            elif isinstance(action, Notify) and action.method == "sms" and action.target == "caller":
                if action.text not in replies:           # on SMS the notice to the caller is the reply itself
                    replies.append(action.text)
                pending = list(self.session.feed(NotifyResult(True)))
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


STOP_WORDS = ("stop", "стоп")
START_WORDS = ("start", "старт")
OPT_TEXTS = {
    "optout": {"uk": "Ви відписалися від повідомлень номера {{short_number}}. Щоб підписатися знову, надішліть START.",
               "ru": "Вы отписались от сообщений номера {{short_number}}. Чтобы подписаться снова, отправьте START.",
               "en": "You are unsubscribed from messages of {{short_number}}. To subscribe again, send START."},
    "optin": {"uk": "Ви знову отримуватимете повідомлення номера {{short_number}}. Щоб відписатися, надішліть STOP.",
              "ru": "Вы снова будете получать сообщения номера {{short_number}}. Чтобы отписаться, отправьте STOP.",
              "en": "You will receive messages of {{short_number}} again. To unsubscribe, send STOP."},
}


@dataclass
class SmsReply:
    session_id: str | None
    replies: list[str]               # the texts queued for the sender (blocked ones left out)
    duplicate: bool = False
    campaign_id: str | None = None
    number: str = ""                 # the short number the replies are sent from
    caller: str = ""                 # and the caller they go to
    ids: list[str] = field(default_factory=list)   # the outbox ids of the replies


# Latin letters that look like Cyrillic ones: "CTOП" typed with a Latin C, T and O is still СТОП.
LOOKALIKES = str.maketrans("aceopxykmhtb", "асеорхукмнтв")


def first_word(text: str) -> tuple[str, str]:
    """("vote", "3") for "VOTE 3": the first word in lower case (punctuation around it dropped), the rest."""
    word, _, rest = text.strip().partition(" ")
    return word.strip(".,!?;:\"'«»").lower(), rest.strip()


def folded(word: str) -> str:
    """A word compared with opt-out words: lower case, Latin look-alikes as Cyrillic."""
    return word.lower().translate(LOOKALIKES)


class SmsGateway:
    """Inbound SMS → campaign flow → replies in the outbox, with conversations kept in the store."""

    def __init__(self, campaigns: Any, store: Any, services: CampaignServices, default_route: str | None = None,
                 wake: Callable[[], None] = lambda: None, http_route: str = ROUTE_RESPONSE,
                 identity: IdentitySettings = IdentitySettings()) -> None:
        self.campaigns = campaigns
        self.store = store
        self.services = services
        self.default_route = default_route      # how reminders and notices go out: smpp, http or None (they cannot)
        self.http_route = http_route            # how replies to the HTTP gateway go: http (POSTed) or response
        self.wake = wake                        # tells the outbox dispatcher something was queued
        self.identity = identity                # the node's region for senders in national form

    async def inbound(self, message_id: str, sender: str, number: str, text: str,
                      route: str = ROUTE_RESPONSE, operator: str | None = None) -> SmsReply:
        """One message from `sender` (as the operator gave it) to a short number; its replies go back by
        `route` (smpp, http, or response: in the HTTP gateway's answer). LookupError when no campaign
        answers on the number. The message is charged to the campaign it goes to as it is claimed;
        `operator`: the mobile operator of the SMSC link it came on, when known (else the store's prefix
        table decides)."""
        campaigns = self.campaigns.sms_campaigns(number)
        if not campaigns:
            raise LookupError(f"no campaign on SMS number {number}")
        caller = normalize(sender, campaigns[0].region or self.identity.region)
        word, rest = first_word(text)
        picked = self.campaigns.sms_keywords(number).get(word)

        def campaign_of(saved_campaign: str | None) -> Campaign | None:
            """Where the message goes: its keyword's campaign, else its conversation's, else the number's
            (decided in the claim's transaction, with the conversation saved there, so it is charged there)."""
            if picked is not None:
                return picked
            current = self.campaigns.running(saved_campaign) if saved_campaign else None
            return current if current in campaigns else self.campaigns.for_sms_number(number)
        new, saved = await self.store.sms_claim(
            message_id=message_id, number=number, caller=caller.key, text=text, caller_raw=caller.raw,
            campaign_id=lambda saved_campaign: getattr(campaign_of(saved_campaign), "id", None), operator=operator)
        if not new:
            return SmsReply(None, [], duplicate=True, campaign_id=campaigns[0].id)
        optout = await self._opt(word, caller.key, number, campaigns, route)
        if optout is not None:
            return optout
        campaign = campaign_of(saved["campaign_id"] if saved else None)
        if campaign is None:
            raise LookupError(f"no campaign on SMS number {number} takes {word!r}")
        if picked is not None:
            text = rest
        conversation = self._resume(campaign, saved) or await self._open(campaign, caller, number)
        replies = await conversation.handle(text)
        return await self._save(conversation, campaign, number, caller.key, replies, route)

    async def remind_due(self, now: datetime | None = None) -> list[SmsReply]:
        """Conversations whose reminder delay has passed: each gets its no-input turn, once."""
        out = []
        for saved in await self.store.sms_due(now):
            campaign = self.campaigns.running(saved["campaign_id"])
            conversation = self._resume(campaign, saved) if campaign is not None else None
            if conversation is None:
                continue
            replies = await conversation.on_timeout()
            out.append(await self._save(conversation, campaign, saved["number"], saved["caller"], replies,
                                        self.default_route or ROUTE_RESPONSE))
        return out

    async def _opt(self, word: str, sender: str, number: str, campaigns: list[Campaign],
                   route: str) -> SmsReply | None:
        """STOP (or a campaign's stop word) puts the sender on the number's block list, START takes them
        off; each confirmed once. None when the message is neither."""
        settings = [c.source.get("sms") or {} for c in campaigns]
        stop = {folded(w) for w in (*STOP_WORDS, *(w for s in settings for w in s.get("stop_words", [])))}
        start = {folded(w) for w in (*START_WORDS, *(w for s in settings for w in s.get("start_words", [])))}
        if folded(word) not in stop | start:
            return None
        kind = "optout" if folded(word) in stop else "optin"
        if kind == "optout":
            changed = await self.store.sms_opt_out(number=number, caller=sender, word=word)
        else:
            changed = await self.store.sms_opt_in(number=number, caller=sender)
        log.info("SMS %s on %s: %s%s", kind, number, sender, "" if changed else " (again)")
        if not changed:
            return SmsReply(None, [], campaign_id=campaigns[0].id, number=number, caller=sender)
        campaign = campaigns[0]
        language = campaign.number_language("sms", number)
        own = (campaign.source.get("sms") or {}).get("stop_text" if kind == "optout" else "start_text")
        text = localized(own, language, campaign.default_language) if own else None
        if text is None:
            texts = OPT_TEXTS[kind]
            text = texts.get(language, texts["uk" if language in ("uk", "ru") else "en"])
        text = render(text, {"short_number": number})
        message = outbound(number=number, recipient=sender, text=text, kind=kind, route=route,
                           campaign_id=campaign.id)
        states = await self.store.sms_enqueue([message])
        self.wake()
        return SmsReply(None, [text] if states == ["queued"] or route == ROUTE_RESPONSE else [],
                        campaign_id=campaign.id, number=number, caller=sender, ids=[message.id])

    async def _save(self, conversation: SmsConversation, campaign: Campaign, number: str, caller: str,
                    replies: list[str], route: str) -> SmsReply:
        """Write the turn's timeline and the conversation (or its end), and queue the replies."""
        session_id = conversation.context.call_id
        now = datetime.now(timezone.utc)
        for event in conversation.session.drain_events():
            self.store.event(session_id, event.kind, event.data, now)
        if conversation.finished:
            self.store.call_ended(call_id=session_id, at=now, disposition="completed",
                                  cause=conversation.session.end_reason or "completed",
                                  path=conversation.session.path)
        waiting = not conversation.finished and conversation.reminder_after is not None
        messages = [outbound(number=number, recipient=caller, text=text, kind="reply", route=route,
                             campaign_id=campaign.id, session_id=session_id) for text in replies]
        states = await self.store.sms_save(
            session_id=session_id, number=number, caller=caller, campaign_id=campaign.id,
            state=None if conversation.finished else conversation.to_state(), replies=messages,
            due_at=now + timedelta(seconds=conversation.reminder_after) if waiting else None)
        if messages and route != ROUTE_RESPONSE:
            self.wake()
        sent = [m for m, state in zip(messages, states) if state != "blocked"]
        return SmsReply(session_id, [m.text for m in sent], campaign_id=campaign.id, number=number, caller=caller,
                        ids=[m.id for m in sent])

    def _resume(self, campaign: Campaign, saved: dict[str, Any] | None) -> SmsConversation | None:
        if saved is None or saved["campaign_id"] != campaign.id or not saved.get("state"):
            return None
        try:
            return SmsConversation.from_state(campaign, saved["state"], self.services)
        except (FlowError, KeyError, TypeError) as exc:
            log.info("SMS session %s not resumed (%s): starting again", saved.get("session_id"), exc)
            return None

    async def _open(self, campaign: Campaign, caller: CallerId, number: str) -> SmsConversation:
        known = await self.services.caller_variables(campaign, caller.key)
        conversation = SmsConversation.open(campaign, self.services, caller.key, number,
                                            now=datetime.now(timezone.utc),
                                            variables={"caller": {**known, **caller.variables()}})
        deployed = self.campaigns.deployed(campaign.id)
        self.store.call_started(call_id=conversation.context.call_id, caller=caller.key, number=number,
                                campaign_id=campaign.id, channel="sms", at=conversation.session.now,
                                caller_raw=caller.raw, version=deployed.version if deployed else None)
        return conversation

