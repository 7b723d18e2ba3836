"""Winner draws of a campaign: what an entry is (its `draw:` header), freezing the entries, drawing, checking.

The algorithm is `ivr.flow.draw`; the store keeps the frozen entries, their hash, the seed and the winners.
Drawing reads every entry's caller and runs off the event loop (a million entries take about a second).
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import datetime

from ivr.channels.sms_outbox import outbound
from ivr.flow import templates
from ivr.flow.draw import DrawError, Entry, Winner, draw, entries_sha256
from ivr.flow.model import Campaign
from ivr.i18n import t
from ivr.store import Actor, Conflict, Draw, Notice, Rule, Store

MAX_WINNERS = 10_000
MAX_NOTICE = 480                 # characters of a winner's message template (three SMS parts of GSM text)
NOTICE_TAGS = ("place", "caller", "value", "campaign", "draw")     # what a winner's message may name: {{place}}
# What a draw refuses, in words.
MESSAGES = {
    "no_rule": t("the campaign file says nothing of draws: add draw: {{entries: ...}} (docs/dialplans.md)"),
    "winners": t("winners must be a number from 1 to {most}", most=MAX_WINNERS),
    "seed": t("seed must be text of 1 to 200 characters (or leave it out: the server picks one)"),
    "drawn": lambda draw: t("draw {draw} was drawn already: a draw is drawn once (freeze a new one)", draw=draw),
    "text": t("the winners' message must be text of 1 to {most} characters", most=MAX_NOTICE),
    "tags": lambda tags: t("the winners' message may name only {tags}", tags=", ".join(f"{{{{{n}}}}}" for n in tags)),
    "no_number": lambda campaign: t("campaign {campaign!r} has no SMS number to send the winners' message from "
                                    "(numbers: {{sms: [...]}})", campaign=campaign),
    "no_route": t("this node cannot send SMS (it runs without --smsc or --sms-outbound)"),
}


def check_notice(text: object) -> str:
    """The winners' message template, checked (DrawError says what is wrong)."""
    if not isinstance(text, str) or not 1 <= len(text.strip()) <= MAX_NOTICE:
        raise DrawError(MESSAGES["text"])
    if any(name not in NOTICE_TAGS for name in templates.names(text)):
        raise DrawError(MESSAGES["tags"](NOTICE_TAGS))
    return text.strip()


def check_sender(campaign: Campaign, text: object, route: str | None) -> str:
    """The checked message template, once the campaign has a number to send it from and the node a route."""
    checked = check_notice(text)
    if not campaign.sms_numbers:
        raise DrawError(MESSAGES["no_number"](campaign.id))
    if route is None:
        raise DrawError(MESSAGES["no_route"])
    return checked


async def notify(store: Store, tenant_id: str | None, campaign: Campaign, draw_id: str, text: str,
                 route: str | None, actor: Actor | None = None) -> list[Notice]:
    """Send each winner of a drawn draw `text` by SMS (from the campaign's first SMS number), through the
    outbox: once per winner however often asked; winners who opted out are not messaged ("blocked")."""
    text = check_sender(campaign, text, route)
    sender = campaign.sms_numbers[0]
    won = await store.draw_winners(tenant_id, campaign.id, draw_id)
    messages = [(winner, outbound(
        number=sender, recipient=winner.caller, kind="notify", route=route, campaign_id=campaign.id,
        key=f"draw:{draw_id}:{winner.place}",
        text=templates.render(text, {"place": winner.place, "caller": winner.caller, "value": entry.value or "",
                                     "campaign": campaign.name, "draw": draw_id})))
        for winner, entry in won]
    return await store.notify_draw_winners(tenant_id, campaign.id, draw_id, messages, actor)


def rule_of(campaign: Campaign) -> Rule:
    """What one entry of the campaign's draws is, from its `draw:` header (DrawError without one)."""
    header = campaign.draw
    if not header:
        raise DrawError(MESSAGES["no_rule"])
    entries = header["entries"]
    per_caller = int(header.get("prizes_per_caller", 1))
    if "code" in entries:
        return Rule("code", entries["code"], None, per_caller)
    if "issued" in entries:
        return Rule("issued", entries["issued"], None, per_caller)
    if "vote" in entries:
        return Rule("vote", entries["vote"], entries.get("choice"), per_caller)
    return Rule("answer", entries["answer"], entries.get("value"), per_caller)


async def freeze(store: Store, tenant_id: str | None, campaign: Campaign, since: datetime | None = None,
                 until: datetime | None = None, actor: Actor | None = None) -> Draw:
    """Freeze the campaign's entries (made in [since, until)) as a new draw; its hash is in the answer."""
    return await store.freeze_draw(tenant_id, campaign.id, rule_of(campaign), since, until, actor)


async def run(store: Store, tenant_id: str | None, campaign_id: str, draw_id: str, winners: int,
              seed: str | None = None, actor: Actor | None = None) -> Draw:
    """Draw `winners` of a frozen draw with `seed` (None: a random one, recorded) and keep them, once."""
    if not 1 <= winners <= MAX_WINNERS:
        raise DrawError(MESSAGES["winners"])
    if seed is None:
        seed = secrets.token_hex(16)
    if not 1 <= len(seed) <= 200:
        raise DrawError(MESSAGES["seed"])
    callers, frozen = await store.draw_callers(tenant_id, campaign_id, draw_id)
    if frozen.state != "frozen":
        raise Conflict(MESSAGES["drawn"](draw_id))
    per_caller = int(frozen.rule.get("per_caller", 1))
    chosen = await asyncio.to_thread(draw, callers, frozen.entries_sha256, seed, winners, per_caller)
    return await store.save_draw_winners(tenant_id, campaign_id, draw_id, seed, winners, chosen, actor)


@dataclass(frozen=True)
class Verdict:
    """A draw checked again from its stored entries: their hash now, and the winners they give now."""

    entries_sha256: str
    hash_matches: bool
    winners: list[Winner]
    winners_match: bool

    @property
    def ok(self) -> bool:
        return self.hash_matches and self.winners_match


async def verify(store: Store, tenant_id: str | None, campaign_id: str, draw_id: str) -> Verdict:
    """Hash the stored entries again and, for a drawn draw, draw again with its seed."""
    stored = await store.draw(tenant_id, campaign_id, draw_id)
    entries = [entry async for entry in store.draw_entries(tenant_id, campaign_id, draw_id)]
    return await asyncio.to_thread(_check, stored, entries)


def _check(stored: Draw, entries: list[Entry]) -> Verdict:
    sha256 = entries_sha256(entries)
    again: list[Winner] = []
    if stored.seed is not None and stored.winners_wanted:
        again = draw([e.caller for e in entries], sha256, stored.seed, stored.winners_wanted,
                     int(stored.rule.get("per_caller", 1)))
    return Verdict(sha256, sha256 == stored.entries_sha256, again, again == stored.winners)
