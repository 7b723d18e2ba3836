"""The demo business API: what the demo campaigns' webhooks call, served by the node itself.

The order-status line (1414) looks orders up and the branch-alert line (2525) tells a branch manager;
a real brand points them at its own API (`ivr serve --var orders_api=...`). So that the demos work out
of the box, their dialplans name `channels.webhooks.DEMO_ORIGIN`, and a node whose dialplans folder holds
a campaign that does serves this small API on its HTTP port under `/demo/` (`Node.start_http`); without
such a campaign nothing is served there.

    GET  /demo/orders/{order}   {"order": "12345", "status": "shipped"}: a status made up from the number
    POST /demo/alerts           a notify node's JSON (subject, text, caller, ...): logged, {"ok": true}

It keeps nothing and returns no one's data: an order's status depends on its number alone, alerts only
go to the node's log.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from aiohttp import web

from ivr.channels.webhooks import DEMO_ORIGIN
from ivr.flow.model import Campaign, templated

log = logging.getLogger("ivr.demo")

PREFIX = "/demo"
STATUSES = ("being packed", "shipped", "out for delivery", "delivered")
ORDER = re.compile(r"[0-9]{1,20}")


def uses_demo_api(campaigns: Iterable[Campaign]) -> bool:
    """Whether any of `campaigns` calls the demo API (a variable or a webhook/notify target naming it)."""
    def names(value: object) -> bool:
        return isinstance(value, str) and DEMO_ORIGIN in value
    return any(any(names(v) for v in campaign.variables.values())
               or any(names(text) for node in campaign.nodes.values() for _, text in templated(node))
               for campaign in campaigns)


async def order(request: web.Request) -> web.Response:
    number = request.match_info["order"]
    if not ORDER.fullmatch(number):
        return web.json_response({"error": "an order number is 1 to 20 digits"}, status=404)
    return web.json_response({"order": number, "status": STATUSES[int(number) % len(STATUSES)]})


async def alert(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except ValueError:
        return web.json_response({"error": "send the alert as JSON"}, status=400)
    if not isinstance(body, dict):
        return web.json_response({"error": "send the alert as a JSON object"}, status=400)
    log.info("demo branch alert: %s: %s", str(body.get("subject", ""))[:200], str(body.get("text", ""))[:500])
    return web.json_response({"ok": True})


def setup_demo(app: web.Application) -> None:
    """Serve the demo API on `app` under /demo/."""
    app.router.add_get(f"{PREFIX}/orders/{{order}}", order)
    app.router.add_post(f"{PREFIX}/alerts", alert)
