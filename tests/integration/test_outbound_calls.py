"""Outbound voice campaigns end to end: the engine calls SIPp phones through Kamailio as the carrier trunk
(digest auth), from the API; what the phones got is read from their own logs."""

from __future__ import annotations

import csv
import io
import sqlite3
import time
from collections import Counter
from pathlib import Path

import pytest

from .api.conftest import Api, lease, make_key
from .conftest import start_engine
from .outbound_peers import Phones

pytestmark = [pytest.mark.integration, pytest.mark.outbound]

CAMPAIGN = """id: confirm-order
name: Confirm order
numbers: {voice: ["7070"]}
languages: [en]
start: ask
nodes:
  ask:
    type: ask
    prompt: Press 1 to confirm your order, or 2 to cancel it.
    input: dtmf
    choices:
      - {key: "1", value: "yes", next: confirmed}
      - {key: "2", value: "no", next: declined}
    save_as: answer
    timeout: 6
    retries: 0
    max_retries: silent
  confirmed:
    type: end
    text: Thank you {{contact.name}}, your order is confirmed.
  declined:
    type: end
    text: Your order is cancelled.
  silent:
    type: end
    text: Goodbye.
"""
YAML = "application/yaml"


def node(tmp: Path, phones: Phones, *extra: str, db_url: str | None = None):
    """An engine sending calls out through the phones' trunk, the campaign uploaded, and a business key."""
    engine = start_engine(tmp, *phones.engine_args("--outbound-ring", "3", *extra), db_url=db_url)
    return engine


def setup_business(engine) -> tuple[Api, str]:
    lease(engine, "acme", "7070")
    business = make_key(engine, "acme", "business")
    api = Api(engine)
    reply = api("POST", "/api/campaigns/confirm-order/versions?activate=1", business, text=CAMPAIGN, content_type=YAML)
    assert reply.status in (200, 201), reply.body
    return api, business


def create(api: Api, key: str, numbers: list[tuple[str, str]], **settings) -> str:
    body = {"campaign_id": "confirm-order", "name": "orders", "channel": "voice", "number": "7070",
            "hours": ["00:00", "24:00"], "time_zone": "Europe/Kyiv", **settings}
    reply = api("POST", "/api/outbound", key, json_body=body)
    assert reply.status == 201, reply.body
    oid = reply.json()["id"]
    audience = "number,name\n" + "".join(f"{n},{name}\n" for n, name in numbers)
    reply = api("POST", f"/api/outbound/{oid}/audience", key, text=audience, content_type="text/csv")
    assert reply.status == 200 and reply.json()["added"] == len(numbers), reply.body
    return oid


def wait_done(api: Api, key: str, oid: str, seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        progress = api("GET", f"/api/outbound/{oid}", key).json()
        if progress["state"] == "done" or time.monotonic() > deadline:
            return progress
        time.sleep(0.3)


def results(api: Api, key: str, oid: str) -> dict[str, dict[str, str]]:
    reply = api("GET", f"/api/outbound/{oid}/results.csv", key)
    assert reply.status == 200
    return {row["number"]: row for row in csv.DictReader(io.StringIO(reply.body.decode()))}


def test_answered_keys_hangup_busy_no_answer_and_opt_out(tmp_path: Path, phones: Phones) -> None:
    engine = node(tmp_path, phones)
    try:
        api, business = setup_business(engine)
        numbers = [("+380500000011", "Anna"), ("+380500000012", "Borys"), ("+380500000013", "Chrystia"),
                   ("+380500000014", "Dmytro"), ("+380500000021", "Olena")]
        oid = create(api, business, numbers, rate=5, concurrent=5, max_attempts=2, retry_seconds=1)
        with sqlite3.connect(engine.db_url.removeprefix("sqlite:///")) as db:    # Olena sent STOP to 7070
            db.execute("INSERT INTO sms_optouts (number, caller, word, at) VALUES ('7070', '+380500000021', 'stop',"
                       " '2025-01-01 00:00:00')")
        other = make_key(engine, "rival", "business")
        operator = make_key(engine, "acme", "operator")
        assert api("GET", f"/api/outbound/{oid}", other).status == 404          # another tenant's: not there
        assert api("POST", f"/api/outbound/{oid}/start", other).status == 404
        assert api("POST", f"/api/outbound/{oid}/start", operator).status == 403  # operators do not start
        assert api("POST", f"/api/outbound/{oid}/start", business).json()["state"] == "running"
        progress = wait_done(api, business, oid, 60)
        assert progress["state"] == "done", (progress, engine.log()[-3000:], phones.diagnostics())
        assert progress["progress"]["done"] == 5 and progress["progress"]["total"] == 5
        found = results(api, business, oid)
        assert {n: (r["result"], r["attempts"]) for n, r in found.items()} == {
            "+380500000011": ("completed", "1"), "+380500000012": ("answered", "1"),
            "+380500000013": ("busy", "2"), "+380500000014": ("no_answer", "2"),
            "+380500000021": ("opted_out", "0")}
        assert found["+380500000011"]["outcome"] == "confirmed"          # pressed 1
        got = Counter(number for _, number, _ in phones.invites())
        assert {n: got[n] for n, _ in numbers} == {"+380500000011": 1, "+380500000012": 1, "+380500000013": 2,
                                                    "+380500000014": 2, "+380500000021": 0}
        trunk = (phones.workdir / "kamailio.log").read_text()
        assert "trunk: INVITE +380500000011 from 7070" in trunk          # through the trunk, digest accepted
        calls = api("GET", "/api/calls?limit=50", business).json()["calls"]
        ours = {c["caller"]: c for c in calls if c["direction"] == "outbound"}
        assert ours["+380500000011"]["disposition"] == "completed" and ours["+380500000011"]["number"] == "7070"
        assert ours["+380500000013"]["disposition"] == "busy"
        dtmf = [r for r in engine.call_records() if r.get("direction") == "outbound" and r.get("digits") == "1"]
        assert len(dtmf) == 1                                             # RFC 4733 key heard on the call out
    finally:
        engine.stop()


def test_pacing_never_exceeds_the_rate_and_a_restart_calls_nobody_twice(tmp_path: Path, phones: Phones) -> None:
    (tmp_path / "a").mkdir()
    engine = node(tmp_path / "a", phones, "--node-name", "node-a")
    db_url = engine.db_url
    try:
        api, business = setup_business(engine)
        numbers = [(f"+3805020000{n:02d}2", f"n{n}") for n in range(24)]     # ...2: answer, hang up after 1 s
        oid = create(api, business, numbers, rate=4, concurrent=6, max_attempts=3, retry_seconds=1)
        api("POST", f"/api/outbound/{oid}/start", business)
        deadline = time.monotonic() + 20
        while api("GET", f"/api/outbound/{oid}/progress", business).json()["done"] < 6:
            assert time.monotonic() < deadline
            time.sleep(0.2)
    finally:
        engine.stop()                                    # mid-campaign: calls in progress are cut
    (tmp_path / "b").mkdir()
    engine = node(tmp_path / "b", phones, "--node-name", "node-a", db_url=db_url)
    try:
        api = Api(engine)
        progress = wait_done(api, business, oid, 60)
        assert progress["state"] == "done", (progress, engine.log()[-3000:])
        assert progress["progress"]["done"] == 24
        mine = [(at, number) for at, number, _ in phones.invites("hangup") if number in dict(numbers)]
        assert Counter(number for _, number in mine) == Counter({n: 1 for n, _ in numbers})   # nobody twice
        times = [at for at, _ in mine]                       # SIPp's own clock, ms
        gaps = [b - a for a, b in zip(times, times[1:])]
        assert min(gaps) >= 0.7 * 250, gaps                   # 1/rate apart (a 20 ms tick and the path's jitter aside)
        windows = [times[i + 4] - times[i] for i in range(len(times) - 4)]
        assert min(windows) >= 0.95 * 4 * 250, windows        # nor 5 calls within less than 4/rate
    finally:
        engine.stop()
