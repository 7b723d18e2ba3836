"""POST /api/sms/inbound: an SMS to a short number runs the same campaign as a call.

The SMS gateway authenticates with `Authorization: Bearer TOKEN`, the node's `--sms-token`; without one
configured the path answers 401 to everyone (a forged inbound SMS could vote in anyone's name).

With an outbound URL configured, replies are POSTed there, and a background task sends the reminders
of conversations left waiting (see `SmsGateway.remind_due`) every `REMINDER_POLL` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime

import aiohttp
from aiohttp import web

from ivr.channels.sms import SmsGateway

from .api.core import bearer_is

log = logging.getLogger(__name__)

SMS_GATEWAY = web.AppKey("sms_gateway", SmsGateway)
SMS_OUTBOUND_URL = web.AppKey("sms_outbound_url", str)
SMS_TOKEN = web.AppKey("sms_token", str)
REMINDER_POLL = 5.0


async def inbound(request: web.Request) -> web.Response:
    """JSON {from, to, text, message_id} → {"replies": [...]} (also POSTed to the outbound webhook)."""
    if not bearer_is(request, request.app.get(SMS_TOKEN)):
        return web.json_response({"error": "missing or wrong SMS gateway token",
                                  "hint": "send Authorization: Bearer TOKEN, the engine's --sms-token"}, status=401)
    try:
        body = await request.json()
    except ValueError:
        return web.json_response({"error": "body must be JSON"}, status=400)
    if not isinstance(body, dict):
        return web.json_response({"error": "body must be a JSON object"}, status=400)
    missing = [f for f in ("from", "to", "text", "message_id") if not isinstance(body.get(f), str) or not body[f]]
    if missing and missing != ["text"]:
        return web.json_response({"error": f"missing or not a string: {', '.join(missing)}"}, status=400)
    if len(body.get("text") or "") > 1600:
        return web.json_response({"error": "text longer than 1600 characters"}, status=413)
    gateway = request.app[SMS_GATEWAY]
    try:
        reply = await gateway.inbound(body["message_id"], body["from"], body["to"], body.get("text") or "")
    except LookupError as exc:
        return web.json_response({"error": str(exc)}, status=404)
    if reply.duplicate:
        return web.json_response({"duplicate": True, "replies": []})
    outbound = request.app.get(SMS_OUTBOUND_URL)
    if outbound and reply.replies:
        await _deliver(outbound, body["to"], body["from"], reply.replies)
    return web.json_response({"session": reply.session_id, "replies": reply.replies})


async def _deliver(url: str, sender: str, to: str, texts: list[str]) -> None:
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
            for text in texts:
                async with session.post(url, json={"from": sender, "to": to, "text": text}) as response:
                    if response.status >= 300:
                        log.warning("SMS outbound webhook answered %s", response.status)
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("SMS outbound webhook failed: %s", exc)


async def send_reminders(app: web.Application, now: datetime | None = None) -> None:
    """Send every reminder due by `now` (default: now); the store hands each to one node only."""
    for reply in await app[SMS_GATEWAY].remind_due(now):
        if reply.replies:
            await _deliver(app[SMS_OUTBOUND_URL], reply.number, reply.caller, reply.replies)


async def reminders(app: web.Application) -> AsyncIterator[None]:
    """aiohttp cleanup context: the reminder loop runs while the app does (only with an outbound URL)."""
    async def loop() -> None:
        while True:
            await asyncio.sleep(REMINDER_POLL)
            try:
                await send_reminders(app)
            except Exception:
                log.exception("SMS reminders failed; trying again in %.0f s", REMINDER_POLL)
    task = asyncio.ensure_future(loop()) if app.get(SMS_OUTBOUND_URL) else None
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def sms_routes() -> list[web.RouteDef]:
    return [web.post("/api/sms/inbound", inbound)]
