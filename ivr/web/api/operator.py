"""Operator endpoints: the call log with filters, CSV export, call detail, active calls, recordings."""

from __future__ import annotations

import re
from dataclasses import fields

from aiohttp import web

from ivr.channels.caller_id import normalize
from ivr.store import CallFilter, CallSummary

from .business import stream_csv
from ivr.i18n import t

from .core import ApiError, engine_of, principal_of, query_time, store_of

RECORDING = re.compile(r"[A-Za-z0-9_-]+\.wav")
MAX_LIMIT = 1000


async def calls(request: web.Request) -> web.Response:
    """Calls matching the filters, newest first: {"total", "calls"}."""
    filters = call_filter(request)
    limit, offset = _int(request, "limit", 50), _int(request, "offset", 0)
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError(400, t("limit must be 1 to {most}", most=MAX_LIMIT))
    store, scope = store_of(request), principal_of(request).scope
    rows = await store.call_log(scope, filters, limit, offset)
    return web.json_response({"total": await store.count_calls(scope, filters), "calls": [c.row() for c in rows]})


async def calls_csv(request: web.Request) -> web.StreamResponse:
    """Every call matching the filters as CSV, oldest first."""
    filters = call_filter(request)
    rows = (c.row() async for c in store_of(request).export_calls(principal_of(request).scope, filters))
    return await stream_csv(request, "calls.csv", [f.name for f in fields(CallSummary)], rows)


async def active_calls(request: web.Request) -> web.Response:
    """The calls in progress on this node now."""
    scope = principal_of(request).scope
    return web.json_response([
        {"call_id": c.call_id, "caller": c.caller, "number": c.number, "campaign_id": c.campaign_id,
         "version": c.version, "seconds": c.seconds, "answered": c.answered, "node": c.node}
        for c in engine_of(request).live_calls() if scope is None or c.tenant_id == scope])


async def call_detail(request: web.Request) -> web.Response:
    """One call with its timeline ("events"), outcomes, voice messages ("recordings") and the SMS it sent
    ("messages", with their delivery state and part count)."""
    detail = await store_of(request).call_detail(principal_of(request).scope, request.match_info["call_id"])
    if detail is None:
        raise ApiError(404, t("no such call"))
    recordings = [{"id": e.data["recording_id"], "duration": e.data.get("duration"),
                   "url": f"/api/recordings/{e.data['recording_id']}"}
                  for e in detail.events if e.kind == "record_result" and e.data.get("recording_id")]
    return web.json_response({
        **detail.call.row(), "path": detail.path,
        "events": [{"at": e.at.isoformat(), "kind": e.kind, "data": e.data} for e in detail.events],
        "outcomes": [o.row() for o in detail.outcomes], "recordings": recordings,
        "messages": [m.row() for m in detail.messages]})


async def recording(request: web.Request) -> web.FileResponse:
    """A voice message as 8 kHz WAV."""
    recording_id = request.match_info["recording_id"]
    if not RECORDING.fullmatch(recording_id):
        raise ApiError(404, t("no such recording"))
    if await store_of(request).recording_call(principal_of(request).scope, recording_id) is None:
        raise ApiError(404, t("no such recording"))
    path = engine_of(request).recording(recording_id)
    if not path.is_file():
        raise ApiError(404, t("the recording is not on this node"))
    return web.FileResponse(path, headers={"Content-Type": "audio/wav"})


def call_filter(request: web.Request) -> CallFilter:
    """The call log's filters; a caller given in any form (`0501112233`) is looked up normalised, as the
    log keeps it (`+380501112233`, in the node's region)."""
    q = request.query
    caller = normalize(q["caller"], engine_of(request).region).key if q.get("caller") else None
    return CallFilter(number=q.get("number") or None, caller=caller,
                      campaign_id=q.get("campaign") or None, channel=q.get("channel") or None,
                      disposition=q.get("disposition") or None, since=query_time(request, "since"),
                      until=query_time(request, "until"))


def _int(request: web.Request, name: str, default: int) -> int:
    text = request.query.get(name)
    if not text:
        return default
    if not (text.isascii() and text.isdigit()):
        raise ApiError(400, t("{name} must be a non-negative number", name=name))
    return int(text)
