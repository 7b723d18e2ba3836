"""Outbound campaigns: create one, give it an audience (a CSV upload or the contact base), start, pause,
resume, cancel, and follow its progress and per-number results (docs/outbound.md).

A business acts on its own campaigns only (another tenant's is 404, as if it did not exist); an
administrator names the tenant with ?tenant= for turnkey work. The short number must be one the tenant
leases.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

from ivr.channels.caller_id import normalize
from ivr.i18n import t
from ivr.store.outbound import CHANNELS, MAX_AUDIENCE, ContactResult, Settings

from .business import stream_csv
from .core import ApiError, acting_tenant, engine_of, principal_of, read_body, read_json, store_of

MAX_CSV = 8 * 1024 * 1024           # bytes of an uploaded audience
MAX_COLUMNS = 20                    # variables per contact
MAX_VALUE = 200                     # characters of one variable
MAX_TEXT = 1000                     # characters of an SMS broadcast's text
MAX_PROBLEMS = 100                  # lines reported as unusable
NUMBER_COLUMNS = ("number", "phone", "msisdn", "номер", "телефон")
VARIABLE = re.compile(r"[a-z][a-z0-9_]{0,31}")
HOURS = re.compile(r"([01][0-9]|2[0-4]):([0-5][0-9])")
ACTIONS = ("start", "pause", "resume", "cancel")


def _minutes(text: Any) -> int:
    match = HOURS.fullmatch(str(text))
    if match is None or int(match.group(1)) * 60 + int(match.group(2)) > 24 * 60:
        raise ApiError(400, t("hours are HH:MM, e.g. 09:00"))
    return int(match.group(1)) * 60 + int(match.group(2))


def _number(body: dict[str, Any], name: str, low: float, high: float, default: float, whole: bool = True) -> Any:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (whole and not float(value).is_integer()):
        raise ApiError(400, t("{name} must be a number", name=name))
    if not low <= value <= high:
        raise ApiError(400, t("{name} must be between {low} and {high}", name=name, low=low, high=high))
    return int(value) if whole else float(value)


async def create(request: web.Request) -> web.Response:
    """A new outbound campaign (draft) from the tenant's flow campaign and one of its leased numbers."""
    tenant_id = await acting_tenant(request)
    body = await read_json(request)
    store = store_of(request)
    channel = body.get("channel", "voice")
    if channel not in CHANNELS:
        raise ApiError(400, t("channel must be voice, sms or voice_sms"))
    number = str(body.get("number", ""))
    if number not in {n.number for n in await store.tenant_numbers(tenant_id)}:
        raise ApiError(403, t("number {number} is not leased to you", number=number))
    text = body.get("text")
    if channel != "voice" and (not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT):
        raise ApiError(400, t("an SMS broadcast needs a text of 1 to {n} characters", n=MAX_TEXT))
    zone = str(body.get("time_zone", "Europe/Kyiv"))
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ApiError(400, t("unknown time zone {zone!r}", zone=zone)) from None
    hours = body.get("hours", ["09:00", "21:00"])
    if not isinstance(hours, list) or len(hours) != 2:
        raise ApiError(400, t("hours are HH:MM, e.g. 09:00"))
    settings = Settings(
        campaign_id=str(body.get("campaign_id", "")), name=str(body.get("name") or "outbound")[:128], channel=channel,
        number=number, text=text if channel != "voice" else None,
        rate=_number(body, "rate", 0.01, 200, 1.0, whole=False), concurrent=_number(body, "concurrent", 1, 1000, 10),
        time_zone=zone, hours_start=_minutes(hours[0]), hours_end=_minutes(hours[1]),
        max_attempts=_number(body, "max_attempts", 1, 10, 3),
        retry_seconds=_number(body, "retry_seconds", 0, 86400, 600))
    outbound = await store.outbound_create(tenant_id, settings)
    return web.json_response(outbound.as_json(), status=201)


async def list_outbound(request: web.Request) -> web.Response:
    """The tenant's outbound campaigns, newest first (admin: every tenant's)."""
    scope = principal_of(request).scope
    return web.json_response([o.as_json() for o in await store_of(request).outbound_list(scope)])


async def get_outbound(request: web.Request) -> web.Response:
    """An outbound campaign with its progress."""
    scope = principal_of(request).scope
    store = store_of(request)
    oid = request.match_info["outbound_id"]
    outbound = await store.outbound(scope, oid)
    progress = await store.outbound_progress(scope, oid)
    return web.json_response({**outbound.as_json(), "progress": progress.as_json()})


async def progress(request: web.Request) -> web.Response:
    """Done/total, per state and result, and the estimated seconds left."""
    progress = await store_of(request).outbound_progress(principal_of(request).scope, request.match_info["outbound_id"])
    return web.json_response(progress.as_json())


async def upload_audience(request: web.Request) -> web.Response:
    """A CSV with a header: a number column (number, phone, msisdn) and the contact's variables
    ({{contact.name}}...). Numbers are normalised to E.164; unusable lines are listed, not added."""
    tenant_id = await acting_tenant(request)
    data = await read_body(request)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApiError(400, t("the audience must be UTF-8 CSV")) from None
    region = engine_of(request).region
    contacts, problems = await asyncio.to_thread(parse_audience, text, region)     # 100,000 lines: off the loop
    added = await store_of(request).outbound_add_audience(tenant_id, request.match_info["outbound_id"], contacts)
    return web.json_response({"added": added, "lines": len(contacts) + len(problems),
                              "problems": problems[:MAX_PROBLEMS]})


def parse_audience(text: str, region: str) -> tuple[list[tuple[str, dict[str, Any]]], list[dict[str, Any]]]:
    """(E.164 number, variables) per usable line, and the problems of the others (line number, why)."""
    reader = csv.reader(io.StringIO(text))
    head = next(reader, None)
    if head is None:
        raise ApiError(400, t("the audience is empty"))
    names = [name.strip().lower() for name in head]
    column = next((i for i, name in enumerate(names) if name in NUMBER_COLUMNS), None)
    if column is None:
        raise ApiError(400, t("the audience needs a number column (number, phone or msisdn)"))
    if len(names) > MAX_COLUMNS + 1:
        raise ApiError(400, t("an audience has at most {n} variables", n=MAX_COLUMNS))
    for i, name in enumerate(names):
        if i != column and not VARIABLE.fullmatch(name):
            raise ApiError(400, t("column {name!r}: variables are lower-case letters, digits and _", name=name))
    contacts: list[tuple[str, dict[str, Any]]] = []
    problems: list[dict[str, Any]] = []
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(contacts) >= MAX_AUDIENCE:
            raise ApiError(413, t("an audience holds at most {n} numbers", n=MAX_AUDIENCE))
        raw = row[column].strip() if column < len(row) else ""
        caller = normalize(raw, region)
        if caller.e164 is None:
            problems.append({"line": line, "value": raw[:64], "problem": "not a phone number"})
            continue
        variables = {names[i]: cell.strip()[:MAX_VALUE] for i, cell in enumerate(row) if i != column and i < len(names)}
        contacts.append((caller.e164, variables))
    return contacts, problems


async def audience_from_contacts(request: web.Request) -> web.Response:
    """The tenant's contact base (of one campaign, or all) as the audience: never numbers that withdrew their
    consent or opted out; with consent "given" only those who said yes."""
    tenant_id = await acting_tenant(request)
    body = await read_json(request)
    consent = body.get("consent", "given")
    if consent not in ("given", "not_withdrawn"):
        raise ApiError(400, t("consent must be given or not_withdrawn"))
    store = store_of(request)
    campaign = body.get("campaign_id")
    base = await store.contacts(tenant_id, str(campaign) if campaign else None)
    contacts = [(c.number, {}) for c in base if not c.opted_out and (consent != "given" or c.consent == "yes")]
    added = await store.outbound_add_audience(tenant_id, request.match_info["outbound_id"], contacts)
    return web.json_response({"added": added, "lines": len(contacts), "problems": []})


async def control(request: web.Request) -> web.Response:
    """start, pause, resume or cancel."""
    action = request.match_info["action"]
    if action not in ACTIONS:
        raise ApiError(404, t("no such endpoint"))
    tenant_id = await acting_tenant(request)
    outbound = await store_of(request).outbound_control(tenant_id, request.match_info["outbound_id"], action)
    return web.json_response(outbound.as_json())


async def results_csv(request: web.Request) -> web.StreamResponse:
    """Per number: state, result, the flow's outcome, attempts, the last call."""
    oid = request.match_info["outbound_id"]
    found = await store_of(request).outbound_results(principal_of(request).scope, oid)

    async def rows():
        for r in found:
            yield dict(zip(ContactResult.columns(), r.cells()))
    return await stream_csv(request, f"outbound-{oid}-results.csv", ContactResult.columns(), rows())
