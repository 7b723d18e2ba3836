"""A campaign's flow: its diagram (nodes, labelled exits) and how sessions went through it, live.

The diagram of a stored version is drawn from its file (`ivr.flow.diagram`), read in a capped worker
process (`CampaignJobs.diagram`) and kept by the file's SHA-256 (DIAGRAMS at most). Counts (`Store.flow_counts`) are for one version, or all,
one channel or both, and a period; `busiest` is the path from the start along the exits most sessions
took, on the version's diagram (the active version's when counting every version).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from aiohttp import web

from ivr.channels.campaign_jobs import JobFailed
from ivr.flow.diagram import Diagram, busiest_path
from ivr.i18n import message_of, t
from ivr.store import DialplanVersion, FlowFilter

from .business import stored_version
from .core import ApiError, engine_of, event_stream, owned_campaign, query_time, store_of

DIAGRAMS = 64               # diagrams kept, by file SHA-256
FLOW_POLL = 2.0             # seconds between reads of the counts for the live stream
CHANNELS = ("voice", "sms")

_cache: OrderedDict[str, Diagram] = OrderedDict()


async def campaign_diagram(request: web.Request) -> web.Response:
    """The diagram of one version (?version=N; default: the one in service, else the latest)."""
    campaign_id = request.match_info["campaign_id"]
    tenant_id = await owned_campaign(request, campaign_id)
    versions = await store_of(request).list_versions(tenant_id, campaign_id)
    shown = await _shown_version(request, campaign_id, versions)
    graph = await diagram_of(request, shown)
    return web.json_response({"campaign_id": campaign_id, "version": shown.version, "active": shown.active,
                              "versions": [v.version for v in versions], **graph.as_dict()})


async def flow(request: web.Request) -> web.Response:
    """Sessions per node and per arrow, where they left, and the busiest path (filters in the query)."""
    campaign_id = request.match_info["campaign_id"]
    tenant_id = await owned_campaign(request, campaign_id)
    filters, graph = await _filters(request, tenant_id, campaign_id)
    return web.json_response(await flow_counts(request, tenant_id, campaign_id, filters, graph))


async def flow_live(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: `event: flow` (as GET .../flow) at once, on change and every 2 s."""
    campaign_id = request.match_info["campaign_id"]
    tenant_id = await owned_campaign(request, campaign_id)
    filters, graph = await _filters(request, tenant_id, campaign_id)
    return await event_stream(request, "flow", lambda: flow_counts(request, tenant_id, campaign_id, filters, graph),
                              FLOW_POLL)


async def flow_counts(request: web.Request, tenant_id: str, campaign_id: str, filters: FlowFilter,
                      graph: Diagram) -> dict[str, Any]:
    counts = await store_of(request).flow_counts(tenant_id, campaign_id, filters)
    moved = {f"{a}>{b}": n for (a, b), n in counts.moved.items()}
    return {"version": filters.version, "channel": filters.channel,
            "since": filters.since.isoformat() if filters.since else None,
            "until": filters.until.isoformat() if filters.until else None,
            "sessions": counts.sessions, "ongoing": counts.ongoing, "nodes": counts.reached, "edges": moved,
            "left": {node or "": n for node, n in counts.left.items()}, "busiest": busiest_path(graph, moved)}


async def diagram_of(request: web.Request, version: DialplanVersion) -> Diagram:
    """The diagram of a stored version (drawn in a worker process the first time)."""
    graph = _cache.get(version.sha256)
    if graph is None:
        try:
            graph = await engine_of(request).campaigns.jobs.diagram(version.source_text)
        except JobFailed as exc:
            raise ApiError(422, message_of(exc)) from None
        if graph is None:
            raise ApiError(422, t("version {version} of {campaign!r} cannot be read", version=version.version,
                                     campaign=version.campaign_id))
        _cache[version.sha256] = graph
        while len(_cache) > DIAGRAMS:
            _cache.popitem(last=False)
    _cache.move_to_end(version.sha256)
    return graph


async def _shown_version(request: web.Request, campaign_id: str, versions: list[DialplanVersion]
                         ) -> DialplanVersion:
    text = request.query.get("version", "")
    if text and text != "all":
        if not (text.isascii() and text.isdigit()):
            raise ApiError(400, t('version must be a number or "all"'))
        return await stored_version(request, campaign_id, int(text))
    shown = next((v for v in versions if v.active), versions[-1] if versions else None)
    if shown is None:
        raise ApiError(404, t("campaign {campaign!r} has no version", campaign=campaign_id))
    return shown


async def _filters(request: web.Request, tenant_id: str, campaign_id: str) -> tuple[FlowFilter, Diagram]:
    """The counts' filters from ?version=N|all&channel=voice|sms&since=&until= (default: the version in
    service, both channels, all time) and the diagram the busiest path is found on."""
    channel = request.query.get("channel") or None
    if channel is not None and channel not in CHANNELS:
        raise ApiError(400, t('channel must be "voice" or "sms" (or absent for both)'))
    since, until = query_time(request, "since"), query_time(request, "until")
    if since is not None and until is not None and until <= since:
        raise ApiError(400, t("until must be later than since"))
    versions = await store_of(request).list_versions(tenant_id, campaign_id)
    shown = await _shown_version(request, campaign_id, versions)
    every = request.query.get("version") == "all"
    return FlowFilter(None if every else shown.version, channel, since, until), await diagram_of(request, shown)
