"""Webhooks as the business's server sees them (a real aiohttp server on loopback): signed requests,
one idempotency key across retries, backoff between them, and refused private targets, also in a
real call's timeline."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import yaml

import pytest
from aiohttp import web

from ivr.channels.effects import EffectContext
from ivr.channels.webhooks import SIGNATURE_HEADER, WebhookClient, backoff_delay, private_reason, verify
from ivr.flow.events import CallWebhook

from .api.conftest import Api, make_key, wait_for
from .conftest import loopback_site, run_sipp, start_engine
from .sipp_keys import key_scenario
from .conftest import ROOT
from .test_business_api_calls import SLOW_ORDER, BusinessApi

pytestmark = pytest.mark.integration

SECRET = "s3cret-for-the-brand-0123"
CTX = EffectContext("call-1", "order-status", "+15550001", "voice")


class Recorder:
    """A business endpoint answering 503 to the first `failures` requests, then 200 {"status": "ok"}."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.seen: list[tuple[float, dict[str, str], bytes]] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append((time.monotonic(), dict(request.headers), await request.read()))
        if request.path == "/redirect":
            raise web.HTTPFound("http://127.0.0.1:1/elsewhere")
        if len(self.seen) <= self.failures:
            return web.json_response({"error": "busy"}, status=503)
        return web.json_response({"status": "ok"})


async def serve(recorder: Recorder, client: WebhookClient, *actions: CallWebhook, host: str = "127.0.0.1"):
    """Run the actions against the recorder on a free loopback port ({port} in their URLs)."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", recorder.handle)
    async with loopback_site(app) as port:
        results = []
        for action in actions:
            action.url = action.url.format(port=port, host=host)
            results.append(await client(action, CTX))
        return results


def post(path: str = "/hook", retries: int = 2, timeout: float = 5.0) -> CallWebhook:
    return CallWebhook("http://{host}:{port}" + path, "POST", {"order": "4242", "caller": "+15550001"}, {},
                       timeout, retries)


def test_signature_verifies_and_is_over_timestamp_and_raw_body() -> None:
    recorder = Recorder()
    [result] = asyncio.run(serve(recorder, WebhookClient(allow_private=True, secret=SECRET), post()))
    assert result.ok and result.data == {"status": "ok"}
    [(_, headers, body)] = recorder.seen
    header = headers[SIGNATURE_HEADER]
    t, v1 = (part.split("=", 1)[1] for part in header.split(","))
    assert abs(int(t) - time.time()) < 60
    expected = hmac.new(SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    assert v1 == expected                                             # what docs/webhooks.md tells a business
    assert verify(SECRET, header, body)
    assert not verify(SECRET, header, body + b" ") and not verify("another-secret-0123456", header, body)
    assert not verify(SECRET, header, body, now=int(t) + 3600)          # a replay an hour later
    assert headers["Content-Type"] == "application/json" and len(headers["Idempotency-Key"]) == 32


def test_campaign_secret_wins_over_the_nodes_and_no_secret_means_no_signature() -> None:
    recorder = Recorder()
    client = WebhookClient(allow_private=True, secret="node-wide-secret-0123",
                           campaign_secret=lambda cid: SECRET if cid == "order-status" else None)
    asyncio.run(serve(recorder, client, post()))
    asyncio.run(serve(recorder, WebhookClient(allow_private=True), post()))
    (_, signed, body), (_, unsigned, _) = recorder.seen
    assert verify(SECRET, signed[SIGNATURE_HEADER], body)
    assert SIGNATURE_HEADER not in unsigned and "Idempotency-Key" in unsigned


def test_retries_keep_the_idempotency_key_and_back_off() -> None:
    recorder = Recorder(failures=2)
    [result] = asyncio.run(serve(recorder, WebhookClient(allow_private=True, secret=SECRET), post(retries=2)))
    assert result.ok and len(recorder.seen) == 3
    keys = {headers["Idempotency-Key"] for _, headers, _ in recorder.seen}
    assert len(keys) == 1                                            # the same key on every attempt
    times = [at for at, _, _ in recorder.seen]
    # backoff_delay: 0.125-0.25 s before the first retry, 0.25-0.5 s before the second
    assert times[1] - times[0] >= 0.12 and times[2] - times[1] >= 0.24, times
    assert all(verify(SECRET, headers[SIGNATURE_HEADER], body) for _, headers, body in recorder.seen)


def test_retries_are_bounded_and_4xx_and_redirects_are_final() -> None:
    recorder = Recorder(failures=100)
    [failed] = asyncio.run(serve(recorder, WebhookClient(allow_private=True), post(retries=1)))
    assert (failed.ok, failed.status, len(recorder.seen)) == (False, 503, 2)
    assert failed.error == "answered 503"
    recorder = Recorder()
    [moved] = asyncio.run(serve(recorder, WebhookClient(allow_private=True), post("/redirect", retries=3)))
    assert (moved.ok, moved.status, len(recorder.seen)) == (False, 302, 1)


def test_backoff_grows_has_jitter_and_stays_under_the_timeout() -> None:
    assert [backoff_delay(n, 10, lambda: 1.0) for n in (1, 2, 3, 4, 5)] == [0.25, 0.5, 1.0, 2.0, 2.0]
    assert [backoff_delay(n, 10, lambda: 0.0) for n in (1, 2, 3)] == [0.125, 0.25, 0.5]
    assert backoff_delay(4, 0.3, lambda: 1.0) == 0.3                   # never longer than the node's timeout


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254",
                                     "100.64.0.1", "0.0.0.0", "::1", "fe80::1", "fd00::1", "::ffff:127.0.0.1",
                                     "224.0.0.1"])
def test_private_addresses_are_named(address: str) -> None:
    assert private_reason(address)


def test_public_addresses_pass() -> None:
    assert private_reason("8.8.8.8") is None and private_reason("2606:4700:4700::1111") is None


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_private_targets_are_refused_without_a_request(host: str) -> None:
    recorder = Recorder()
    [result] = asyncio.run(serve(recorder, WebhookClient(secret=SECRET), post(retries=3), host=host))
    assert not result.ok and result.status is None
    assert result.error.startswith("refused: ") and "--allow-private-webhooks" in result.error, result.error
    assert "loopback" in result.error
    assert recorder.seen == []


def test_the_built_in_demo_api_is_the_one_private_target_called_without_permission() -> None:
    """`http://demo.ivr.invalid/...` goes to the node's own /demo/ path (and never outside it); a client
    whose node serves no demo API refuses it; the node's address written out is still a private target."""
    paths: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        paths.append(request.path_qs)
        return web.json_response({"status": "shipped"})

    async def run() -> list:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        async with loopback_site(app) as port:
            demo = WebhookClient(demo_base=f"http://127.0.0.1:{port}/demo")
            return [await demo(CallWebhook("http://demo.ivr.invalid/orders/5?x=1", "GET", {}, {}, 2.0, 0), CTX),
                    await demo(CallWebhook("http://demo.ivr.invalid/../api/tenants", "GET", {}, {}, 2.0, 0), CTX),
                    await demo(CallWebhook(f"http://127.0.0.1:{port}/demo/orders/5", "GET", {}, {}, 2.0, 0), CTX),
                    await WebhookClient()(CallWebhook("http://demo.ivr.invalid/orders/5", "GET", {}, {}, 2.0, 0), CTX)]
    order, escaped, literal, off = asyncio.run(run())
    assert order.ok and order.data == {"status": "shipped"} and escaped.ok
    assert paths == ["/demo/orders/5?x=1", "/demo/api/tenants"]
    assert not literal.ok and literal.error.startswith("refused: 127.0.0.1 is a loopback address")
    assert not off.ok and off.error == ("refused: http://demo.ivr.invalid is the demo business API, served only "
                                        "with the demo campaigns")


def test_other_schemes_are_refused() -> None:
    result = asyncio.run(WebhookClient(allow_private=True)(
        CallWebhook("file:///etc/passwd", "GET", {}, {}, 2.0, 0), CTX))
    assert not result.ok and result.error.startswith("refused: not an http(s) URL")


def order_call(tmp_path: Path, business: BusinessApi, order: str, caller: str,
               *engine_args: str) -> tuple[dict, float]:
    """One real call to the order line (1414, dialplans/order.yaml) keying in `order`, on an engine whose
    orders API is `business`: the call's detail from the API, and the seconds SIPp's call took."""
    engine = start_engine(tmp_path, "--var", f"orders_api=http://127.0.0.1:{business.port}/orders", *engine_args)
    try:
        scenario = key_scenario(tmp_path / "order.xml", [(2.0, order + "#")], caller=caller)
        began = time.monotonic()
        assert run_sipp(engine.sip, scenario, service="1414", timeout=40, workdir=tmp_path).successful == 1
        took = time.monotonic() - began
        api, key = Api(engine), make_key(engine, "demo", "operator")
        [call] = wait_for(lambda: api("GET", f"/api/calls?caller={quote(caller)}&disposition=completed", key)
                          .json()["calls"])
        return api("GET", f"/api/calls/{call['call_id']}", key).json(), took
    finally:
        engine.stop()


def test_a_call_to_a_private_webhook_shows_the_refusal_and_takes_the_failure_exit(tmp_path: Path) -> None:
    """The engine without --allow-private-webhooks: the order look-up on loopback is never requested."""
    with BusinessApi() as business:
        detail, _ = order_call(tmp_path, business, "4242", "+15550321")
    assert business.lookups == []
    [result] = [e["data"] for e in detail["events"] if e["kind"] == "webhook_result"]
    assert result["ok"] is False and result["error"].startswith("refused: 127.0.0.1 is a loopback address")
    assert detail["path"][-2:] == ["lookup", "unavailable"]                # the failure exit


def test_a_slow_business_api_times_out_and_the_call_takes_the_failure_exit(tmp_path: Path) -> None:
    """The order look-up of dialplans/order.yaml against an API that answers after 30 s: each attempt
    ends at the node's timeout, the one retry too, and the caller hears the failure exit's message."""
    lookup = yaml.safe_load((ROOT / "dialplans" / "order.yaml").read_text())["nodes"]["lookup"]
    timeout, retries = lookup["timeout"], lookup["retries"]
    with BusinessApi() as business:
        detail, took = order_call(tmp_path, business, SLOW_ORDER, "+15550323", "--allow-private-webhooks")
    assert business.lookups == [SLOW_ORDER] * (retries + 1)
    assert took < 25, took                                             # not held up by the 30 s answer
    events = detail["events"]
    [result] = [e for e in events if e["kind"] == "webhook_result"]
    assert (result["data"]["ok"], result["data"]["error"]) == (False, "timed out")
    assert detail["path"][-2:] == ["lookup", "unavailable"]                # the failure exit
    # from the request (the flow's effect) to its result: each attempt's timeout and the backoff between
    # them (at most 0.25 s before the first retry), plus what a busy machine adds
    [sent] = [e for e in events if e["kind"] == "effect"]
    waited = (datetime.fromisoformat(result["at"]) - datetime.fromisoformat(sent["at"])).total_seconds()
    assert (retries + 1) * timeout <= waited <= (retries + 1) * timeout + 0.25 + 1.0, waited
