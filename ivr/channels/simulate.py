"""The simulator with the channels' effects: votes, codes and outcomes kept in memory, webhooks over
real HTTP (or a stand-in). The script handling itself is `ivr.flow.simulate`, free of I/O."""

from __future__ import annotations

from typing import Any

from ivr.flow.events import Action, InputEvent
from ivr.flow.model import Campaign
from ivr.flow.simulate import Transcript, simulate as simulate_script

from .effects import EffectContext, HttpCall, InMemoryServices, http_call, run_effect


async def simulate(campaign: Campaign, channel: str, inputs: list[str], caller: str = "+15550001",
                   language: str | None = None, services: InMemoryServices | None = None,
                   http: HttpCall = http_call, **options: Any) -> Transcript:
    """Run `campaign` on `channel` with scripted `inputs` (see `ivr.flow.simulate.parse_input`)."""
    services = services or InMemoryServices()
    await services.prepare([campaign])
    context = EffectContext("simulated", campaign.id, caller, channel)

    async def effects(action: Action) -> InputEvent | None:
        return await run_effect(action, services, context, http)
    return await simulate_script(campaign, channel, inputs, effects, caller=caller, language=language, **options)
