"""Dialplan versions over the API with real calls: validation errors with exact paths and lines (YAML
and JSON), numbers taken by another campaign or not leased, prompts made on upload before any call, hot
activation (new calls get the new version at once, a call in progress finishes on its own), roll back, results,
CSV exports, live updates (SSE), the call log's filters and a call's timeline; seeding from dialplans/
across restarts and a second node following the store."""

from __future__ import annotations

import csv
import io
import json
import random
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from ivr.engine.campaigns import POLL_SECONDS
from ivr.media.prompt_cache import PromptCache, PromptRequest

from ..conftest import PROMPT_CACHE, ROOT, start_engine
from .conftest import Api, Background, demo_node, make_key, vote_call, wait_for

pytestmark = pytest.mark.integration

VOTE = (ROOT / "dialplans" / "vote.yaml").read_text()
V2 = VOTE.replace("value: chloe", "value: zoe")              # key 3 now votes for zoe
YAML = "application/yaml"


@pytest.fixture
def node(tmp_path: Path):
    with demo_node(tmp_path) as started:
        yield started


def test_invalid_uploads_get_422_with_exact_paths_and_lines_and_taken_numbers_409(node) -> None:
    engine, api, business, _ = node
    broken = VOTE.replace("value: chloe, next: cast}", "value: chloe, next: cats}").replace(
        "timeout: 6", "timeout: soon")
    for path in ("/api/dialplans/validate", "/api/campaigns/talent-vote/versions?activate=1"):
        reply = api("POST", path, business, text=broken, content_type=YAML)
        assert reply.status == 422, reply.body
        body = reply.json()
        assert body["error"] == "invalid dialplan"
        assert {"path": "nodes.choose.timeout", "line": 28} == {k: body["issues"][0][k] for k in ("path", "line")}
    reply = api("POST", "/api/dialplans/validate", business, text=VOTE.replace("timeout: 6", "timeout: 7")
                .replace("next: cast}", "next: cats}", 1), content_type="text/yaml")
    assert reply.status == 422
    assert [(i["path"], i["line"]) for i in reply.json()["issues"]] == [("nodes.choose.choices[0].next", 19)]
    assert "cats" in reply.json()["issues"][0]["message"]
    assert api("POST", "/api/dialplans/validate", business, text=V2, content_type=YAML).json() == {
        "ok": True, "campaign_id": "talent-vote"}

    reply = api("POST", "/api/campaigns/another-id/versions", business, text=V2, content_type=YAML)
    assert reply.status == 422
    assert [(i["path"], i["line"]) for i in reply.json()["issues"]] == [("id", 2)]

    copycat = VOTE.replace("id: talent-vote", "id: copycat").replace('sms: ["3838"]', 'sms: ["3939"]')
    for key in (business, make_key(engine, "rival", "business")):
        reply = api("POST", "/api/campaigns/copycat/versions?activate=1", key, text=copycat, content_type=YAML)
        assert reply.status == 409 and "3838" in reply.json()["error"]
    unleased = copycat.replace('voice: ["3838"]', "voice: []")
    reply = api("POST", "/api/campaigns/copycat/versions", business, text=unleased, content_type=YAML)
    assert reply.status == 403 and reply.json()["error"] == (
        "number 3939 is not one of the provider's numbers: ask your provider for a number")
    assert api("GET", "/api/campaigns/copycat/versions", business).status == 404      # nothing kept
    versions = api("GET", "/api/campaigns/talent-vote/versions", business).json()
    assert [(v["version"], v["active"]) for v in versions] == [(1, True)]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_a_json_file_is_a_version_like_its_yaml_and_its_problems_have_paths_and_lines(node, tmp_path: Path) -> None:
    engine, api, business, _ = node
    as_json = json.dumps(yaml.safe_load(V2), indent=2)
    reply = api("POST", "/api/campaigns/talent-vote/versions?activate=1", business, text=as_json,
                content_type="application/json")
    assert reply.status == 201, reply.body
    assert reply.json() == {"campaign_id": "talent-vote", "version": 2, "active": True}
    stored = api("GET", "/api/campaigns/talent-vote/versions/2", business).json()
    assert (stored["format"], stored["source"]) == ("json", as_json)
    vote_call(engine, tmp_path, "+15552101", "3")                                   # the JSON version answers
    assert wait_for(lambda: api("GET", "/api/campaigns/talent-vote/results", business).json()["votes"]) == {
        "talent": {"zoe": 1}}

    data = yaml.safe_load(VOTE)
    data["nodes"]["choose"]["timeout"] = "soon"
    data["nodes"]["choose"]["choices"][2]["next"] = "cats"
    wrong = json.dumps(data, indent=2)
    truncated = as_json[:len(as_json) // 2]
    for path in ("/api/dialplans/validate", "/api/campaigns/talent-vote/versions?activate=1"):
        reply = api("POST", path, business, text=wrong, content_type="application/json")
        assert reply.status == 422, reply.body
        issues = sorted((i["path"], i["line"]) for i in reply.json()["issues"])
        assert issues == [("nodes.choose.timeout", line_of(wrong, '"timeout": "soon"'))], reply.json()
        reply = api("POST", path, business, text=truncated, content_type="application/json")
        assert reply.status == 422, reply.body
        [issue] = reply.json()["issues"]
        assert issue["path"] == "" and issue["message"].startswith("not valid YAML or JSON")
        assert 1 <= issue["line"] <= len(truncated.splitlines()) + 1, issue
    # the unknown node is found once the types are right (semantics after the schema)
    data["nodes"]["choose"]["timeout"] = 6
    wrong = json.dumps(data, indent=2)
    reply = api("POST", "/api/dialplans/validate", business, text=wrong, content_type="application/json")
    assert [(i["path"], i["line"]) for i in reply.json()["issues"]] == [
        ("nodes.choose.choices[2].next", line_of(wrong, '"next": "cats"'))]
    versions = api("GET", "/api/campaigns/talent-vote/versions", business).json()
    assert [(v["version"], v["active"], v["format"]) for v in versions] == [(1, False, "yaml"), (2, True, "json")]


def test_an_upload_makes_its_new_prompts_before_any_call(node) -> None:
    """Prompts are made when a version is uploaded (not when it is activated, nor on a first call)."""
    engine, api, business, _ = node
    greeting = f"Welcome to lunch poll number {random.randrange(10**6, 10**7)}."      # in no cache yet
    cache = PromptCache(PROMPT_CACHE)
    key = cache.key(PromptRequest(text=greeting, language="en"))
    files = [cache.path(key, suffix) for suffix in (".pcm", ".ulaw", ".alaw")]
    assert not cache.has(key)
    try:
        reply = api("POST", "/api/campaigns/talent-vote/versions", business, content_type=YAML,
                    text=VOTE.replace("Welcome to the talent show vote.", greeting))
        assert reply.status == 201 and reply.json()["active"] is False, reply.body
        assert all(f.is_file() for f in files), files
        pcm = memoryview(files[0].read_bytes()).cast("h")                     # 16-bit 8 kHz mono
        assert len(pcm) > 8000, len(pcm)                                      # over a second of speech
        assert max(abs(s) for s in pcm) > 3000                                # not silence
        assert engine.call_records() == []
    finally:
        for f in files:
            f.unlink(missing_ok=True)


def test_hot_activation_rollback_results_exports_and_timeline(node, tmp_path: Path) -> None:
    engine, api, business, operator = node
    rival = make_key(engine, "rival", "operator")
    old = Background(vote_call, engine, tmp_path / "a", "+15552001", "3", 7.0)        # presses 3 late
    old.start()
    active = wait_for(lambda: api("GET", "/api/calls/active", operator).json(), timeout=20)
    assert [(c["campaign_id"], c["version"], c["number"]) for c in active] == [("talent-vote", 1, "3838")]
    assert api("GET", "/api/calls/active", rival).json() == []                        # not another tenant's
    reply = api("POST", "/api/campaigns/talent-vote/versions?activate=1", business, text=V2, content_type=YAML)
    assert reply.status == 201 and reply.json() == {"campaign_id": "talent-vote", "version": 2, "active": True}
    assert api("GET", "/api/calls/active", operator).json()[0]["call_id"] == active[0]["call_id"]
    vote_call(engine, tmp_path / "b", "+15552002", "3")                                # a new call: v2
    old.join()
    assert api("POST", "/api/campaigns/talent-vote/activate", business, json_body={"version": 1}).json() == {
        "campaign_id": "talent-vote", "version": 1, "active": True}                  # roll back
    vote_call(engine, tmp_path / "c", "+15552003", "3")

    def calls() -> list[dict]:
        found = api("GET", "/api/calls?campaign=talent-vote&disposition=completed", operator).json()
        return found["calls"] if found["total"] == 3 else []
    by_caller = {c["caller"]: c for c in wait_for(calls)}
    assert {k: c["version"] for k, c in by_caller.items()} == {"+15552001": 1, "+15552002": 2, "+15552003": 1}
    results = api("GET", "/api/campaigns/talent-vote/results", business).json()
    assert results["votes"] == {"talent": {"chloe": 2, "zoe": 1}}
    assert sum(n for _, n in results["calls_per_minute"]) == 3 and results["drop_off"] == {}
    versions = api("GET", "/api/campaigns/talent-vote/versions", business).json()
    assert [(v["version"], v["active"]) for v in versions] == [(1, True), (2, False)]
    assert api("GET", "/api/campaigns/talent-vote/versions/2", business).json()["source"] == V2

    # the timeline of the call on version 2
    detail = api("GET", f"/api/calls/{by_caller['+15552002']['call_id']}", operator).json()
    kinds = [e["kind"] for e in detail["events"]]
    assert kinds[0] == "answered" and "dtmf" in kinds and kinds[-1] == "end"
    assert {"kind": "match", "value": "zoe"}.items() <= {"kind": "match", **next(
        e["data"] for e in detail["events"] if e["kind"] == "match")}.items()
    assert [(o["kind"], o["value"]) for o in detail["outcomes"]] == [("vote", "zoe")]
    assert detail["path"][-1] == "thanks" and detail["recordings"] == []

    # exports
    outcomes = list(csv.DictReader(io.StringIO(api("GET", "/api/campaigns/talent-vote/outcomes.csv",
                                                   operator).body.decode())))
    assert sorted((o["caller"], o["value"]) for o in outcomes) == [
        ("+15552001", "chloe"), ("+15552002", "zoe"), ("+15552003", "chloe")]
    reply = api("GET", "/api/calls.csv?caller=%2B15552002", operator)
    assert reply.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(reply.body.decode())))
    assert [(r["caller"], r["version"], r["disposition"]) for r in rows] == [("+15552002", "2", "completed")]

    # the call log's filters
    def total(query: str) -> int:
        reply = api("GET", f"/api/calls?{query}", operator)
        assert reply.status == 200, reply.body
        return reply.json()["total"]
    later = (datetime.now(timezone.utc) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    earlier = (datetime.now(timezone.utc) - timedelta(minutes=30)).isoformat()
    assert total("number=3838") == 3 and total("number=7777") == 0
    assert total("caller=%2B15552001") == 1 and total("channel=voice") == 3 and total("channel=sms") == 0
    assert total(f"since={later}") == 0 and total(f"until={later}") == 3 and total("until=2000-01-01T00:00:00") == 0
    assert total(f"since={earlier.replace('+', '%2B')}") == 3
    page = api("GET", "/api/calls?limit=1&offset=1", operator).json()
    assert page["total"] == 3 and len(page["calls"]) == 1
    assert page["calls"][0]["call_id"] == api("GET", "/api/calls", operator).json()["calls"][1]["call_id"]
    assert api("GET", "/api/calls?since=yesterday", operator).status == 400

    # simulation over HTTP writes nothing
    for version, value in ((2, "zoe"), (1, "chloe")):
        reply = api("POST", "/api/campaigns/talent-vote/simulate", business,
                    json_body={"channel": "voice", "inputs": ["3"], "version": version})
        assert reply.status == 200, reply.body
        assert [(o["kind"], o["value"]) for o in reply.json()["outcomes"]] == [("vote", value)]
    sms = api("POST", "/api/campaigns/talent-vote/simulate", business, json_body={"channel": "sms", "inputs": ["5"]})
    assert sms.json()["path"][-1] == "thanks" and sms.json()["version"] == 1
    assert api("GET", "/api/campaigns/talent-vote/results", business).json()["votes"] == results["votes"]


def test_live_results_deliver_a_vote(node, tmp_path: Path) -> None:
    engine, api, business, _ = node
    seen: list[dict] = []
    reader = Background(api.events, "/api/campaigns/talent-vote/live", business,
                        lambda data: data["votes"].get("talent", {}).get("anna") == 1, seen)
    reader.start()
    wait_for(lambda: seen)                              # the first event comes at once
    assert seen[0]["votes"] == {}
    vote_call(engine, tmp_path, "+15553001", "1")
    reader.join(timeout=30)
    assert seen[-1]["votes"] == {"talent": {"anna": 1}} and len(seen) >= 2


def test_seeding_is_idempotent_and_a_second_node_follows_the_store(tmp_path: Path) -> None:
    plans = tmp_path / "plans"
    for folder in ("plans", "one", "two", "three", "none"):
        (tmp_path / folder).mkdir()
    (plans / "vote.yaml").write_text(VOTE)
    first = start_engine(tmp_path / "one", "--dialplans", str(plans), db_url=f"sqlite:///{tmp_path / 'ivr.db'}")
    api = Api(first)
    key = make_key(first, "demo", "business")
    first.stop()
    first = start_engine(tmp_path / "one", "--dialplans", str(plans), db_url=f"sqlite:///{tmp_path / 'ivr.db'}")
    second = None
    try:
        api = Api(first)
        versions = api("GET", "/api/campaigns/talent-vote/versions", key).json()
        assert [(v["version"], v["active"]) for v in versions] == [(1, True)]        # unchanged file: no v2
        second = start_engine(tmp_path / "two", "--dialplans", str(tmp_path / "none"), db_url=first.db_url)
        assert api("POST", "/api/campaigns/talent-vote/versions?activate=1", key, text=V2,
                   content_type=YAML).status == 201
        time.sleep(POLL_SECONDS + 1.0)                    # the second node reads the store every POLL_SECONDS
        vote_call(second, tmp_path / "call", "+15554001", "3")
        operator = make_key(second, "demo", "operator")
        calls = wait_for(lambda: Api(second)("GET", "/api/calls", operator).json()["calls"])
        assert [(c["caller"], c["version"]) for c in calls] == [("+15554001", 2)]
        assert api("GET", "/api/campaigns/talent-vote/results", key).json()["votes"] == {"talent": {"zoe": 1}}
    finally:
        first.stop()
        if second is not None:
            second.stop()
    (plans / "vote.yaml").write_text(VOTE.replace("Goodbye.\n    reason", "Bye.\n    reason"))
    third = start_engine(tmp_path / "three", "--dialplans", str(plans), db_url=f"sqlite:///{tmp_path / 'ivr.db'}")
    try:
        versions = Api(third)("GET", "/api/campaigns/talent-vote/versions", key).json()
        assert [(v["version"], v["active"]) for v in versions] == [(1, False), (2, False), (3, True)]
    finally:
        third.stop()
