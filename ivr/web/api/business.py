"""Business endpoints: campaigns and their dialplan versions, simulation, short numbers and results."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import AsyncIterator
from dataclasses import fields
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ivr.channels.campaign_jobs import InvalidCampaign, JobFailed
from ivr.flow.diagram import diagram
from ivr.flow.model import RECORDING_NAME, Campaign, named_pools
from ivr.flow.schema import SCHEMA
from ivr.media import audio
from ivr.media.prompt_cache import PromptFailed, PromptRequest
from ivr.flow.validate import DialplanError, Issue
from ivr.i18n import Message, message_of, t
from ivr.store import Action, DialplanVersion, OutcomeView
from ivr.store.contacts import Contact
from ivr.store.inventory import Lease, LeasedNumber
from ivr.store.money import format_amount

from .columns import BOM, csv_language, header
from .core import (ApiError, acting_tenant, engine_of, event_stream, owned_campaign, principal_of, read_body, read_json,
                   read_text, store_of)
from .pools import pool_issues

if TYPE_CHECKING:
    from ivr.engine.view import EngineView

DIALPLAN_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "application/json", "text/plain")
NUMBER = re.compile(r"\+?[0-9]{2,15}")
LIVE_POLL = 0.5             # how often the tallies are read for changes
CAMPAIGN_ID = re.compile(SCHEMA["properties"]["id"]["pattern"])
MAX_RECORDING = 8 * 1024 * 1024     # bytes of an uploaded recording
INVALID = t("invalid dialplan")       # the 422 of a campaign file with problems (listed in `issues`)
RECORDING_TYPES = {"audio/wav": ".wav", "audio/x-wav": ".wav", "audio/wave": ".wav", "audio/vnd.wave": ".wav",
                   "audio/mpeg": ".mp3", "audio/mp3": ".mp3", "audio/ogg": ".ogg", "application/ogg": ".ogg"}


# -- who am I, the schema ---------------------------------------------------------------------------

async def me(request: web.Request) -> web.Response:
    """The key's tenant and role."""
    principal = principal_of(request)
    tenants = {t.id: t.name for t in await store_of(request).tenants()}
    return web.json_response({"tenant_id": principal.tenant_id, "tenant": tenants.get(principal.tenant_id),
                              "role": principal.role})


async def schema(request: web.Request) -> web.Response:
    """The JSON Schema of a campaign file."""
    return web.json_response(SCHEMA)


# -- campaigns and versions ---------------------------------------------------------------------------

async def list_campaigns(request: web.Request) -> web.Response:
    """The caller's campaigns with their numbers and versions, from what was stored with each version
    (never from parsing the sources: a campaign with 100,000 codes lists as fast as any)."""
    store = store_of(request)
    scope = principal_of(request).scope
    assigned: dict[str, list[str]] = {}
    for number in await store.numbers(scope):
        if number.campaign_id:
            assigned.setdefault(number.campaign_id, []).append(number.number)
    out = []
    for row in await store.campaign_listing(scope):
        extra = assigned.get(row.id, [])
        out.append({"id": row.id, "tenant_id": row.tenant_id, "name": row.name or row.id,
                    "active_version": row.active_version, "versions": row.versions,
                    **row.lifecycle.as_dict(datetime.now(timezone.utc)),
                    "voice_numbers": sorted({*row.voice_numbers, *extra}),
                    "sms_numbers": sorted({*row.sms_numbers, *extra})})
    return web.json_response(out)


async def validate_dialplan(request: web.Request) -> web.Response:
    """Check a campaign file (YAML or JSON text) without storing it (its recordings must be uploaded)."""
    campaign, _, _ = await _dialplan_body(request)
    tenant_id = await _tenant_for(request, campaign.id) or principal_of(request).tenant_id
    issues = await engine_of(request).prompts.check(campaign, tenant_id) + await pool_issues(request, campaign,
                                                                                               tenant_id)
    if issues:
        raise await invalid_dialplan(campaign.source, issues)
    return web.json_response({"ok": True, "campaign_id": campaign.id})


async def upload_version(request: web.Request) -> web.Response:
    """Validate, store as a new version, generate its prompts, then activate it when ?activate=1."""
    campaign_id = request.match_info["campaign_id"]
    store, engine = store_of(request), engine_of(request)
    tenant_id = await _tenant_for(request, campaign_id)
    if tenant_id is None:
        raise ApiError(404, t("no campaign {campaign!r}", campaign=campaign_id))
    campaign, text, fmt = await _dialplan_body(request)
    if campaign.id != campaign_id:
        line = next((i + 1 for i, s in enumerate(text.splitlines()) if re.match(r'\s*"?id"?\s*:', s)), None)
        raise await invalid_dialplan(campaign.source, [Issue(
            "id", t("the file is campaign {found!r}, not {campaign!r}", found=campaign.id,
                    campaign=campaign_id), line)])
    missing = await pool_issues(request, campaign, tenant_id)         # 422 for a code pool not imported
    if missing:
        raise await invalid_dialplan(campaign.source, missing)
    await _prepare(engine, campaign, tenant_id)                      # 422 when a prompt cannot be made
    actor = principal_of(request).actor
    version = await store.save_dialplan_version(tenant_id, campaign_id, text, fmt,    # 403/409: not leased to it
                                                claim=campaign.claimed_numbers, share=tuple(campaign.sms_keywords),
                                                name=campaign.name, voice_numbers=tuple(campaign.voice_numbers),
                                                sms_numbers=tuple(campaign.sms_numbers), actor=actor)
    active = request.query.get("activate", "") in ("1", "true", "yes")
    if active:
        await store.activate_version(tenant_id, campaign_id, version, actor)
        await engine.refresh()
    return web.json_response({"campaign_id": campaign_id, "version": version, "active": active}, status=201)


async def list_versions(request: web.Request) -> web.Response:
    """Every stored version of the campaign, oldest first."""
    campaign_id = request.match_info["campaign_id"]
    tenant_id = await owned_campaign(request, campaign_id)
    versions = await store_of(request).list_versions(tenant_id, campaign_id)
    return web.json_response([{"version": v.version, "created_at": v.created_at.isoformat(), "active": v.active,
                               "sha256": v.sha256, "format": v.format} for v in versions])


async def get_version(request: web.Request) -> web.Response:
    """One version with its source text."""
    campaign_id = request.match_info["campaign_id"]
    v = await stored_version(request, campaign_id, _int(request.match_info["version"], "version"))
    return web.json_response({"campaign_id": campaign_id, "version": v.version, "source": v.source_text,
                              "format": v.format, "sha256": v.sha256, "created_at": v.created_at.isoformat(),
                              "active": v.active})


async def activate(request: web.Request) -> web.Response:
    """Put a stored version in service (also the way to roll back)."""
    campaign_id = request.match_info["campaign_id"]
    body = await read_json(request)
    version = body.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ApiError(400, t('body must be {{"version": N}}'))
    tenant_id = await owned_campaign(request, campaign_id)
    engine = engine_of(request)
    campaign = await parsed_version(engine, await stored_version(request, campaign_id, version), tenant_id)
    await _prepare(engine, campaign, tenant_id)
    await store_of(request).activate_version(tenant_id, campaign_id, version, principal_of(request).actor)
    await engine.refresh()
    return web.json_response({"campaign_id": campaign_id, "version": version, "active": True})


async def simulate(request: web.Request) -> web.Response:
    """Run a version (default: the active one) with scripted inputs; nothing is written to the store."""
    campaign_id = request.match_info["campaign_id"]
    body = await read_json(request)
    channel, inputs = body.get("channel", "voice"), body.get("inputs", [])
    if channel not in ("voice", "sms"):
        raise ApiError(400, t('channel must be "voice" or "sms"'))
    if not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs):
        raise ApiError(400, t("inputs must be a list of strings"))
    version = body.get("version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        raise ApiError(400, t("version must be a number"))
    tenant_id = await owned_campaign(request, campaign_id)
    if version is None:
        active = await store_of(request).active_version(tenant_id, campaign_id)
        if active is None:
            raise ApiError(404, t("campaign {campaign!r} has no active version", campaign=campaign_id))
        version = active.version
    engine = engine_of(request)
    stored = await stored_version(request, campaign_id, version)
    http = engine.services.http                  # the node's policy on private targets and its secret
    try:
        transcript = await engine.campaigns.jobs.simulate(
            stored.source_text, f"{campaign_id}@v{version}", engine.campaigns.folder_for(campaign_id, tenant_id),
            channel, inputs,
            caller=str(body.get("caller", "+15550001")), allow_private=http.allow_private, secret=http.secret)
    except (JobFailed, DialplanError) as exc:
        raise ApiError(422, message_of(exc)) from None
    return web.json_response({"version": version, **transcript})


# -- recordings ------------------------------------------------------------------------------------

async def upload_recording(request: web.Request) -> web.Response:
    """Store a recording (WAV, MP3 or OGG) a campaign plays as `audio: NAME`, converted for calls at once;
    one of the same name is replaced. The campaign may be new (its first version comes later)."""
    folder, name, tenant_id = await _recording_folder(request)
    suffix = RECORDING_TYPES.get(request.content_type)
    if suffix is None:
        raise ApiError(415, t("send the recording as one of {types}", types=", ".join(RECORDING_TYPES)))
    data = await read_body(request)
    if not data:
        raise ApiError(400, t("the body is empty: send the recording"))
    recordings, cache = engine_of(request).prompts.recordings, engine_of(request).prompts.cache
    staged = recordings.stage(folder, data, suffix)
    try:
        key = await asyncio.to_thread(cache.ensure, PromptRequest(audio_path=staged))
    except PromptFailed as exc:
        staged.unlink(missing_ok=True)
        raise ApiError(422, t("not a recording that can be played: {why}", why=_unplayable(exc))) from None
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    path = recordings.install(staged, name)
    answer = _recording(path, len(cache.load_pcm(key)))
    await store_of(request).audit(principal_of(request).actor, Action.RECORDING_UPLOADED, tenant_id,
                                  f"{request.match_info['campaign_id']}/{name}",
                                  {"bytes": answer["bytes"], "seconds": answer["seconds"]})
    return web.json_response(answer)


def _unplayable(exc: PromptFailed) -> Message:
    """Why an upload cannot be played, in words that reveal nothing of the server (ffmpeg's own message
    names the file's path on the node)."""
    cause = exc.__cause__
    if isinstance(cause, (audio.SilentAudio, audio.TooLong)):
        return message_of(cause)
    if isinstance(cause, audio.DecodeError):
        return t("the audio cannot be decoded (send WAV, MP3 or OGG)")
    return t("the audio could not be converted")


async def list_recordings(request: web.Request) -> web.Response:
    """The recordings uploaded for a campaign."""
    folder, _, _ = await _recording_folder(request, named=False)
    prompts = engine_of(request).prompts

    def listing() -> list[dict[str, Any]]:
        out = []
        for path in prompts.recordings.names(folder):
            pcm = prompts.cache.get_or_none(PromptRequest(audio_path=path))
            out.append(_recording(path, len(pcm) if pcm is not None else None))
        return out
    return web.json_response(await asyncio.to_thread(listing))


async def _recording_folder(request: web.Request, named: bool = True) -> tuple[Path, str, str]:
    """(the folder of the campaign's recordings, the recording's name, the tenant); 400 for bad ids, 404 for
    another tenant's campaign."""
    campaign_id = request.match_info["campaign_id"]
    name = request.match_info.get("name", "")
    if not CAMPAIGN_ID.fullmatch(campaign_id):
        raise ApiError(400, t("not a campaign id"))
    if named and not RECORDING_NAME.fullmatch(name):
        raise ApiError(400, t("a recording name is 1 to 64 letters, digits, - and _, starting with a letter or digit"))
    tenant_id = await _tenant_for(request, campaign_id)
    if tenant_id is None:
        raise ApiError(404, t("no campaign {campaign!r}", campaign=campaign_id))
    return engine_of(request).prompts.recordings.folder(tenant_id, campaign_id), name, tenant_id


def _recording(path: Path, pcm_bytes: int | None) -> dict[str, Any]:
    stat = path.stat()
    return {"name": path.stem, "format": path.suffix[1:], "bytes": stat.st_size,
            "seconds": round(pcm_bytes / 2 / audio.SAMPLE_RATE, 3) if pcm_bytes is not None else None,
            "uploaded_at": datetime.fromtimestamp(stat.st_mtime, timezone.utc).isoformat()}


# -- short numbers ----------------------------------------------------------------------------------

async def list_numbers(request: web.Request) -> web.Response:
    """The numbers leased to the caller's tenant (today or from a day to come), their leases and fees,
    and the campaign each points at."""
    numbers = await store_of(request).tenant_numbers(principal_of(request).scope)
    return web.json_response([leased_number_json(n) for n in numbers])


async def assign_number(request: web.Request) -> web.Response:
    """Point a number the tenant leases at one of its campaigns (null: at none); 403 when the tenant does
    not lease it, 409 when another tenant does."""
    number = _number(request)
    body = await read_json(request)
    campaign_id = body.get("campaign_id")
    if campaign_id is not None and not isinstance(campaign_id, str):
        raise ApiError(400, t('body must be {{"campaign_id": "..." or null}}'))
    store, principal = store_of(request), principal_of(request)
    if campaign_id:
        tenant_id = await owned_campaign(request, campaign_id)
    elif principal.admin:
        lease = await store.current_lease(number)
        tenant_id = lease.tenant_id if lease is not None else principal.tenant_id
    else:
        tenant_id = principal.tenant_id
    row = await store.assign_number(tenant_id, number, campaign_id, principal.actor)
    await engine_of(request).refresh()
    return web.json_response({"number": row.number, "tenant_id": row.tenant_id, "campaign_id": row.campaign_id,
                              "assigned_at": row.assigned_at.isoformat()})


async def release_number(request: web.Request) -> web.Response:
    """Point a number at no campaign (the lease goes on; the provider ends leases)."""
    number = _number(request)
    store, principal = store_of(request), principal_of(request)
    owners = [n.tenant_id for n in await store.numbers(principal.scope) if n.number == number]
    if not owners:
        raise ApiError(404, t("number {number} points at none of your campaigns", number=number))
    await store.release_number(owners[0], number, principal.actor)
    await engine_of(request).refresh()
    return web.Response(status=204)


def leased_number_json(n: LeasedNumber) -> dict[str, Any]:
    return {"number": n.number, "class": n.number_class, "monthly_fee_without_vat": format_amount(n.monthly_fee),
            "currency": n.currency, "tenant_id": n.lease.tenant_id, "campaign_id": n.campaign_id,
            "lease": lease_json(n.lease)}


def lease_json(lease: Lease) -> dict[str, Any]:
    return {"id": lease.id, "number": lease.number, "tenant_id": lease.tenant_id, "channels": lease.channels,
            "starts_on": lease.starts_on.isoformat(), "ends_on": lease.ends_on.isoformat() if lease.ends_on else None,
            "created_at": lease.created_at.isoformat()}


# -- results --------------------------------------------------------------------------------------------

async def results(request: web.Request) -> web.Response:
    """Tallies, calls per minute over the last hour and drop-off per node."""
    campaign_id = request.match_info["campaign_id"]
    tenant_id = await owned_campaign(request, campaign_id)
    return web.json_response(await campaign_results(request, tenant_id, campaign_id))


async def live(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: `event: results` at once, then on change and at least every LIVE_SECONDS."""
    campaign_id = request.match_info["campaign_id"]
    tenant_id = await owned_campaign(request, campaign_id)
    return await event_stream(request, "results", lambda: campaign_results(request, tenant_id, campaign_id),
                              LIVE_POLL)


async def campaign_results(request: web.Request, tenant_id: str, campaign_id: str) -> dict[str, Any]:
    store = store_of(request)
    now = datetime.now(timezone.utc)
    deployed = engine_of(request).campaigns.deployed(campaign_id)
    redeem, issue = named_pools(deployed.campaign) if deployed else ((), ())
    tallies = await store.tallies(tenant_id, campaign_id, redeem, issue)
    per_minute = await store.calls_per_minute(tenant_id, now - timedelta(minutes=60), now + timedelta(seconds=1),
                                              campaign_id)
    drop_off = await store.drop_off(tenant_id, campaign_id)
    return {"votes": tallies.votes, "answers": tallies.answers,
            "codes": {pool: {"codes": t.codes, "redeemed": t.redeemed} for pool, t in tallies.codes.items()},
            "issued": {pool: {"codes": t.codes, "issued": t.issued} for pool, t in tallies.issued.items()},
            "calls_per_minute": [[minute.isoformat(), count] for minute, count in per_minute],
            "drop_off": {node or "": count for node, count in drop_off.items()}}


async def outcomes_csv(request: web.Request) -> web.StreamResponse:
    """Every outcome of the campaign as CSV, oldest first."""
    campaign_id = request.match_info["campaign_id"]
    tenant_id = await owned_campaign(request, campaign_id)
    rows = (o.row() async for o in store_of(request).export_outcomes(tenant_id, campaign_id))
    return await stream_csv(request, f"{campaign_id}-outcomes.csv", [f.name for f in fields(OutcomeView)], rows)


async def contacts_csv(request: web.Request) -> web.StreamResponse:
    """The contact base as CSV: the tenant's (an admin's: everyone's), or one campaign's with ?campaign=ID."""
    campaign_id = request.query.get("campaign") or None
    found = await store_of(request).contacts(principal_of(request).scope, campaign_id)

    async def rows() -> AsyncIterator[dict[str, Any]]:
        for contact in found:
            yield {**contact.row(), "opted_out": "yes" if contact.opted_out else "no"}
    name = f"{campaign_id}-contacts.csv" if campaign_id else "contacts.csv"
    return await stream_csv(request, name, [f.name for f in fields(Contact)], rows())


async def stream_csv(request: web.Request, filename: str, columns: list[str],
                     rows: AsyncIterator[dict[str, Any]]) -> web.StreamResponse:
    """Write rows as CSV while they are read (text cells neutralised against formula injection); the header
    is the column keys, or their labels with ?lang= (see `columns`)."""
    language = csv_language(request)
    response = web.StreamResponse(headers={"Content-Type": "text/csv; charset=utf-8",
                                           "Content-Disposition": f'attachment; filename="{filename}"',
                                           **({"Content-Language": language} if language else {})})
    await response.prepare(request)
    buffer = io.StringIO()
    if language:
        buffer.write(BOM)
    csv.writer(buffer).writerow(header(columns, language))
    writer = csv.DictWriter(buffer, columns)
    count = 0
    async for row in rows:
        writer.writerow({name: csv_cell(value) for name, value in row.items()})
        count += 1
        if count % 500 == 0:
            await response.write(buffer.getvalue().encode())
            buffer.seek(0)
            buffer.truncate()
    await response.write(buffer.getvalue().encode())
    await response.write_eof()
    return response


# -- helpers ------------------------------------------------------------------------------------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def csv_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text rather than runs as a formula (OWASP CSV injection): a
    text starting with = + - @, tab or carriage return gets a leading apostrophe; plain numbers such as
    +380501112233 or -2.5 are left as they are (no spreadsheet evaluates them)."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


async def _dialplan_body(request: web.Request) -> tuple[Campaign, str, str]:
    """(campaign, text, format) of a campaign file body; 415 for other types, 422 with every issue."""
    if request.content_type not in DIALPLAN_TYPES:
        raise ApiError(415, t("send the campaign file as one of {types}", types=", ".join(DIALPLAN_TYPES)))
    text = await read_text(request)
    try:
        campaign = await engine_of(request).campaigns.parse_text(text, "dialplan")
    except InvalidCampaign as exc:
        raise ApiError(422, INVALID, issues=[_issue(i) for i in exc.issues],
                       diagram=exc.diagram.as_dict() if exc.diagram is not None else None) from None
    except JobFailed as exc:
        raise ApiError(422, INVALID, issues=[{"path": "", "message": message_of(exc), "line": None}],
                       diagram=None) from None
    fmt = "json" if request.content_type == "application/json" or text.lstrip().startswith("{") else "yaml"
    return campaign, text, fmt


def _issue(issue: Issue) -> dict[str, Any]:
    return {"path": issue.path, "message": issue.message, "line": issue.line}


async def invalid_dialplan(document: Any, issues: list[Issue]) -> ApiError:
    """The 422 for a campaign file with problems: every issue, and the diagram of what could be read with
    the nodes the issues are in marked (`diagram` is null when the file cannot be read at all)."""
    graph = diagram(document, [(i.path, i.message) for i in issues]) if isinstance(document, dict) else None
    return ApiError(422, INVALID, issues=[_issue(i) for i in issues],
                    diagram=graph.as_dict() if graph is not None else None)


async def stored_version(request: web.Request, campaign_id: str, version: int) -> DialplanVersion:
    """One stored version of a campaign the caller may see (404 otherwise)."""
    tenant_id = await owned_campaign(request, campaign_id)
    for v in await store_of(request).list_versions(tenant_id, campaign_id):
        if v.version == version:
            return v
    raise ApiError(404, t("campaign {campaign!r} has no version {version}", campaign=campaign_id, version=version))


async def _prepare(engine: "EngineView", campaign: Campaign, tenant_id: str) -> None:
    """Make the campaign's prompts; 422 listing each one that cannot be made."""
    try:
        issues = await engine.prepare([campaign], tenant_id)
    except Exception as exc:
        raise ApiError(500, t("the campaign's prompts could not be prepared: {why}", why=message_of(exc))) from exc
    if issues:
        raise await invalid_dialplan(campaign.source, issues)


async def _tenant_for(request: web.Request, campaign_id: str) -> str | None:
    """The tenant a campaign id is (or would be, when new) the caller's under; None when another tenant's.
    An administrator builds a campaign for a tenant with ?tenant= (turnkey): it is that tenant's own."""
    principal = principal_of(request)
    acting = await acting_tenant(request)
    owner = await store_of(request).campaign_owner(campaign_id)
    if owner is not None and owner != acting and (not principal.admin or request.query.get("tenant")):
        return None
    return owner or acting


async def parsed_version(engine: "EngineView", version: DialplanVersion, tenant_id: str) -> Campaign:
    """A stored version of the tenant's campaign parsed (in a worker process); 422 when it cannot be served."""
    try:
        return await engine.campaigns.parse(version, tenant_id)
    except DialplanError as exc:
        raise ApiError(422, INVALID, issues=[_issue(i) for i in exc.issues]) from None
    except JobFailed as exc:
        raise ApiError(422, message_of(exc)) from None


def _int(text: str, what: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise ApiError(400, t("{what} must be a number", what=what))
    return int(text)


def _number(request: web.Request) -> str:
    number = request.match_info["number"]
    if not NUMBER.fullmatch(number):
        raise ApiError(400, t("a short number is 2 to 15 digits, optionally after +"))
    return number
