"""Winner draw endpoints: freeze a campaign's entries (their SHA-256 published), draw winners once with a
seed, export entries and winners as CSV, check a draw again (the algorithm: `ivr.flow.draw`)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from ivr.engine import draws
from ivr.flow.draw import DrawError, Entry, entries_csv
from ivr.flow.model import Campaign

from ivr.i18n import message_of, t

from .business import parsed_version
from .columns import BOM, csv_language, header
from .core import ApiError, engine_of, owned_campaign, principal_of, read_json, store_of

PAGE = 5000                 # entries written at a time
WINNER_COLUMNS = ("place", "entry", "caller", "kind", "name", "value", "at", "outcome")
# What these endpoints refuse, in words.
MESSAGES = {
    "time": lambda name: t("{name} must be an ISO 8601 time with an offset, e.g. 2026-12-01T00:00:00+02:00",
                           name=name),
    "no_version": lambda campaign: t("campaign {campaign!r} has no version", campaign=campaign),
    "body": t('body must be {{"winners": N, "seed": "text given at draw time"}} (seed optional)'),
}


async def freeze(request: web.Request) -> web.Response:
    """Freeze the campaign's entries now (made in [since, until), if given): 201 with the new draw and the
    SHA-256 of its entries, to publish before drawing."""
    campaign_id = request.match_info["campaign_id"]
    tenant_id = await owned_campaign(request, campaign_id)
    body = await read_json(request)
    campaign = await campaign_model(request, tenant_id, campaign_id)
    try:
        draw = await draws.freeze(store_of(request), tenant_id, campaign, _time(body, "since"), _time(body, "until"),
                                  principal_of(request).actor)
    except DrawError as exc:
        raise ApiError(422, message_of(exc)) from None
    return web.json_response(draw.as_dict(), status=201)


async def list_draws(request: web.Request) -> web.Response:
    """The campaign's draws, newest first."""
    campaign_id = request.match_info["campaign_id"]
    tenant_id = await owned_campaign(request, campaign_id)
    found = await store_of(request).draws(tenant_id, campaign_id)
    return web.json_response([d.as_dict() for d in found])


async def get_draw(request: web.Request) -> web.Response:
    """A draw with its winners."""
    campaign_id, draw_id = request.match_info["campaign_id"], request.match_info["draw_id"]
    tenant_id = await owned_campaign(request, campaign_id)
    return web.json_response((await store_of(request).draw(tenant_id, campaign_id, draw_id)).as_dict())


async def draw_winners(request: web.Request) -> web.Response:
    """Draw the winners of a frozen draw with the seed given now (or a random one, recorded); once. With
    `notify` (a message template) each winner is sent it by SMS, as `notify_winners` does."""
    campaign_id, draw_id = request.match_info["campaign_id"], request.match_info["draw_id"]
    tenant_id = await owned_campaign(request, campaign_id)
    body = await read_json(request)
    winners, seed, notice = body.get("winners"), body.get("seed"), body.get("notify")
    if not isinstance(winners, int) or isinstance(winners, bool) or (seed is not None and not isinstance(seed, str)):
        raise ApiError(400, MESSAGES["body"])
    campaign = await campaign_model(request, tenant_id, campaign_id) if notice is not None else None
    try:
        if campaign is not None:                       # a message that cannot be sent is refused before drawing
            draws.check_sender(campaign, notice, _route(request))
        drawn = await draws.run(store_of(request), tenant_id, campaign_id, draw_id, winners, seed,
                                principal_of(request).actor)
        answer = drawn.as_dict()
        if campaign is not None:
            answer["notices"] = [n.as_dict() for n in await draws.notify(
                store_of(request), tenant_id, campaign, draw_id, notice, _route(request), principal_of(request).actor)]
    except DrawError as exc:
        raise ApiError(422, message_of(exc)) from None
    _wake(request)
    return web.json_response(answer)


async def notify_winners(request: web.Request) -> web.Response:
    """Send each winner of a drawn draw the message `text` by SMS from the campaign's number, through the
    outbox: once per winner however often this is asked (the answer then tells each message's state);
    winners who opted out of the number are not messaged ("blocked")."""
    campaign_id, draw_id = request.match_info["campaign_id"], request.match_info["draw_id"]
    tenant_id = await owned_campaign(request, campaign_id)
    body = await read_json(request)
    campaign = await campaign_model(request, tenant_id, campaign_id)
    try:
        notices = await draws.notify(store_of(request), tenant_id, campaign, draw_id, body.get("text"),
                                     _route(request), principal_of(request).actor)
    except DrawError as exc:
        raise ApiError(422, message_of(exc)) from None
    _wake(request)
    return web.json_response({"draw": draw_id, "notices": [n.as_dict() for n in notices]})


def _route(request: web.Request) -> str | None:
    """How this node sends SMS (None: it cannot)."""
    return getattr(engine_of(request).services, "sms_route", None)


def _wake(request: web.Request) -> None:
    """Tell the outbox dispatcher that messages are queued."""
    wake = getattr(engine_of(request).services, "sms_wake", None)
    if wake is not None:
        wake()


async def entries_file(request: web.Request) -> web.StreamResponse:
    """The draw's entries as the canonical CSV whose SHA-256 is the draw's `entries_sha256` (never translated:
    its bytes are what the hash is of)."""
    campaign_id, draw_id = request.match_info["campaign_id"], request.match_info["draw_id"]
    tenant_id = await owned_campaign(request, campaign_id)
    store = store_of(request)
    await store.draw(tenant_id, campaign_id, draw_id)                 # 404 before the answer starts
    response = web.StreamResponse(headers=_csv_headers(f"{campaign_id}-draw-{draw_id}-entries.csv"))
    await response.prepare(request)
    page: list[Entry] = []
    async for entry in store.draw_entries(tenant_id, campaign_id, draw_id):
        page.append(entry)
        if len(page) == PAGE:
            await _write_entries(response, page)
            page = []
    if page or response.body_length == 0:
        await _write_entries(response, page)
    await response.write_eof()
    return response


async def _write_entries(response: web.StreamResponse, page: list[Entry]) -> None:
    start = page[0].entry if page else 1
    for piece in entries_csv(page, start):
        await response.write(piece.encode("utf-8"))


async def winners_file(request: web.Request) -> web.StreamResponse:
    """The winners, by place, with the entry each won with."""
    campaign_id, draw_id = request.match_info["campaign_id"], request.match_info["draw_id"]
    tenant_id = await owned_campaign(request, campaign_id)
    rows = await store_of(request).draw_winners(tenant_id, campaign_id, draw_id)
    language = csv_language(request)
    buffer = io.StringIO(BOM if language else "")
    buffer.seek(0, io.SEEK_END)
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header(WINNER_COLUMNS, language))
    for winner, entry in rows:
        writer.writerow([winner.place, *entry.row()])
    return web.Response(body=buffer.getvalue().encode("utf-8"),
                        headers={**_csv_headers(f"{campaign_id}-draw-{draw_id}-winners.csv"),
                                 **({"Content-Language": language} if language else {})})


async def verify(request: web.Request) -> web.Response:
    """Hash the stored entries again and draw again with the recorded seed: do both match?"""
    campaign_id, draw_id = request.match_info["campaign_id"], request.match_info["draw_id"]
    tenant_id = await owned_campaign(request, campaign_id)
    verdict = await draws.verify(store_of(request), tenant_id, campaign_id, draw_id)
    return web.json_response({"ok": verdict.ok, "entries_sha256": verdict.entries_sha256,
                              "hash_matches": verdict.hash_matches, "winners_match": verdict.winners_match,
                              "winners": [{"place": w.place, "entry": w.entry, "caller": w.caller}
                                          for w in verdict.winners]})


async def campaign_model(request: web.Request, tenant_id: str, campaign_id: str) -> Campaign:
    """The campaign as in service on this node, else its active or latest stored version."""
    engine = engine_of(request)
    deployed = engine.campaigns.deployed(campaign_id)
    if deployed is not None:
        return deployed.campaign
    versions = await store_of(request).list_versions(tenant_id, campaign_id)
    chosen = next((v for v in versions if v.active), versions[-1] if versions else None)
    if chosen is None:
        raise ApiError(404, MESSAGES["no_version"](campaign_id))
    return await parsed_version(engine, chosen, tenant_id)


def _csv_headers(filename: str) -> dict[str, str]:
    return {"Content-Type": "text/csv; charset=utf-8", "Content-Disposition": f'attachment; filename="{filename}"'}


def _time(body: dict[str, Any], name: str) -> datetime | None:
    value = body.get(name)
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, MESSAGES["time"](name)) from None
    if at.tzinfo is None:
        raise ApiError(400, MESSAGES["time"](name))
    return at.astimezone(timezone.utc)
