"""The SMS channel of one node, assembled: the gateway (campaigns over SMS), the outbox dispatcher with
its transports (the SMPP operator links of `--smsc`, the HTTP gateway of `--sms-outbound`), and what
receives from the links (MO messages, delivery receipts), and the SMS broadcasts of outbound campaigns
(`sms_broadcast`) when there is a route to send them on. Started and stopped with the node."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from typing import Any

from .caller_id import IdentitySettings
from .sms import SmsGateway
from .sms_broadcast import SmsBroadcasts
from .sms_metrics import SmsMetrics
from .sms_outbox import ROUTE_HTTP, ROUTE_RESPONSE, ROUTE_SMPP, HttpTransport, OutboxDispatcher, Transport
from .smpp.config import SmscConfig
from .smpp.link import SmppLink
from .smpp.receiver import SmppReceiver
from .smpp.router import Router
from .smpp.transport import SmppTransport

log = logging.getLogger(__name__)


class SmsChannel:
    def __init__(self, store: Any, campaigns: Any, services: Any, smsc: SmscConfig | None = None,
                 outbound_url: str | None = None, outbound_secret: str | None = None,
                 node_id: str | None = None, identity: IdentitySettings = IdentitySettings(),
                 on_link: Callable[[str, bool, str], None] | None = None, outbound_node: str | None = None) -> None:
        self.metrics = SmsMetrics()
        if on_link is not None:
            self.metrics.on_link = on_link
        transports: dict[str, Transport] = {}
        self.links: dict[str, SmppLink] = {}
        route = ROUTE_SMPP if smsc else ROUTE_HTTP if outbound_url else None
        self.gateway = SmsGateway(campaigns, store, services, default_route=route,
                                  http_route=ROUTE_HTTP if outbound_url else ROUTE_RESPONSE, identity=identity)
        self.receiver: SmppReceiver | None = None
        if smsc is not None:
            self.receiver = SmppReceiver(self.gateway, store, self.metrics, link_operators=smsc.link_operators())
            self.links = {name: SmppLink(settings, self.receiver, self.metrics)
                          for name, settings in smsc.links.items()}
            transports[ROUTE_SMPP] = SmppTransport(self.links, Router(smsc))
        if outbound_url:
            transports[ROUTE_HTTP] = HttpTransport(outbound_url, outbound_secret)
        self.dispatcher = OutboxDispatcher(store, transports, self.metrics, node_id)
        self.gateway.wake = self.dispatcher.wake
        self.broadcasts = (SmsBroadcasts(store, route, self.dispatcher.wake, outbound_node or socket.gethostname())
                           if route is not None else None)
        if hasattr(services, "sms_route"):
            services.sms_route = route
            services.sms_wake = self.dispatcher.wake

    def start(self) -> None:
        if self.receiver is not None:
            self.receiver.start()
        for link in self.links.values():
            link.start()
        self.dispatcher.start()
        if self.broadcasts is not None:
            self.broadcasts.start()

    async def stop(self) -> None:
        if self.broadcasts is not None:
            await self.broadcasts.stop()
        await self.dispatcher.stop()
        for link in self.links.values():
            await link.stop()
        if self.receiver is not None:
            await self.receiver.stop()
