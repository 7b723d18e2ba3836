"""What the HTTP side may see of an engine and ask of it: `EngineView`.

The web app reads health, live calls and metrics, uses the campaign registry, the prompt store and the
campaign services, and asks for campaigns to be prepared or refreshed, all through this one narrow object,
never through the engine's user agent, media clock or call table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ivr.channels.caller_id import IdentitySettings
from ivr.channels.effects import CampaignServices
from ivr.flow.model import Campaign
from ivr.flow.validate import Issue
from ivr.media.voice_pack import TenantPacks

from .campaign_prompts import CachedPrompts
from .campaigns import CampaignRegistry
from .metrics import NodeStatus, node_status

if TYPE_CHECKING:
    from .engine import Engine


@dataclass(frozen=True)
class LiveCall:
    """A call in progress, as operators see it."""

    call_id: str
    caller: str
    number: str
    campaign_id: str
    tenant_id: str | None          # the campaign's owner (None: a campaign from a file, or no campaign)
    version: int | None
    seconds: float                 # since the INVITE
    answered: bool
    node: str | None               # where the flow is


class EngineView:
    """A read-mostly window on one engine."""

    def __init__(self, engine: "Engine") -> None:
        self._engine = engine

    @property
    def ready(self) -> bool:
        return self._engine.ready

    @property
    def draining(self) -> bool:
        return self._engine.draining

    @property
    def campaigns(self) -> CampaignRegistry:
        return self._engine.campaigns

    @property
    def prompts(self) -> CachedPrompts:
        return self._engine.prompts

    @property
    def services(self) -> CampaignServices:
        return self._engine.services

    @property
    def voice_packs(self) -> TenantPacks:
        """The voice packs businesses upload (`voice_pack.TenantPacks`)."""
        return self._engine.voice_packs

    async def remake_prompts(self, tenant_id: str) -> None:
        """Make again what the tenant's campaigns in service play (after a change of one of its voice packs:
        prompts of the pack's old version are not played again)."""
        campaigns = self._engine.campaigns.of_tenant(tenant_id)
        if campaigns:
            await self._engine.prompts.prepare(campaigns, tenant_id)

    def active_calls(self) -> int:
        return len(self._engine.calls)

    def live_calls(self) -> list[LiveCall]:
        """The calls in progress on this node now."""
        engine = self._engine
        now = engine.now()
        out = []
        for call in list(engine.calls.values()):
            deployed = engine.campaigns.deployed(call.campaign_id)
            session = call.conversation.session if call.conversation is not None else None
            out.append(LiveCall(call.call_id, call.caller.key, call.number, call.campaign_id,
                                deployed.tenant_id if deployed is not None else None, call.version,
                                round(now - call.started, 1), call.answered_at is not None,
                                session.current if session is not None else None))
        return out

    @property
    def identity(self) -> IdentitySettings:
        """How the node takes callers' identity (region, trusted networks)."""
        return self._engine.config.identity

    @property
    def region(self) -> str:
        """The node's region for numbers in national form (`--region`)."""
        return self._engine.config.region

    def status(self) -> NodeStatus:
        """The node's health now, as the node page shows it."""
        return node_status(self._engine)

    def metrics(self, gauges: dict[str, float]) -> str:
        """The engine's `ivr_*` series in the Prometheus text format, with `gauges` (the store's) added."""
        status = self.status()
        own = {"active_calls": float(sum(status.calls_by_campaign.values())),
               "media_clock_late_ticks": status.clock["late_ticks"],
               "media_clock_dropped_ticks": status.clock["dropped_ticks"]}
        return self._engine.metrics.render({**own, **gauges}, status.sip, status)

    @property
    def imports_dir(self) -> Path:
        """Where code files being imported wait on this node."""
        return self._engine.config.data_dir / "code-imports"

    def recording(self, recording_id: str) -> Path:
        """Where this node keeps a voice message (it may not exist)."""
        return self._engine.config.data_dir / "recordings" / recording_id

    async def prepare(self, campaigns: list[Campaign], tenant_id: str | None = None) -> list[Issue]:
        """Make what campaigns about to be served need; the prompts that cannot be made."""
        return await self._engine.prepare_campaigns(campaigns, tenant_id)

    async def refresh(self) -> None:
        """Serve the store's active campaign versions now."""
        await self._engine.campaigns.refresh()
