"""SMS reminders: a conversation left waiting gets the ask's reminder once it is due, then the flow's
way out, each turn sent once even when two nodes poll the same store; what is queued reaches the HTTP
gateway through the outbox."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path

from aiohttp import web

from ivr.channels.effects import InMemoryServices
from ivr.channels.sms import SmsGateway
from ivr.channels.sms_runtime import SmsChannel
from ivr.engine.campaigns import CampaignRegistry
from ivr.store.db import Store
from ivr.web.sms import SMS_GATEWAY, send_reminders

ROOT = Path(__file__).resolve().parents[2]
LATER = timedelta(hours=2)           # past any reminder_after (at most one hour in the demos)


def registry() -> CampaignRegistry:
    campaigns = CampaignRegistry(ROOT / "dialplans")
    campaigns.load()
    return campaigns


def gateway(store: Store) -> SmsGateway:
    return SmsGateway(registry(), store, InMemoryServices(), default_route="http")


def test_reminder_then_way_out_then_nothing(tmp_path: Path) -> None:
    async def run() -> None:
        store = await Store.open(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool")
        try:
            nodes = [gateway(store), gateway(store)]            # two engine nodes on one store
            opened = await nodes[0].inbound("m1", "+15553333", "3838", "hello")
            assert opened.replies[-1] == "Reply with a number from 1 to 5 to vote."     # the SMS wording
            assert await nodes[0].remind_due() == []                 # not due yet
            now = datetime.now(timezone.utc)
            first = await asyncio.gather(nodes[0].remind_due(now + LATER), nodes[1].remind_due(now + LATER))
            sent = [reply for replies in first for reply in replies]
            assert len(sent) == 1 and sent[0].replies == ["Reply with a number from 1 to 5 to vote."]
            assert (sent[0].number, sent[0].caller) == ("3838", "+15553333")
            answered = await nodes[1].inbound("m2", "+15553333", "3838", "3")  # the caller answers after all
            assert answered.replies == ["Thank you, your vote for chloe is counted. Goodbye."]
            assert await nodes[0].remind_due(now + 10 * LATER) == []  # ended: nothing more is due
        finally:
            await store.close()
    asyncio.run(run())


def test_unanswered_reminders_end_by_the_noinput_way_and_are_delivered(tmp_path: Path) -> None:
    async def run() -> None:
        received: list[dict] = []

        async def outbound(request: web.Request) -> web.Response:
            received.append(await request.json())
            return web.json_response({})
        stub = web.Application()
        stub.router.add_post("/sms", outbound)
        runner = web.AppRunner(stub)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]               # type: ignore[union-attr]
        store = await Store.open(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool")
        try:
            channel = SmsChannel(store, registry(), InMemoryServices(), outbound_url=f"http://127.0.0.1:{port}/sms")
            channel.start()
            app = web.Application()
            app[SMS_GATEWAY] = channel.gateway
            await app[SMS_GATEWAY].inbound("m1", "+15554444", "3838", "hi", route="http")
            texts = []
            for _ in range(5):
                await asyncio.sleep(0.5)                              # the dispatcher sends what was queued
                before = len(received)
                await asyncio.wait_for(send_reminders(app, datetime.now(timezone.utc) + LATER), 10)
                await asyncio.sleep(0.5)
                texts.append([r["text"] for r in received[before:]])
            assert all(r["from"] == "3838" and r["to"] == "+15554444" for r in received)
            reminders = [t for t in texts if t == ["Reply with a number from 1 to 5 to vote."]]
            assert reminders and texts[len(reminders)] and texts[len(reminders)] != texts[0]
            assert texts[-1] == []                                    # the conversation is over
            await channel.stop()
        finally:
            await store.close()
            await runner.cleanup()
    asyncio.run(run())

