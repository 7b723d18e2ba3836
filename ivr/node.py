"""One running engine node: store + engine (SIP, media, flows) + HTTP side, started and stopped together."""

from __future__ import annotations

import asyncio
import logging
import socket

from aiohttp import web

from ivr.channels.mailer import Mailer
from ivr.channels.sms_runtime import SmsChannel
from ivr.channels.store_services import StoreServices
from ivr.channels.webhooks import WebhookClient
from ivr.flow.loader import load_file
from ivr.flow.validate import DialplanError
from ivr.store.db import Store, StoreOptions
from ivr.web.app import create_app
from ivr.web.demo import PREFIX as DEMO_PREFIX, uses_demo_api

from ivr.engine.config import EngineConfig
from ivr.engine.engine import Engine
from ivr.engine.reports import ReportSender

REPORT_POLL = 60.0      # seconds between looks for due campaign reports
FEE_POLL = 600.0        # seconds between runs of the monthly fees (each charged once, by whichever node)

log = logging.getLogger("ivr.node")


class Node:
    """Everything `ivr serve` runs."""

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self.store: Store | None = None
        self.engine: Engine | None = None
        self._runner: web.AppRunner | None = None
        self.http_address: tuple[str, int] | None = None
        self.sip_address: tuple[str, int] | None = None
        self._reports: asyncio.Task[None] | None = None
        self._fees: asyncio.Task[None] | None = None
        self._mailer: Mailer | None = None
        self.sms: SmsChannel | None = None

    async def start(self) -> None:
        """HTTP first (its /health says 503 "starting" to load balancers meanwhile), then the engine."""
        await self.start_http()
        await self.start_engine()

    async def start_http(self) -> None:
        """Open the store and serve HTTP; the engine is built but not started (not ready)."""
        config = self.config
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = await Store.open(config.db_url, config.data_dir / "spool",
                                      StoreOptions(operators=config.operators))
        mailer = self._mailer = Mailer(config.smtp_host, config.smtp_port, config.smtp_from) if config.smtp_host else None
        webhooks = WebhookClient(config.allow_private_webhooks, config.webhook_secret)
        services = StoreServices(self.store, mailer, webhooks)
        self.engine = Engine(config, self.store, services)
        webhooks.campaign_secret = self.engine.campaigns.webhook_secret
        self.sms = SmsChannel(self.store, self.engine.campaigns, services, config.smsc, config.sms_outbound_url,
                              config.sms_outbound_secret or config.webhook_secret, identity=config.identity,
                              on_link=self.engine.metrics.set_link,
                              outbound_node=config.node_name or f"{socket.gethostname()}:{config.sip_port}")
        demo = self._demo_campaigns()
        app = create_app(self.engine.view(), self.store, self.sms, config.sms_token, config.metrics_token, demo=demo)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, config.http_host, config.http_port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.http_address = sockets[0].getsockname()[:2]
        if demo:
            host, port = self.http_address or (config.http_host, config.http_port)
            host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
            webhooks.demo_base = f"http://{f'[{host}]' if ':' in host else host}:{port}{DEMO_PREFIX}"
            log.info("demo business API on %s (the demo campaigns call it)", webhooks.demo_base)

    def _demo_campaigns(self) -> bool:
        """Whether the dialplans folder holds a campaign that calls the demo business API."""
        assert self.engine is not None
        campaigns = []
        for path in self.engine.campaigns.files():
            try:
                campaigns.append(load_file(path))
            except DialplanError:
                continue                     # reported when the engine loads the folder
        return uses_demo_api(campaigns)

    async def start_engine(self) -> None:
        """Campaigns, prompts, SIP: /health answers 200 once this returns."""
        assert self.engine is not None and self.store is not None
        self.sip_address = await self.engine.start()
        if self.sms is not None:
            self.sms.start()
        if self._mailer is not None:
            self._reports = asyncio.ensure_future(self._send_reports(ReportSender(self.store, self._mailer)))
        self._fees = asyncio.ensure_future(self._charge_fees())
        address = self.http_address or (self.config.http_host, self.config.http_port)
        log.info("HTTP on %s:%s; engine ready", *address)

    async def _send_reports(self, sender: ReportSender) -> None:
        assert self.engine is not None
        while True:
            try:
                await sender.run_due(self.engine.campaigns.all())
            except Exception:
                log.exception("campaign reports failed; trying again in %.0f s", REPORT_POLL)
            await asyncio.sleep(REPORT_POLL)

    async def _charge_fees(self) -> None:
        assert self.store is not None
        while True:
            try:
                charged = await self.store.charge_fees()
                if charged:
                    log.info("monthly fees: %d charged", charged)
            except Exception:
                log.exception("monthly fees failed; trying again in %.0f s", FEE_POLL)
            await asyncio.sleep(FEE_POLL)

    async def stop(self, drain: bool = False, drain_seconds: float = 60.0) -> None:
        """Stop; with `drain`, refuse new calls (503), end calls still waiting for their ACK at once (no
        flood of half-open calls can hold the node), and wait up to `drain_seconds` for the calls in
        progress to finish."""
        for task in (self._reports, self._fees):
            if task is not None:
                task.cancel()
        if self.engine is not None:
            if drain:
                self.engine.drain()
                loop = asyncio.get_running_loop()
                deadline = loop.time() + drain_seconds
                while self.engine.calls and loop.time() < deadline:
                    await asyncio.sleep(0.1)
            await self.engine.stop()
        if self.sms is not None:
            await self.sms.stop()
        if self._runner is not None:
            await self._runner.cleanup()
        if self.store is not None:
            await self.store.close()
