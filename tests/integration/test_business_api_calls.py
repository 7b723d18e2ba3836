"""Order status and branch alert over real calls: the engine calls a business API served by the test."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from pathlib import Path

import pytest
from aiohttp import web

from .conftest import free_port, run_sipp, start_engine, stored_outcomes as outcomes
from .sipp_keys import key_scenario
from .test_sms import sms

pytestmark = pytest.mark.integration


SLOW_ORDER = "55555"         # its look-up answers after SLOW_SECONDS, later than any webhook timeout
SLOW_SECONDS = 30.0


class BusinessApi:
    """A brand's API on loopback: order look-ups and alert notifications, recorded for the test.
    Order 99999 gets 503; order SLOW_ORDER an answer only after SLOW_SECONDS."""

    def __init__(self) -> None:
        self.port = free_port(udp_and_tcp=False)
        self.alerts: list[dict] = []
        self.lookups: list[str] = []
        self._closing = asyncio.Event()           # ends the slow look-ups' wait when the test is done
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    async def order(self, request: web.Request) -> web.Response:
        number = request.match_info["number"]
        self.lookups.append(number)
        if number == "99999":
            return web.json_response({"error": "down"}, status=503)
        if number == SLOW_ORDER:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), SLOW_SECONDS)
        return web.json_response({"status": "out for delivery"})

    async def alert(self, request: web.Request) -> web.Response:
        self.alerts.append(await request.json())
        return web.json_response({"ok": True})

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_get("/orders/{number}", self.order)
        app.router.add_post("/alerts", self.alert)
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())

    def __enter__(self) -> "BusinessApi":
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._closing.set)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def test_order_status_and_branch_alert(tmp_path: Path) -> None:
    with BusinessApi() as api:
        base = f"http://127.0.0.1:{api.port}"
        engine = start_engine(tmp_path, "--var", f"orders_api={base}/orders", "--var", f"alerts_hook={base}/alerts",
                              "--allow-private-webhooks")            # the business API is on loopback here
        try:
            for n, (number, keys) in enumerate((("1414", "12345#"), ("1414", "99999#"), ("2525", "012#"))):
                scenario = key_scenario(tmp_path / f"call{n}.xml", [(2.0, keys)], caller=f"+1555900{n}")
                assert run_sipp(engine.sip, scenario, service=number, timeout=40, workdir=tmp_path).successful == 1
            # the same campaigns by SMS
            assert sms(engine, "+15559100", "1414", "hi", "s1")[1]["replies"][-1] == "Send your order number."
            assert sms(engine, "+15559100", "1414", "777", "s2")[1]["replies"] == ["An order number has four to ten digits."]
            assert sms(engine, "+15559100", "1414", "4242", "s3")[1]["replies"][0] == "Order 4242 is out for delivery."
            assert sms(engine, "+15559101", "2525", "034", "s4")[1]["replies"] == [
                "Thank you. The manager of branch 034 has been told."]
        finally:
            engine.stop()
    assert api.lookups == ["12345", "99999", "99999", "4242"]          # the failing API is retried once
    assert len(api.alerts) == 2
    assert api.alerts[0]["text"] == "Operators needed in branch 012 (reported by +15559002)."
    assert api.alerts[1]["text"] == "Operators needed in branch 034 (reported by +15559101)."
    paths = [r["path"][-1] for r in engine.call_records() if r["event"] == "call_ended"]
    assert paths == ["status", "unavailable", "done"]
    # what was looked up and alerted is stored; the failed look-up stores nothing
    assert sorted(outcomes(engine)) == [("+15559000", "answer", "order_status", "out for delivery"),
                                        ("+15559002", "answer", "branch_alerted", "012"),
                                        ("+15559100", "answer", "order_status", "out for delivery"),
                                        ("+15559101", "answer", "branch_alerted", "034")]


def test_alert_by_email_through_smtp(tmp_path: Path) -> None:
    """A notify node that e-mails: the message reaches an SMTP server on loopback."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received: list = []

    class Collect(Message):
        def handle_message(self, message) -> None:
            received.append(message)

    port = free_port(udp_and_tcp=False)
    controller = Controller(Collect(), hostname="127.0.0.1", port=port)
    controller.start()
    plans = tmp_path / "plans"
    plans.mkdir()
    text = (Path(__file__).resolve().parents[2] / "dialplans" / "alert.yaml").read_text()
    text = text.replace("method: webhook\n    target: \"{{alerts_hook}}\"", "method: email\n    target: manager@branch.test")
    (plans / "alert.yaml").write_text(text)
    engine = start_engine(tmp_path, "--smtp", f"127.0.0.1:{port}", "--smtp-from", "ivr@brand.test",
                          "--dialplans", str(plans))
    try:
        scenario = key_scenario(tmp_path / "alert.xml", [(2.0, "345#")], caller="+15559876")
        assert run_sipp(engine.sip, scenario, service="2525", timeout=40, workdir=tmp_path).successful == 1
    finally:
        engine.stop()
        controller.stop()
    assert len(received) == 1
    mail = received[0]
    assert mail["To"] == "manager@branch.test" and mail["Subject"] == "Operators needed"
    assert "Operators needed in branch 345 (reported by +15559876)." in mail.get_payload()
    assert outcomes(engine) == [("+15559876", "answer", "branch_alerted", "345")]
