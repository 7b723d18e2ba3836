"""Routing mode: the business's server decides each next node over HTTP (a real server on loopback)."""

from __future__ import annotations

import asyncio
import socket

from aiohttp import web

from ivr.channels.dry_run import dry_run
from ivr.channels.webhooks import WebhookClient
from ivr.flow.interpreter import End, FlowSession, RoutingResult, RouteRequest, Say
from ivr.flow.loader import load_campaign


def campaign(url: str):
    return load_campaign(f"id: routed\nname: Routed\nnumbers: {{voice: ['9090'], sms: ['9090']}}\n"
                         f"routing: {{url: '{url}', timeout: 2}}\n", "routed.yaml")


def test_session_asks_the_server_and_runs_what_it_says() -> None:
    flow = campaign("http://127.0.0.1:1/next")
    session = FlowSession(flow, "voice", "+1555")
    request = session.start()[-1]
    assert isinstance(request, RouteRequest) and request.state["reason"] == "start"
    actions = session.feed(RoutingResult({"type": "say", "text": "Hello {{caller.number}}", "next": "x"}))
    assert actions[0].parts[0].text == "Hello +1555"
    again = actions[-1]
    assert isinstance(again, RouteRequest) and again.state["reason"] == "next"
    assert any(e["kind"] == "prompt" for e in again.state["last"]["events"])
    assert session.feed(RoutingResult({"type": "bogus"})) == [End("routing_invalid_node")]


def test_unreachable_server_ends_the_session() -> None:
    session = FlowSession(campaign("http://127.0.0.1:1/next"), "sms", "+1555")
    session.start()
    assert session.feed(RoutingResult(None)) == [End("routing_failed")]


def test_simulated_survey_driven_by_a_routing_server() -> None:
    seen: list[dict] = []

    async def route(request: web.Request) -> web.Response:
        state = await request.json()
        seen.append(state)
        matches = [e for e in state["last"].get("events", []) if e["kind"] == "match"]
        if state["reason"] == "start":
            node = {"type": "ask", "prompt": "Did we help? 1 yes, 2 no.",
                    "choices": [{"key": "1", "value": "yes", "next": "a"}, {"key": "2", "value": "no", "next": "a"}]}
        elif matches:
            node = {"type": "record_result", "name": "helped", "value": matches[0]["value"], "next": "a"}
        elif any(e["kind"] == "outcome" for e in state["last"].get("events", [])):
            node = {"type": "end", "text": "Thanks!"}
        else:
            node = {"type": "end", "text": "Unexpected."}
        return web.json_response({"node": node})

    async def run() -> object:
        app = web.Application()
        app.router.add_post("/next", route)
        runner = web.AppRunner(app)
        await runner.setup()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            return await dry_run(campaign(f"http://127.0.0.1:{port}/next"), "voice", ["1"],
                                  http=WebhookClient(allow_private=True))     # the server is on loopback
        finally:
            await runner.cleanup()

    result = asyncio.run(run())
    assert result.outcomes == [{"kind": "answer", "name": "helped", "value": "yes"}]
    assert [e["text"] for e in result.entries if e["who"] == "ivr"][-1] == "Thanks!"
    assert result.end_reason == "completed" and len(seen) == 3
    assert seen[0]["caller"] == "+15550001" and seen[0]["channel"] == "voice"
