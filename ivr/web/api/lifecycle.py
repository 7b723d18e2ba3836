"""Lifecycle endpoints: pause and resume a campaign, end it at a date, archive it, delete a draft.

Each answers the campaign's lifecycle (`state`: draft, live, paused, ended, archived, and its times) and
puts the change in service on this node at once (other nodes follow within seconds). A paused or ended
campaign's numbers answer with its closed text; nothing it collected is ever deleted (only a draft is).
"""

from __future__ import annotations

from datetime import datetime, timezone

from aiohttp import web

from ivr.i18n import t
from ivr.store import Lifecycle

from .core import ApiError, engine_of, owned_campaign, principal_of, read_json, store_of

# What these endpoints refuse, in words.
MESSAGES = {
    "at": t('body must be {{"at": "2026-12-24T21:00:00+02:00"}} (ISO 8601 with an offset), or {{"at": null}} '
            'for no end'),
}


async def pause(request: web.Request) -> web.Response:
    """New calls and messages get the closed text until the campaign is resumed."""
    return await _change(request, "pause")


async def resume(request: web.Request) -> web.Response:
    return await _change(request, "resume")


async def archive(request: web.Request) -> web.Response:
    """Out of service for good (a paused or ended campaign); its short numbers are freed, its results stay."""
    return await _change(request, "archive")


async def end(request: web.Request) -> web.Response:
    """Close the campaign at a time (now when the body gives none; null: no end any more)."""
    body = await read_json(request)
    at: datetime | None = datetime.now(timezone.utc)
    if "at" in body:
        at = _moment(body["at"])
    campaign_id = request.match_info["campaign_id"]
    tenant_id = await owned_campaign(request, campaign_id)
    lifecycle = await store_of(request).end_at(tenant_id, campaign_id, at, principal_of(request).actor)
    return await _answer(request, campaign_id, lifecycle)


async def delete_draft(request: web.Request) -> web.Response:
    """Delete a campaign that never went live (409 for any other: archive it instead)."""
    campaign_id = request.match_info["campaign_id"]
    tenant_id = await owned_campaign(request, campaign_id)
    await store_of(request).delete_draft(tenant_id, campaign_id, principal_of(request).actor)
    await engine_of(request).campaigns.refresh()
    return web.Response(status=204)


async def _change(request: web.Request, what: str) -> web.Response:
    campaign_id = request.match_info["campaign_id"]
    tenant_id = await owned_campaign(request, campaign_id)
    lifecycle = await getattr(store_of(request), what)(tenant_id, campaign_id, principal_of(request).actor)
    return await _answer(request, campaign_id, lifecycle)


async def _answer(request: web.Request, campaign_id: str, lifecycle: Lifecycle) -> web.Response:
    await engine_of(request).campaigns.refresh()
    return web.json_response({"campaign_id": campaign_id, **lifecycle.as_dict(datetime.now(timezone.utc))})


def _moment(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(400, MESSAGES["at"])
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, MESSAGES["at"]) from None
    if at.tzinfo is None:
        raise ApiError(400, MESSAGES["at"])
    return at
