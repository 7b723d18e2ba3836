"""A campaign's life over the HTTP API of a real engine, with SMS to its number: an administrator builds it
for the brand (turnkey), the brand runs it, pauses and resumes it, draws winners among its entries in a way
anyone can re-run (`ivr draw verify`), ends it, archives it; drafts are deleted, results never."""

from __future__ import annotations

import csv
import hashlib
import io
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from ..conftest import ROOT, start_engine
from ..test_sms import sms
from .conftest import Api, lease, make_key

pytestmark = pytest.mark.integration

RAFFLE = """id: weekend-raffle
name: Weekend raffle
numbers: {sms: ["7300"]}
schedule: {closed_text: The raffle is closed., timezone: Europe/Kyiv}
draw: {entries: {code: tickets}}
start: ask
nodes:
  ask: {type: ask, prompt: Send the code from your ticket., save_as: code, next: redeem}
  redeem: {type: code, pool: tickets, value: "{{code}}", next: ok, used: bad, invalid: bad}
  ok: {type: end, text: You are in the draw.}
  bad: {type: end, text: Not a valid ticket.}
"""
DRAFT = """id: idea
name: Just an idea
start: hi
nodes: {hi: {type: end, text: Hello.}}
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("life")
    engine = start_engine(tmp)
    api = Api(engine)
    keys = {"brand": make_key(engine, "brand", "business"), "rival": make_key(engine, "rival", "business"),
            "admin": make_key(engine, "ops", "admin")}
    lease(engine, "brand", "7300")                          # the number of brand's raffle
    try:
        tickets = "\n".join(f"T{n:04d}" for n in range(1, 11))
        reply = api("POST", "/api/code-pools/tickets/imports?tenant=brand", keys["admin"], text=tickets,
                    content_type="text/plain")               # the administrator imports for the brand too
        assert reply.status == 202, reply.body
        yield SimpleNamespace(engine=engine, api=api, keys=keys, tmp=tmp)
    finally:
        engine.stop()


def state(world, key: str = "brand") -> str:
    return next(c for c in world.api("GET", "/api/campaigns", world.keys[key]).json()
                if c["id"] == "weekend-raffle")["state"]


def test_turnkey_pause_resume_draw_end_archive(world, tmp_path: Path) -> None:
    api, brand, admin = world.api, world.keys["brand"], world.keys["admin"]
    # turnkey: the administrator uploads the campaign for the brand; it is the brand's own
    reply = api("POST", "/api/campaigns/weekend-raffle/versions?activate=1&tenant=brand", admin, text=RAFFLE,
                content_type="application/yaml")
    assert reply.status == 201, reply.body
    assert api("GET", "/api/code-pools/tickets", brand).json()["codes"] == 10
    assert state(world) == "live"
    assert [c["id"] for c in api("GET", "/api/campaigns", world.keys["rival"]).json()] == []
    assert api("POST", "/api/campaigns/weekend-raffle/versions?tenant=rival", admin, text=RAFFLE,
               content_type="application/yaml").status == 404                 # not the rival's to change
    assert api("POST", "/api/campaigns/x/versions?tenant=nobody", admin, text=RAFFLE,
               content_type="application/yaml").status == 404
    assert api("POST", "/api/campaigns/x/versions?tenant=rival", brand, text=RAFFLE,
               content_type="application/yaml").status == 403

    entries = [("+380501000001", "T0001"), ("+380501000002", "T0002"), ("+380501000001", "T0003"),
               ("+380501000003", "T0004")]
    for n, (caller, code) in enumerate(entries):
        assert sms(world.engine, caller, "7300", code, f"e{n}")[1]["replies"] == ["You are in the draw."]

    assert api("POST", "/api/campaigns/weekend-raffle/archive", brand).status == 409       # live: pause it first
    # paused: the number answers with the closed text, nothing is counted; resumed: it runs again
    assert api("POST", "/api/campaigns/weekend-raffle/pause", brand).json()["state"] == "paused"
    assert sms(world.engine, "+380501000004", "7300", "T0005", "p1")[1]["replies"] == ["The raffle is closed."]
    assert api("POST", "/api/campaigns/weekend-raffle/resume", brand).json()["state"] == "live"
    assert sms(world.engine, "+380501000004", "7300", "T0005", "p2")[1]["replies"] == ["You are in the draw."]

    # a draw: the entries frozen and their SHA-256 published first, then drawn once with a seed given later
    frozen = api("POST", "/api/campaigns/weekend-raffle/draws", brand, json_body={})
    assert frozen.status == 201, frozen.body
    draw = frozen.json()
    assert (draw["state"], draw["entries"], draw["callers"], draw["rule"]["kind"]) == ("frozen", 5, 4, "code")
    path = f"/api/campaigns/weekend-raffle/draws/{draw['id']}"
    listing = api("GET", f"{path}/entries.csv", brand).body
    assert hashlib.sha256(listing).hexdigest() == draw["entries_sha256"]
    rows = list(csv.DictReader(io.StringIO(listing.decode())))
    assert [(r["entry"], r["caller"], r["value"]) for r in rows] == [
        (str(n), caller, code) for n, (caller, code) in enumerate(entries + [("+380501000004", "T0005")], start=1)]
    assert sms(world.engine, "+380501000005", "7300", "T0006", "late")[1]["replies"] == ["You are in the draw."]
    seed = "lottery of 2026-05-04: 7 14 21 28 35"
    drawn = api("POST", f"{path}/winners", brand, json_body={"winners": 3, "seed": seed})
    assert drawn.status == 200, drawn.body
    winners = drawn.json()["winners"]
    assert drawn.json()["entries"] == 5                                       # the late entry is not in it
    assert [w["place"] for w in winners] == [1, 2, 3] and len({w["caller"] for w in winners}) == 3
    assert api("POST", f"{path}/winners", brand, json_body={"winners": 3, "seed": "again"}).status == 409
    assert api("GET", f"{path}/verify", brand).json() | {"winners": None, "entries_sha256": None} == {
        "ok": True, "hash_matches": True, "winners_match": True, "winners": None, "entries_sha256": None}
    assert api("GET", path, world.keys["rival"]).status == 404

    # anyone can re-run it from the published files
    (tmp_path / "entries.csv").write_bytes(listing)
    (tmp_path / "winners.csv").write_bytes(api("GET", f"{path}/winners.csv", brand).body)
    verify = [sys.executable, "-m", "ivr.cli", "draw", "verify", str(tmp_path / "entries.csv"), "--seed", seed,
              "--winners", "3", "--sha256", draw["entries_sha256"], "--expect", str(tmp_path / "winners.csv")]
    run = subprocess.run(verify, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "SHA-256 matches" in run.stdout and "winners match" in run.stdout
    assert f"1. entry {winners[0]['entry']}  {winners[0]['caller']}" in run.stdout
    (tmp_path / "entries.csv").write_bytes(listing.replace(b"+380501000003", b"+380509999999"))
    run = subprocess.run(verify, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "SHA-256 DIFFERS" in run.stdout

    # ended (a time in the past): closed; then archived: its number is free, its results stay
    past = (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat()
    assert api("POST", "/api/campaigns/weekend-raffle/end", brand, json_body={"at": past}).json()["state"] == "ended"
    assert sms(world.engine, "+380501000006", "7300", "T0007", "x1")[1]["replies"] == ["The raffle is closed."]
    assert api("POST", "/api/campaigns/weekend-raffle/archive", brand).json()["state"] == "archived"
    assert sms(world.engine, "+380501000006", "7300", "T0007", "x2")[0] == 404
    assert api("POST", "/api/campaigns/weekend-raffle/resume", brand).status == 409
    assert api("DELETE", "/api/campaigns/weekend-raffle", brand).status == 409
    assert api("GET", "/api/campaigns/weekend-raffle/results", brand).json()["codes"]["tickets"]["redeemed"] == 6
    assert [d["id"] for d in api("GET", "/api/campaigns/weekend-raffle/draws", brand).json()] == [draw["id"]]
    assert state(world) == "archived"
    calls = api("GET", "/api/calls?campaign=weekend-raffle", brand).json()        # the brand reads its call log
    assert calls["total"] == 8 and {c["channel"] for c in calls["calls"]} == {"sms"}
    # every change is in the audit log, with who made it
    brand_id = api("GET", "/api/me", brand).json()["tenant_id"]
    log = api("GET", f"/api/audit?tenant={brand_id}&limit=100", admin).json()
    entries = log if isinstance(log, list) else log["entries"]
    done = [(e["action"], e["actor_role"]) for e in reversed(entries)]
    assert [a for a in done if a[0].split(".")[0] in ("pool", "codes", "campaign", "draw")] == [
        ("pool.create", "admin"), ("codes.import", "admin"), ("campaign.pause", "business"),
        ("campaign.resume", "business"), ("draw.freeze", "business"), ("draw.draw", "business"),
        ("campaign.end", "business"), ("campaign.archive", "business")]


def test_lifecycle_refusals(world) -> None:
    api, brand = world.api, world.keys["brand"]
    reply = api("POST", "/api/campaigns/idea/versions", brand, text=DRAFT, content_type="application/yaml")
    assert reply.status == 201
    listed = next(c for c in api("GET", "/api/campaigns", brand).json() if c["id"] == "idea")
    assert (listed["state"], listed["live_at"]) == ("draft", None)
    assert api("POST", "/api/campaigns/idea/pause", brand).status == 409                  # a draft never ran
    assert api("POST", "/api/campaigns/idea/end", brand, json_body={"at": "tomorrow"}).status == 400
    assert api("DELETE", "/api/campaigns/idea", world.keys["rival"]).status == 404
    assert api("DELETE", "/api/campaigns/idea", brand).status == 204
    assert "idea" not in [c["id"] for c in api("GET", "/api/campaigns", brand).json()]
