"""The operator's round-the-clock view: this node's health and traffic (GET /api/node), and the audit log
of who changed what (GET /api/audit, administrators).

Health comes from the engine's view (`EngineView.status`, the one reader of engine internals); traffic per
minute and failed webhooks from the store, so they cover every node sharing it. An operator key sees
its own tenant's campaigns, calls and failures; the node's health (clock, SIP, trunk, links, store) is
the same for everyone.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from aiohttp import web

from ivr.engine.metrics import status_dict
from ivr.i18n import t

from .core import ApiError, engine_of, principal_of, store_of

TRAFFIC_MINUTES = 60        # per-minute traffic over this many minutes
FAILURES_SINCE = timedelta(hours=24)
FAILURES_SHOWN = 20


async def node(request: web.Request) -> web.Response:
    """Calls now by campaign, traffic per minute, errors, trunk, SMSC links and the store's backlog."""
    engine, store, scope = engine_of(request), store_of(request), principal_of(request).scope
    status = status_dict(engine.status())
    if scope is not None:
        status["calls_by_campaign"] = {campaign_id: n for campaign_id, n in status["calls_by_campaign"].items()
                                       if _tenant_of(engine, campaign_id) == scope}
    now = datetime.now(timezone.utc)
    since, until = now - timedelta(minutes=TRAFFIC_MINUTES), now + timedelta(seconds=1)
    gauges = store.gauges()
    by_campaign = await store.calls_per_minute_by_campaign(scope, since, until)
    return web.json_response({
        **status,
        "store": {"online": gauges["store_online"] == 1.0, "queue": int(gauges["store_queue_depth"]),
                  "spool": int(gauges["store_spool_records"])},
        "calls_per_minute": {campaign_id: [[m.isoformat(), n] for m, n in minutes]
                             for campaign_id, minutes in by_campaign.items()},
        "sms_per_minute": [[m.isoformat(), received, sent]
                           for m, received, sent in await store.sms_per_minute(scope, since, until)],
        "webhook_failures": [f.as_dict() for f in await store.webhook_failures(scope, now - FAILURES_SINCE,
                                                                                FAILURES_SHOWN)]})


async def audit_log(request: web.Request) -> web.Response:
    """Who changed what, newest first: ?limit=N (at most 500), ?before=ID to page, ?tenant=ID."""
    limit, before = _number(request, "limit", 50), _number(request, "before", None)
    entries = await store_of(request).audit_entries(request.query.get("tenant") or None, limit or 50, before)
    return web.json_response([entry.as_dict() for entry in entries])


def _tenant_of(engine: object, campaign_id: str) -> str | None:
    deployed = engine.campaigns.deployed(campaign_id)            # type: ignore[attr-defined]
    return deployed.tenant_id if deployed is not None else None


def _number(request: web.Request, name: str, default: int | None) -> int | None:
    text = request.query.get(name)
    if not text:
        return default
    if not (text.isascii() and text.isdigit()):
        raise ApiError(400, t("{name} must be a number", name=name))
    return int(text)
