"""The HTTP gateway of the SMS channel, for aggregators that speak HTTP (docs/api.md, "SMS gateway").

`POST /api/sms/inbound` — an SMS to a short number runs the same campaign as a call or an SMPP message.
`POST /api/sms/receipts` — the aggregator's delivery report for a message we POSTed to it.
Both authenticate with `Authorization: Bearer TOKEN`, the node's `--sms-token`; without one configured
they answer 401 to everyone (a forged inbound SMS could vote in anyone's name).

Replies are queued in the store's outbox: with an outbound URL (`--sms-outbound`) the dispatcher POSTs
each one there, signed and retried (`sms_outbox.HttpTransport`); without one they are in the response
only. A background task runs the reminders of conversations left waiting every `REMINDER_POLL` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime

from aiohttp import web

from ivr.channels.sms import SmsGateway
from ivr.channels.sms_metrics import SmsMetrics
from ivr.channels.sms_outbox import ROUTE_HTTP
from ivr.channels.smpp.receipts import FINAL as FINAL_RECEIPT_STATES

from .api.core import bearer_is

log = logging.getLogger(__name__)

SMS_GATEWAY = web.AppKey("sms_gateway", SmsGateway)
SMS_METRICS = web.AppKey("sms_metrics", SmsMetrics)
SMS_TOKEN = web.AppKey("sms_token", str)
REMINDER_POLL = 5.0
MAX_TEXT = 1600
RECEIPT_STATES = ("accepted", *FINAL_RECEIPT_STATES)


async def _gateway_json(request: web.Request) -> dict | web.Response:
    """The gateway's JSON object, or the answer refusing it: 401 without the gateway's token, 400 for a body
    that is not a JSON object."""
    if not bearer_is(request, request.app.get(SMS_TOKEN)):
        return web.json_response({"error": "missing or wrong SMS gateway token",
                                  "hint": "send Authorization: Bearer TOKEN, the engine's --sms-token"}, status=401)
    try:
        body = await request.json()
    except ValueError:
        return web.json_response({"error": "body must be JSON"}, status=400)
    if not isinstance(body, dict):
        return web.json_response({"error": "body must be a JSON object"}, status=400)
    return body


async def inbound(request: web.Request) -> web.Response:
    """JSON {from, to, text, message_id} → {"session", "replies": [...], "ids": [...]}."""
    body = await _gateway_json(request)
    if isinstance(body, web.Response):
        return body
    missing = [f for f in ("from", "to", "text", "message_id") if not isinstance(body.get(f), str) or not body[f]]
    if missing and missing != ["text"]:
        return web.json_response({"error": f"missing or not a string: {', '.join(missing)}"}, status=400)
    if len(body.get("text") or "") > MAX_TEXT:
        return web.json_response({"error": f"text longer than {MAX_TEXT} characters"}, status=413)
    gateway = request.app[SMS_GATEWAY]
    try:
        reply = await gateway.inbound(body["message_id"], body["from"], body["to"], body.get("text") or "",
                                      route=gateway.http_route)
    except LookupError as exc:
        return web.json_response({"error": str(exc)}, status=404)
    request.app[SMS_METRICS].inbound["http"] += 1
    if reply.duplicate:
        return web.json_response({"duplicate": True, "replies": []})
    return web.json_response({"session": reply.session_id, "replies": reply.replies, "ids": reply.ids})


async def receipt(request: web.Request) -> web.Response:
    """JSON {id, state, error?}: the delivery report of the message `id` (as POSTed to the gateway)."""
    body = await _gateway_json(request)
    if isinstance(body, web.Response):
        return body
    if not isinstance(body.get("id"), str) or not body["id"]:
        return web.json_response({"error": "missing or not a string: id"}, status=400)
    if body.get("state") not in RECEIPT_STATES:
        return web.json_response({"error": f"state must be one of {', '.join(RECEIPT_STATES)}"}, status=422)
    error = body.get("error")
    found = await request.app[SMS_GATEWAY].store.sms_receipt(
        link=ROUTE_HTTP, smsc_id=body["id"], state=body["state"], error=str(error)[:200] if error else None)
    if found is None:
        return web.json_response({"error": f"no message {body['id']} was sent to the SMS gateway"}, status=404)
    request.app[SMS_METRICS].receipts[body["state"]] += 1
    return web.json_response({"id": found[0], "state": found[1]})


async def send_reminders(app: web.Application, now: datetime | None = None) -> None:
    """Queue every reminder due by `now` (default: now); the store hands each to one node only."""
    await app[SMS_GATEWAY].remind_due(now)


async def reminders(app: web.Application) -> AsyncIterator[None]:
    """aiohttp cleanup context: the reminder loop runs while the app does (when SMS can be sent at all)."""
    async def loop() -> None:
        while True:
            await asyncio.sleep(REMINDER_POLL)
            try:
                await send_reminders(app)
            except Exception:
                log.exception("SMS reminders failed; trying again in %.0f s", REMINDER_POLL)
    task = asyncio.ensure_future(loop()) if app[SMS_GATEWAY].default_route else None
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def sms_routes() -> list[web.RouteDef]:
    return [web.post("/api/sms/inbound", inbound), web.post("/api/sms/receipts", receipt)]
