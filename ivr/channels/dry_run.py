"""A dry run: the simulator with the channels' effects: votes, codes and outcomes kept in memory, webhooks over
real HTTP (a `WebhookClient`, private targets refused unless it allows them) or a stand-in. The script
handling itself is `ivr.flow.simulator`, free of I/O."""

from __future__ import annotations

from typing import Any

from ivr.flow.events import Action, InputEvent
from ivr.flow.model import Campaign
from ivr.flow.simulator import Transcript, simulate as simulate_script

from .caller_id import DEFAULT_REGION, normalize
from .effects import EffectContext, InMemoryServices, run_effect
from .webhooks import HttpCall, WebhookClient


async def dry_run(campaign: Campaign, channel: str, inputs: list[str], caller: str = "+15550001",
                   language: str | None = None, services: InMemoryServices | None = None,
                   http: HttpCall | None = None, **options: Any) -> Transcript:
    """Run `campaign` on `channel` with scripted `inputs` (see `ivr.flow.simulator.parse_input`); webhooks
    go through `http` (default: a `WebhookClient` signing with the campaign's secret)."""
    services = services or InMemoryServices(http=http or WebhookClient(secret=campaign.webhook_secret))
    await services.prepare([campaign])
    identity = normalize(caller, campaign.region or DEFAULT_REGION)        # "anonymous": refused at votes
    caller = identity.key
    context = EffectContext("simulated", campaign.id, caller, channel)
    known = {**await services.caller_variables(campaign, caller), **identity.variables()}

    async def effects(action: Action) -> InputEvent | None:
        return await run_effect(action, services, context)
    return await simulate_script(campaign, channel, inputs, effects, caller=caller, language=language,
                                 variables={"caller": known}, **options)
