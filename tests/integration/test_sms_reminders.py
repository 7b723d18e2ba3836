"""SMS reminders: a conversation left waiting gets the ask's reminder once it is due, then the flow's
way out, each turn sent once even when two nodes poll the same store."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path

from aiohttp import web

from ivr.channels.effects import InMemoryServices
from ivr.channels.sms import SmsGateway
from ivr.engine.campaigns import CampaignRegistry
from ivr.store.db import Store
from ivr.web.sms import SMS_GATEWAY, SMS_OUTBOUND_URL, send_reminders

ROOT = Path(__file__).resolve().parents[2]
LATER = timedelta(hours=2)           # past any reminder_after (at most one hour in the demos)


def gateway(store: Store) -> SmsGateway:
    campaigns = CampaignRegistry(ROOT / "dialplans")
    campaigns.load()
    return SmsGateway(campaigns, store, InMemoryServices())


def test_reminder_then_way_out_then_nothing(tmp_path: Path) -> None:
    async def run() -> None:
        store = await Store.open(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool")
        try:
            nodes = [gateway(store), gateway(store)]            # two engine nodes on one store
            opened = await nodes[0].inbound("m1", "+15553333", "3838", "hello")
            assert "Reply with" not in " ".join(opened.replies) and opened.replies
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
            app = web.Application()
            app[SMS_GATEWAY] = gateway(store)
            app[SMS_OUTBOUND_URL] = f"http://127.0.0.1:{port}/sms"
            await app[SMS_GATEWAY].inbound("m1", "+15554444", "3838", "hi")
            texts = []
            for _ in range(5):
                before = len(received)
                await asyncio.wait_for(send_reminders(app, datetime.now(timezone.utc) + LATER), 10)
                texts.append([r["text"] for r in received[before:]])
            assert all(r["from"] == "3838" and r["to"] == "+15554444" for r in received)
            reminders = [t for t in texts if t == ["Reply with a number from 1 to 5 to vote."]]
            assert reminders and texts[len(reminders)] and texts[len(reminders)] != texts[0]
            assert texts[-1] == []                                    # the conversation is over
        finally:
            await store.close()
            await runner.cleanup()
    asyncio.run(run())

