"""Winner draws of a campaign: what an entry is (its `draw:` header), freezing the entries, drawing, checking.

The algorithm is `ivr.flow.draw`; the store keeps the frozen entries, their hash, the seed and the winners.
Drawing reads every entry's caller and runs off the event loop (a million entries take about a second).
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import datetime

from ivr.flow.draw import DrawError, Entry, Winner, draw, entries_sha256
from ivr.flow.model import Campaign
from ivr.i18n import t
from ivr.store import Actor, Conflict, Draw, Rule, Store

MAX_WINNERS = 10_000
# What a draw refuses, in words.
MESSAGES = {
    "no_rule": t("the campaign file says nothing of draws: add draw: {{entries: ...}} (docs/dialplans.md)"),
    "winners": t("winners must be a number from 1 to {most}", most=MAX_WINNERS),
    "seed": t("seed must be text of 1 to 200 characters (or leave it out: the server picks one)"),
    "drawn": lambda draw: t("draw {draw} was drawn already: a draw is drawn once (freeze a new one)", draw=draw),
}


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
