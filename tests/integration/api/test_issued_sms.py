"""An issued code sent by SMS too: a caller given a code on a call hears it read out and gets it by SMS from the
campaign's number (through the outbox, here to an SMS gateway stub on loopback), once per caller however often
they call; a caller who opted out of the number hears the code but is not messaged."""

from __future__ import annotations

import sqlite3
import threading
import time
from types import SimpleNamespace

import pytest

from ..conftest import run_sipp, start_engine
from ..sipp_keys import key_scenario
from ..test_sms import sms
from .conftest import Api, Gateway, lease, make_key, wait_for

pytestmark = pytest.mark.integration

CAMPAIGN = """id: code-by-phone
name: Code by phone
numbers: {voice: ["7202"], sms: ["7202"]}
start: give
nodes:
  give:
    type: issue
    pool: phone-codes
    name: code
    text: "Your code is {{issued.code}}."
    sms: "Your code: {{issued.code}}. Show it at the till, {{caller.number|friend}}."
    next: bye
    exhausted: bye
  bye: {type: end, text: Goodbye.}
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("issued-sms")
    gateway = Gateway()
    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    engine = start_engine(tmp, "--sms-outbound", f"http://127.0.0.1:{gateway.server_address[1]}/sms")
    api = Api(engine)
    key = make_key(engine, "brand", "business")
    lease(engine, "brand", "7202")
    try:
        reply = api("POST", "/api/code-pools/phone-codes/imports", key, text="K7Q2\nM3P8\nZ9X1\n",
                    content_type="text/plain")
        assert reply.status == 202, reply.body
        wait_for(lambda: api("GET", "/api/code-pools/phone-codes", key).json()["codes"] == 3 or None)
        reply = api("POST", "/api/campaigns/code-by-phone/versions?activate=1", key, text=CAMPAIGN,
                    content_type="application/yaml")
        assert reply.status == 201, reply.body
        yield SimpleNamespace(engine=engine, api=api, key=key, gateway=gateway, tmp=tmp)
    finally:
        engine.stop()
        gateway.shutdown()


def call(world, caller: str, name: str) -> list[str]:
    """What the caller heard on a call to 7202."""
    workdir = world.tmp / name
    workdir.mkdir()
    result = run_sipp(world.engine.sip, key_scenario(workdir / "listen.xml", [], caller=caller),
                      service="7202", timeout=60, workdir=workdir)
    assert result.successful == 1, result.output
    calls = wait_for(lambda: [c for c in world.api("GET", "/api/calls?campaign=code-by-phone&disposition=completed",
                                                   world.key).json()["calls"] if c["caller"] == caller] or None)
    events = world.api("GET", f"/api/calls/{calls[0]['call_id']}", world.key).json()["events"]
    return [e["data"]["text"] for e in events if e["kind"] == "prompt"]


def messages_to(world, caller: str, settle: float = 1.0) -> list[dict]:
    """The messages the gateway got for the caller (waiting up to 10 s for the first, then `settle` s more)."""
    deadline = time.monotonic() + 10
    while not [m for m in world.gateway.received if m["to"] == caller] and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(settle)
    return [m for m in world.gateway.received if m["to"] == caller]


def test_the_code_goes_by_sms_once_per_caller(world) -> None:
    caller = "+380931234567"
    heard = call(world, caller, "first")
    assert heard[0].startswith("Your code is ") and heard[1] == "Goodbye."
    code = heard[0].removeprefix("Your code is ").rstrip(".").replace(", ", "")        # read out one by one
    [message] = messages_to(world, caller)
    assert (message["from"], message["text"]) == ("7202", f"Your code: {code}. Show it at the till, {caller}.")
    assert call(world, caller, "again")[0] == heard[0]                               # the same code again
    assert len(messages_to(world, caller)) == 1                                      # and no second SMS


def test_a_caller_who_opted_out_hears_the_code_but_gets_no_sms(world) -> None:
    caller = "+380931234568"
    assert sms(world.engine, caller, "7202", "STOP", "stop-1")[0] == 200
    heard = call(world, caller, "opted-out")
    assert heard[0].startswith("Your code is ")
    assert [m for m in messages_to(world, caller) if m["text"].startswith("Your code")] == []
    with sqlite3.connect(world.engine.db_url.removeprefix("sqlite:///")) as db:
        states = db.execute("SELECT state FROM sms_outbox WHERE recipient = ? AND kind = 'notify'",
                            (caller,)).fetchall()
    assert states == [("blocked",)]                                                  # kept, never sent
