"""Winners told by SMS: a raffle's winners get the business's message from the campaign's number through the
outbox (here an SMS gateway stub on loopback), once each however often the business asks; a winner who opted out stays a winner and is not messaged."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

import pytest

from ..conftest import ROOT, start_engine
from ..test_sms import sms
from .conftest import Api, Gateway, lease, make_key
from .test_lifecycle_and_draws import RAFFLE

pytestmark = pytest.mark.integration
NOTICE = "You won place {{place}} in {{campaign}} with ticket {{value}}! Call 0800 to claim."


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("notices")
    gateway = Gateway()
    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    engine = start_engine(tmp, "--sms-outbound", f"http://127.0.0.1:{gateway.server_address[1]}/sms")
    api = Api(engine)
    keys = {"brand": make_key(engine, "brand", "business"), "rival": make_key(engine, "rival", "business")}
    lease(engine, "brand", "7300")
    try:
        reply = api("POST", "/api/code-pools/tickets/imports", keys["brand"],
                    text="\n".join(f"T{n:04d}" for n in range(1, 11)), content_type="text/plain")
        assert reply.status == 202, reply.body
        reply = api("POST", "/api/campaigns/weekend-raffle/versions?activate=1", keys["brand"], text=RAFFLE,
                    content_type="application/yaml")
        assert reply.status == 201, reply.body
        yield SimpleNamespace(engine=engine, api=api, keys=keys, gateway=gateway)
    finally:
        engine.stop()
        gateway.shutdown()


def notices_sent(world, expected: int) -> list[dict]:
    """The winners' messages the gateway got (waits up to 10 s for `expected` of them)."""
    deadline = time.monotonic() + 10
    while True:
        found = [m for m in world.gateway.received if m["text"].startswith("You won")]
        if len(found) >= expected or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_winners_are_told_once_and_opted_out_ones_not_at_all(world) -> None:
    api, brand = world.api, world.keys["brand"]
    callers = [f"+38050200000{n}" for n in range(1, 5)]
    for n, caller in enumerate(callers, start=1):
        assert sms(world.engine, caller, "7300", f"T000{n}", f"e{n}")[1]["replies"] == ["You are in the draw."]
    assert sms(world.engine, callers[1], "7300", "STOP", "stop")[0] == 200        # opted out: still an entrant
    draw = api("POST", "/api/campaigns/weekend-raffle/draws", brand, json_body={}).json()
    path = f"/api/campaigns/weekend-raffle/draws/{draw['id']}"
    assert api("POST", f"{path}/notify", brand, json_body={"text": NOTICE}).status == 409     # not drawn yet
    bad = api("POST", f"{path}/winners", brand, json_body={"winners": 4, "notify": "Hi {{secret}}"})
    assert bad.status == 422 and "{{place}}" in bad.json()["error"]                # refused before drawing
    drawn = api("POST", f"{path}/winners", brand, json_body={"winners": 4, "seed": "tv-show-2026", "notify": NOTICE})
    assert drawn.status == 200, drawn.body
    answer = drawn.json()
    assert sorted(w["caller"] for w in answer["winners"]) == sorted(callers)    # the one who opted out won too
    states = {n["caller"]: n["state"] for n in answer["notices"]}
    assert states == {**{c: "queued" for c in callers}, callers[1]: "blocked"}
    sent = notices_sent(world, 3)
    assert sorted(m["to"] for m in sent) == sorted(c for c in callers if c != callers[1])
    assert {m["from"] for m in sent} == {"7300"}
    first = next(w for w in answer["winners"] if w["place"] == 1)
    ticket = f"T000{callers.index(first['caller']) + 1}"
    if first["caller"] != callers[1]:
        assert next(m["text"] for m in sent if m["to"] == first["caller"]) == (
            f"You won place 1 in Weekend raffle with ticket {ticket}! Call 0800 to claim.")
    # asked again (a double click, a retried request): the same messages, none sent twice
    again = api("POST", f"{path}/notify", brand, json_body={"text": NOTICE})
    assert again.status == 200, again.body
    assert [n["message_id"] for n in again.json()["notices"]] == [n["message_id"] for n in answer["notices"]]
    assert {n["caller"]: n["state"] for n in again.json()["notices"]}[callers[1]] == "blocked"
    time.sleep(1.0)
    assert len(notices_sent(world, 3)) == 3
    path_db = world.engine.db_url.removeprefix("sqlite:///")
    with sqlite3.connect(path_db) as db:
        kinds = db.execute("SELECT state, COUNT(*) FROM sms_outbox WHERE kind = 'notify' GROUP BY state").fetchall()
    assert dict(kinds).get("blocked") == 1 and sum(n for _, n in kinds) == 4     # one row a winner, kept
    # the command line does the same, and sends nothing twice either
    out = subprocess.run([sys.executable, "-m", "ivr.cli", "draw", "notify", "weekend-raffle", draw["id"], "--tenant",
                          "brand", "--text", NOTICE, "--route", "http", "--db", world.engine.db_url], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert f"{callers[1]}  blocked  (opted out: not messaged)" in out.stdout and "1 winners opted out" in out.stdout
    time.sleep(1.0)
    assert len(notices_sent(world, 3)) == 3
    # another business cannot tell the brand's winners anything
    assert api("POST", f"{path}/notify", world.keys["rival"], json_body={"text": NOTICE}).status in (403, 404)
