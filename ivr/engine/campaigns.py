"""The campaigns a node runs, by short number.

The store is the source of truth: at start the node seeds it from the dialplans folder (the demo
campaigns, owned by the tenant "demo", their numbers put in the inventory and leased to "demo" unless
leased already, stored as a new version and activated only when a file's SHA-256 differs from the
campaign's latest version), then serves the active version of every campaign of every tenant.
`refresh()` reloads what changed (the API calls it after an activation; a poll calls it every
POLL_SECONDS so nodes sharing the database follow). A changed campaign is parsed and its prompts and
code pools prepared before it replaces the old one, so new calls get it at once; calls in progress keep
the `Campaign` object they started with. Routing: a campaign answers on the numbers its file lists and
on the short numbers assigned to it in the store, each only on the channels its tenant leases it on
today (a lease that ends stops the routing within a poll). Each campaign carries its lifecycle (paused,
ending at, live since) from the store: a paused or ended campaign still answers its numbers, with its
closed text; an archived one is not served at all.

Without a store (or while the database is unreachable at start) `load()` reads the folder directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path

from ivr.channels.campaign_jobs import CampaignJobs, JobFailed
from ivr.flow.loader import load_campaign, load_file
from ivr.flow.model import Campaign
from ivr.flow.validate import DialplanError
from ivr.store import Actor, Conflict, DialplanVersion, Forbidden, Lifecycle, NotFound, Store, StoreUnavailable
from ivr.store.inventory import Lease

log = logging.getLogger(__name__)

DEMO_TENANT = "demo"
POLL_SECONDS = 3.0
PARSED_KEPT = 4
EXTENSIONS = ("*.yaml", "*.yml", "*.json")

Prepare = Callable[[list[Campaign]], Awaitable[object]]
Installed = Callable[[], Awaitable[None]]

# What a number without a campaign answers (no campaign id: such calls belong to no tenant).
NOT_IN_SERVICE = Campaign(id="", name="Not in service", start="end", nodes={"end": {
    "type": "end", "text": "The number you have dialled is not in service.", "reason": "not_in_service"}})


@dataclass(frozen=True)
class Deployed:
    """A campaign in service: which tenant owns it and which stored version it is (None: from a file)."""

    campaign: Campaign
    tenant_id: str | None
    version: int | None
    sha256: str | None


def _living(deployed: Deployed, lifecycle: Lifecycle | None) -> Deployed:
    """The deployed campaign as its lifecycle has it now (paused, ending, live since); a new Campaign object
    when that changed, so calls in progress keep the one they started with."""
    life = lifecycle or Lifecycle()
    campaign = deployed.campaign
    if (campaign.paused, campaign.ends_at, campaign.live_at) == (life.paused_at is not None, life.ends_at, life.live_at):
        return deployed
    return replace(deployed, campaign=replace(campaign, paused=life.paused_at is not None, ends_at=life.ends_at,
                                              live_at=life.live_at))


class CampaignRegistry:
    def __init__(self, directory: Path, variables: dict[str, str] | None = None,
                 jobs: CampaignJobs | None = None) -> None:
        self.directory = directory
        self.variables = variables or {}
        self.jobs = jobs or CampaignJobs()         # stored versions are parsed in capped worker processes
        self._parsed: dict[tuple[str, Path | None], Campaign] = {}   # by text SHA-256 and folder: upload, activation
        self._seed_tenant: str | None = None       # the node's own tenant, whose campaigns come from the folder
        self._folder_ids: set[str] = set()         # the ids of the campaigns the folder's files define
        self._by_id: dict[str, Deployed] = {}
        self._by_voice: dict[str, Campaign] = {}
        self._by_sms: dict[str, Campaign] = {}
        self._by_keyword: dict[str, dict[str, Campaign]] = {}
        self._store: Store | None = None
        self._prepare: Prepare | None = None
        self._installed: Installed | None = None
        self._lock = asyncio.Lock()
        self._poller: asyncio.Task[None] | None = None

    # -- lookups (every call and message) ------------------------------------------------------------

    def get(self, campaign_id: str) -> Campaign:
        return self._by_id[campaign_id].campaign

    def deployed(self, campaign_id: str) -> Deployed | None:
        return self._by_id.get(campaign_id)

    def webhook_secret(self, campaign_id: str) -> str | None:
        deployed = self._by_id.get(campaign_id)
        return deployed.campaign.webhook_secret if deployed else None

    def for_number(self, number: str | None) -> Campaign | None:
        return self._by_voice.get(number or "")

    def for_sms_number(self, number: str | None) -> Campaign | None:
        """The number's default SMS campaign (the one taking messages no keyword claims)."""
        return self._by_sms.get(number or "")

    def sms_keywords(self, number: str) -> dict[str, Campaign]:
        """The campaigns a first word picks on this SMS number, by the word in lower case."""
        return self._by_keyword.get(number, {})

    def sms_campaigns(self, number: str) -> list[Campaign]:
        """Every campaign answering SMS on the number: its default one and those picked by keyword."""
        found = [self._by_sms[number]] if number in self._by_sms else []
        return found + [c for c in self.sms_keywords(number).values() if c not in found]

    def running(self, campaign_id: str) -> Campaign | None:
        deployed = self._by_id.get(campaign_id)
        return deployed.campaign if deployed else None

    def all(self) -> list[Campaign]:
        return [d.campaign for d in self._by_id.values()]

    def of_tenant(self, tenant_id: str) -> list[Campaign]:
        """The tenant's campaigns in service on this node."""
        return [d.campaign for d in self._by_id.values() if d.tenant_id == tenant_id]

    def numbers(self) -> list[str]:
        return list(self._by_voice)

    # -- from the folder -----------------------------------------------------------------------------

    def files(self) -> list[Path]:
        return sorted(p for ext in EXTENSIONS for p in self.directory.glob(ext))

    def load(self) -> None:
        """Load every campaign file; an invalid file is logged and skipped, never half-loaded."""
        for path in self.files():
            try:
                self.add(load_file(path))
            except DialplanError as exc:
                log.error("campaign file not loaded: %s", exc)

    def add(self, campaign: Campaign) -> None:
        """Serve a campaign read from a file (not from the store)."""
        self._install({**self._by_id, campaign.id: Deployed(self._with_variables(campaign), None, None, None)}, {},
                      None)

    # -- from the store ------------------------------------------------------------------------------

    async def start(self, store: Store, prepare: Prepare, installed: Installed | None = None,
                    poll: float = POLL_SECONDS) -> None:
        """Seed the store from the folder, serve its active versions (prepared) and follow it;
        `installed()` runs after each change of the campaigns in service."""
        self._store, self._prepare, self._installed = store, prepare, installed
        try:
            await self.seed()
            await self.refresh()
        except StoreUnavailable as exc:
            log.error("campaigns: the store is unreachable (%s); serving the files of %s", exc, self.directory)
            self.load()
            await prepare(self.all())
            if installed is not None:
                await installed()
        self._poller = asyncio.ensure_future(self._poll(poll))

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller

    async def seed(self) -> None:
        """Store each file of the folder as a version of a campaign of the demo tenant, activated, unless
        the campaign's latest version has the same SHA-256 already (restarts add nothing)."""
        store = self._checked_store()
        tenant = await store.tenant_by_name(DEMO_TENANT)
        if tenant is None:
            with contextlib.suppress(Conflict):                    # another node may create it first
                await store.create_tenant(DEMO_TENANT, Actor.node())
            tenant = await store.tenant_by_name(DEMO_TENANT)
            if tenant is None:
                raise StoreUnavailable(f"the tenant {DEMO_TENANT!r} could neither be created nor read")
        self._seed_tenant = tenant.id
        for path in self.files():
            try:
                text = path.read_text(encoding="utf-8")
                campaign = load_campaign(text, str(path), path.parent)
            except (OSError, DialplanError) as exc:
                log.error("campaign file not seeded: %s", exc)
                continue
            self._folder_ids.add(campaign.id)
            try:
                versions = await store.list_versions(tenant.id, campaign.id)
            except NotFound:
                versions = []
            if versions and versions[-1].sha256 == hashlib.sha256(text.encode()).hexdigest():
                continue
            fmt = "json" if path.suffix == ".json" else "yaml"
            try:
                for number in dict.fromkeys((*campaign.voice_numbers, *campaign.sms_numbers)):
                    carried = [c for c, listed in (("sms", campaign.sms_numbers), ("voice", campaign.voice_numbers))
                               if number in listed]
                    await store.ensure_leased(tenant.id, number, "both" if len(carried) == 2 else carried[0],
                                              Actor.node())
                version = await store.save_dialplan_version(
                    tenant.id, campaign.id, text, fmt, claim=campaign.claimed_numbers,
                    share=tuple(campaign.sms_keywords), name=campaign.name,
                    voice_numbers=tuple(campaign.voice_numbers), sms_numbers=tuple(campaign.sms_numbers),
                    actor=Actor.node())
            except (Conflict, Forbidden) as exc:
                log.error("campaign file %s not seeded: %s", path, exc)
                continue
            await store.activate_version(tenant.id, campaign.id, version, Actor.node())
            log.info("campaign %s: version %d from %s activated", campaign.id, version, path)

    async def refresh(self) -> None:
        """Serve the store's active versions now: changed ones are parsed and prepared first."""
        store, prepare = self._checked_store(), self._prepare
        async with self._lock:
            rows = await store.active_versions()
            lifecycles = await store.lifecycles()
            before = set(self._by_id)
            assigned = {n.number: n.campaign_id for n in await store.numbers(None) if n.campaign_id}
            leases = await store.routable()
            fresh: dict[str, Deployed] = {}
            changed: list[Deployed] = []
            for tenant_id, row in rows:
                current = self._by_id.get(row.campaign_id)
                if current is not None and (current.version, current.sha256) == (row.version, row.sha256):
                    fresh[row.campaign_id] = current
                    continue
                try:
                    deployed = Deployed(self._with_variables(await self.parse(row, tenant_id)), tenant_id,
                                        row.version, row.sha256)
                except (DialplanError, JobFailed) as exc:   # stored before a stricter validator: keep what runs
                    log.error("campaign %s version %d not loaded: %s", row.campaign_id, row.version, exc)
                    if current is not None:
                        fresh[row.campaign_id] = current
                    continue
                fresh[row.campaign_id] = deployed
                changed.append(deployed)
            if changed and prepare is not None:
                await prepare([d.campaign for d in changed])
            fresh = {campaign_id: _living(d, lifecycles.get(campaign_id)) for campaign_id, d in fresh.items()}
            self._install(fresh, assigned, leases)
            for d in changed:
                log.info("campaign %s: version %s in service", d.campaign.id, d.version)
            if (changed or fresh.keys() != before) and self._installed is not None:
                await self._installed()

    def folder_for(self, campaign_id: str, tenant_id: str | None) -> Path | None:
        """The folder a stored campaign may read files from (code pools, recordings): the dialplans folder for
        the campaigns seeded from it (the node's own tenant's), none for what businesses upload, so no
        tenant's file can read the node's files."""
        if tenant_id is not None and tenant_id == self._seed_tenant and campaign_id in self._folder_ids:
            return self.directory
        return None

    async def parse(self, version: DialplanVersion, tenant_id: str | None) -> Campaign:
        """A stored version of the tenant's campaign as a Campaign, parsed in a worker process
        (`CampaignJobs`): DialplanError or JobFailed when it cannot be served."""
        return await self.parse_text(version.source_text, f"{version.campaign_id}@v{version.version}",
                                     self.folder_for(version.campaign_id, tenant_id))

    async def parse_text(self, text: str, filename: str, folder: Path | None = None) -> Campaign:
        """A campaign file's text parsed in a worker process (files it names are read from `folder`, and
        none without one); the last few are kept by their SHA-256, so a version parsed at upload is not
        parsed again when it is put in service."""
        key = (hashlib.sha256(text.encode()).hexdigest(), folder)
        campaign = self._parsed.get(key)
        if campaign is None:
            campaign = await self.jobs.load(text, filename, folder)
            self._parsed[key] = campaign
            while len(self._parsed) > PARSED_KEPT:
                self._parsed.pop(next(iter(self._parsed)))
        return campaign

    async def _poll(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.refresh()
            except StoreUnavailable as exc:
                log.warning("campaigns: the store is unreachable (%s); serving what we have", exc)
            except Exception:
                log.exception("campaigns: refresh from the store failed; trying again in %.0f s", interval)

    def _checked_store(self) -> Store:
        if self._store is None:
            raise RuntimeError("the campaign registry has no store (call start first)")
        return self._store

    def _with_variables(self, campaign: Campaign) -> Campaign:
        campaign.variables.update(self.variables)
        return campaign

    def _install(self, by_id: dict[str, Deployed], assigned: dict[str, str],
                 leases: dict[str, Lease] | None) -> None:
        """Swap in new lookup tables at once (no await in here: a call sees the old or the new). With
        `leases` (from the store), a campaign of a tenant answers on a number only on the channels the
        tenant leases it on; campaigns read from files (no tenant) answer on what their files name."""
        def allowed(deployed: Deployed, number: str, channel: str) -> bool:
            if leases is None or deployed.tenant_id is None:
                return True
            lease = leases.get(number)
            return lease is not None and lease.tenant_id == deployed.tenant_id and lease.carries(channel)

        by_voice: dict[str, Campaign] = {}
        by_sms: dict[str, Campaign] = {}
        by_keyword: dict[str, dict[str, Campaign]] = {}
        for deployed in by_id.values():
            campaign = deployed.campaign
            for number in campaign.voice_numbers:
                if allowed(deployed, number, "voice"):
                    by_voice.setdefault(number, campaign)
            for number in campaign.sms_numbers:
                if not allowed(deployed, number, "sms"):
                    continue
                if number not in campaign.sms_keywords:
                    by_sms.setdefault(number, campaign)
                for word in campaign.sms_keywords.get(number, []):
                    taken = by_keyword.setdefault(number, {}).setdefault(word.lower(), campaign)
                    if taken is not campaign:
                        log.error("SMS number %s: keyword %s of campaign %s is campaign %s's already", number,
                                  word, campaign.id, taken.id)
        for number, campaign_id in assigned.items():
            deployed = by_id.get(campaign_id)
            if deployed is None:
                continue
            if allowed(deployed, number, "voice"):
                by_voice[number] = deployed.campaign
            if allowed(deployed, number, "sms"):
                by_sms[number] = deployed.campaign
        self._by_id, self._by_voice, self._by_sms, self._by_keyword = by_id, by_voice, by_sms, by_keyword
