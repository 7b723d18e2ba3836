"""The engine's prompt source: what campaigns play, made when they are loaded, looked up during calls.

`campaign_requests` lists everything a campaign can play: its texts in their voice settings (the
campaign's, or a node's own) and its recordings; `ivr prompts build` and the engine both use it, so the
keys made ahead of calls are the keys calls look up. `CachedPrompts.prepare` makes them when a campaign is
loaded or uploaded; a call's `CampaignPrompts` (`for_campaign`) finds them and never synthesises, except
a templated value heard for the first time (made off the event loop). `clean` runs after each change of
the campaigns in service. Recordings businesses upload live in `Recordings`, one folder per tenant and
campaign.
"""

from __future__ import annotations

import asyncio
import logging
import re
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivr.flow.events import Prompt
from ivr.flow.model import RECORDING_NAME, Campaign, played_audio, spoken_texts, voice_of
from ivr.flow.validate import Issue
from ivr.i18n import message_of, t
from ivr.media.prompt_cache import BuildReport, PromptCache, PromptError, PromptRequest, fixed_parts, is_template
from ivr.media.tts import TtsError, TtsRegistry
from ivr.media.voice_pack import VoicePackEngine, qualified

log = logging.getLogger(__name__)

STALE_AFTER = 24 * 3600.0           # an entry no campaign in service needs is deleted once this old
VALUES_FOR = 30 * 24 * 3600.0       # templated values of campaigns in service are kept this long
RECORDING_SUFFIXES = (".wav", ".mp3", ".ogg")
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


@dataclass(frozen=True)
class Wanted:
    """One prompt a campaign plays, and where the campaign says it (`nodes.welcome.text`)."""

    path: str
    request: PromptRequest


class Recordings:
    """Recordings uploaded by businesses: ROOT/TENANT/CAMPAIGN/NAME.wav|.mp3|.ogg, as uploaded."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def folder(self, tenant_id: str, campaign_id: str) -> Path:
        """The folder of one campaign's recordings (ValueError for ids that are not plain names)."""
        if not (_SAFE.fullmatch(tenant_id) and _SAFE.fullmatch(campaign_id)):
            raise ValueError(f"not a tenant and campaign id: {tenant_id!r}, {campaign_id!r}")
        return self.root / tenant_id / campaign_id

    def names(self, folder: Path) -> list[Path]:
        """Every recording of a campaign's folder, by name."""
        if not folder.is_dir():
            return []
        return sorted((p for p in folder.iterdir() if p.suffix in RECORDING_SUFFIXES and RECORDING_NAME.fullmatch(p.stem)),
                      key=lambda p: p.stem)

    def stage(self, folder: Path, data: bytes, suffix: str) -> Path:
        """Write an upload to a temporary file of the folder (`install` or delete it)."""
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".upload-", suffix=suffix, delete=False) as out:
            out.write(data)
        return Path(out.name)

    def install(self, staged: Path, name: str) -> Path:
        """Put a staged upload in place as the recording `name` (replacing one of any format)."""
        target = staged.parent / f"{name}{staged.suffix}"
        staged.replace(target)
        for suffix in RECORDING_SUFFIXES:
            if suffix != staged.suffix:
                (staged.parent / f"{name}{suffix}").unlink(missing_ok=True)
        return target


def recording_path(campaign: Campaign, audio: str, uploads: Path | None) -> Path | None:
    """The file `audio:` names: a recording uploaded to the folder `uploads` (a bare name), or a file of
    the campaign's folder; None when there is none."""
    if RECORDING_NAME.fullmatch(audio):
        candidates = [uploads / f"{audio}{suffix}" for suffix in RECORDING_SUFFIXES] if uploads is not None else []
    else:
        candidates = [campaign.folder / audio] if campaign.folder is not None else []
    return next((path for path in candidates if path.is_file()), None)


def own_voice(settings: dict[str, Any], tenant_id: str | None) -> dict[str, Any]:
    """Voice settings as the engine is asked for them: a tenant's campaign naming a voice pack gets its
    tenant's own pack of that name (else the node's), never another tenant's (`voice_pack.qualified`)."""
    if tenant_id is not None and settings.get("engine") == VoicePackEngine.name and settings.get("voice"):
        return {**settings, "voice": qualified(tenant_id, settings["voice"])}
    return settings


def campaign_requests(campaign: Campaign, uploads: Path | None,
                      tenant_id: str | None = None) -> tuple[list[Wanted], list[Issue]]:
    """Everything the campaign plays, and an issue for each prompt that cannot be asked for (a recording
    not uploaded, a text of nothing but spaces). `uploads`: the folder of its uploaded recordings;
    `tenant_id`: its owner (whose voice packs it speaks with)."""
    wanted: list[Wanted] = []
    issues: list[Issue] = []
    for spoken in spoken_texts(campaign):
        try:
            voice = own_voice(voice_of(campaign, spoken.node, spoken.language), tenant_id)
            wanted.append(Wanted(spoken.path, PromptRequest(text=spoken.text, language=spoken.language, **voice)))
        except PromptError as exc:
            issues.append(Issue(spoken.path, message_of(exc)))
    for played in played_audio(campaign):
        path = recording_path(campaign, played.audio, uploads)
        if path is None:
            issues.append(Issue(played.path, t('no recording "{name}" for campaign {campaign!r} (upload it: '
                                               'PUT /api/campaigns/{{id}}/recordings/{{name}})', name=played.audio,
                                               campaign=campaign.id)
                                if RECORDING_NAME.fullmatch(played.audio) else
                                t('no recording "{name}" for campaign {campaign!r}', name=played.audio,
                                  campaign=campaign.id)))
        else:
            wanted.append(Wanted(played.path, PromptRequest(audio_path=path)))
    return wanted, issues


class CampaignPrompts:
    """The prompts of one campaign, as a call looks them up (`ivr.channels.voice.PromptSource`)."""

    def __init__(self, cache: PromptCache, campaign: Campaign, uploads: Path | None,
                 tenant_id: str | None = None) -> None:
        self.cache, self.campaign, self.uploads, self.tenant_id = cache, campaign, uploads, tenant_id

    def request(self, prompt: Prompt) -> PromptRequest | None:
        """What a prompt plays: its recording, else its text; None when there is nothing to play."""
        if prompt.audio:
            path = recording_path(self.campaign, prompt.audio, self.uploads)
            if path is None:
                log.error("campaign %s: no recording %r", self.campaign.id, prompt.audio)
                return None
            return PromptRequest(audio_path=path)
        if prompt.text is None or not prompt.text.strip():
            return None
        voice = own_voice({"voice": prompt.voice, "engine": prompt.engine, "rate": prompt.rate}, self.tenant_id)
        return PromptRequest(text=prompt.text, language=prompt.language, **voice)

    def lookup(self, prompt: Prompt) -> bytes | None:
        request = self.request(prompt)
        return b"" if request is None else self.cache.get_or_none(request)

    async def render(self, prompt: Prompt) -> bytes:
        request = self.request(prompt)
        return b"" if request is None else await self.cache.synthesize_in_background(request)


Owner = Callable[[str], Awaitable[str | None]]


class CachedPrompts:
    """The node's prompt cache and uploaded recordings. `owner(campaign_id)` names the tenant owning a
    campaign (whose uploaded recordings it plays)."""

    def __init__(self, directory: Path, recordings: Recordings, owner: Owner | None = None,
                 registry: TtsRegistry | None = None, stale_after: float = STALE_AFTER,
                 values_for: float = VALUES_FOR) -> None:
        self.cache = PromptCache(directory, registry)
        self.recordings = recordings
        self.stale_after, self.values_for = stale_after, values_for
        self._owner = owner
        self._owners: dict[str, str] = {}
        self._cleaning = asyncio.Lock()

    async def uploads(self, campaign: Campaign, tenant_id: str | None = None) -> Path | None:
        """The folder of the campaign's uploaded recordings (its owner's, or `tenant_id`'s when given)."""
        tenant_id = await self.owner(campaign, tenant_id)
        return self.recordings.folder(tenant_id, campaign.id) if tenant_id is not None else None

    async def owner(self, campaign: Campaign, tenant_id: str | None = None) -> str | None:
        """The tenant owning the campaign (`tenant_id` when given; None when it cannot be known)."""
        if not campaign.id:
            return None
        if tenant_id is None:
            tenant_id = self._owners.get(campaign.id)
        if tenant_id is None and self._owner is not None:
            try:
                tenant_id = await self._owner(campaign.id)
            except Exception as exc:               # the store is unreachable: the folder's files still play
                log.warning("campaign %s: owner unknown (%s); its uploaded recordings cannot play", campaign.id, exc)
            if tenant_id is not None:
                self._owners[campaign.id] = tenant_id
        return tenant_id

    async def check(self, campaign: Campaign, tenant_id: str | None = None) -> list[Issue]:
        """The prompts of a campaign that cannot be asked for (recordings not uploaded), without making any."""
        owner = await self.owner(campaign, tenant_id)
        return campaign_requests(campaign, await self.uploads(campaign, owner), owner)[1]

    async def prepare(self, campaigns: list[Campaign], tenant_id: str | None = None) -> list[Issue]:
        """Make every prompt and recording of the campaigns (templates: their fixed parts; values are made
        when first heard) and keep them in memory. The issues name each prompt that cannot be made."""
        wanted: list[Wanted] = []
        issues: list[Issue] = []
        for campaign in campaigns:
            owner = await self.owner(campaign, tenant_id)
            found, missing = campaign_requests(campaign, await self.uploads(campaign, owner), owner)
            wanted += found
            issues += missing
            for issue in missing:
                log.error("campaign %s: %s", campaign.id, issue)
        places = {part: w.path for w in wanted for part in fixed_parts(w.request)}
        report = await asyncio.to_thread(self._build, [w.request for w in wanted])
        for failure in report.failures:
            issue = Issue(places.get(failure.request, ""), t("the prompt cannot be made: {why}", why=failure.error))
            log.error("%s", issue)
            issues.append(issue)
        log.info("prompts ready: %d (%d made now)", len(report.keys), len(report.generated))
        return issues

    def _build(self, requests: list[PromptRequest]) -> BuildReport:
        report = self.cache.build(requests)
        for key in report.keys:
            self.cache.load_pcm(key)                  # in memory before the first call
        return report

    def for_campaign(self, campaign: Campaign) -> CampaignPrompts:
        """The prompt source of a call to `campaign` (prepared before)."""
        tenant_id = self._owners.get(campaign.id)
        uploads = self.recordings.folder(tenant_id, campaign.id) if tenant_id is not None else None
        return CampaignPrompts(self.cache, campaign, uploads, tenant_id)

    async def clean(self, campaigns: list[Campaign]) -> list[str]:
        """Delete cache entries none of `campaigns` (those in service and those of calls in progress)
        plays: kept are their prompts and recordings, their templated values made less than `values_for`
        ago, and anything made or needed less than `stale_after` ago (other nodes may share the folder)."""
        async with self._cleaning:
            sources = [(c, await self.uploads(c), await self.owner(c)) for c in campaigns]
            removed = await asyncio.to_thread(self._clean, sources)
        if removed:
            log.info("prompt cache: %d stale entries deleted", len(removed))
        return removed

    def _clean(self, sources: list[tuple[Campaign, Path | None, str | None]]) -> list[str]:
        keep: set[str] = set()
        templates: list[PromptRequest] = []
        for campaign, uploads, owner in sources:
            for w in campaign_requests(campaign, uploads, owner)[0]:
                if w.request.text is not None and is_template(w.request.text):
                    templates.append(w.request)
                for part in fixed_parts(w.request):
                    try:
                        keep.add(self.cache.key(part))
                    except (TtsError, OSError):
                        continue
        return self.cache.clean(keep, templates, self.stale_after, self.values_for)
