"""The HTTP side of a node (aiohttp): health for load balancers, Prometheus metrics, SMS inbound, API, web UI.

`/health` is open (load balancers); `/metrics` too unless the node has a metrics token, which the
scraper then sends as `Authorization: Bearer TOKEN` (401 without it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ivr.channels.sms_runtime import SmsChannel

from .api import setup_api
from .api.core import bearer_is
from .demo import setup_demo
from .sms import SMS_GATEWAY, SMS_METRICS, SMS_TOKEN, reminders, sms_routes
from .ui import setup_ui

if TYPE_CHECKING:
    from ivr.engine.view import EngineView
    from ivr.store.db import Store

ENGINE = web.AppKey("engine", object)
STORE = web.AppKey("store", object)
METRICS_TOKEN = web.AppKey("metrics_token", str)


async def health(request: web.Request) -> web.Response:
    """200 once the engine is ready and not draining; 503 otherwise (load balancers stop sending)."""
    engine = request.app[ENGINE]
    if engine.ready and not engine.draining:
        return web.json_response({"status": "ok", "active_calls": engine.active_calls()})
    return web.json_response({"status": "draining" if engine.draining else "starting"}, status=503)


async def metrics(request: web.Request) -> web.Response:
    """The `ivr_*` series in the Prometheus text format."""
    token = request.app.get(METRICS_TOKEN)
    if token is not None and not bearer_is(request, token):
        return web.Response(status=401, text="send Authorization: Bearer TOKEN, the node's --metrics-token\n",
                            headers={"WWW-Authenticate": "Bearer"})
    text = request.app[ENGINE].metrics(request.app[STORE].gauges()) + request.app[SMS_METRICS].render()
    return web.Response(text=text, content_type="text/plain", charset="utf-8")


def create_app(engine: "EngineView", store: "Store", sms: SmsChannel | None = None,
               sms_token: str | None = None, metrics_token: str | None = None, demo: bool = False) -> web.Application:
    """The node's HTTP side; `demo`: serve the demo business API the demo campaigns call (`demo.py`)."""
    app = web.Application(client_max_size=2 * 1024 * 1024)
    app[ENGINE] = engine
    app[STORE] = store
    sms = sms or SmsChannel(store, engine.campaigns, engine.services, identity=engine.identity)
    app[SMS_GATEWAY] = sms.gateway
    app[SMS_METRICS] = sms.metrics
    if sms_token:
        app[SMS_TOKEN] = sms_token
    if metrics_token:
        app[METRICS_TOKEN] = metrics_token
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", metrics)
    app.router.add_routes(sms_routes())
    setup_api(app, engine, store)
    setup_ui(app)
    if demo:
        setup_demo(app)
    app.cleanup_ctx.append(reminders)
    return app
