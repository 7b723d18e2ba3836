"""Short numbers assigned over HTTP, with real calls: a number the provider leased to the tenant, pointed at
a campaign, reaches it (and its votes are stored) until it is given up, then it answers like any number
without a campaign. A number not leased to the tenant cannot be pointed at all."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from ivr.store.money import BILLING_ZONE

from ..conftest import run_sipp, start_engine
from ..sipp_keys import key_scenario
from .conftest import Api, make_key, vote_call, wait_for

pytestmark = pytest.mark.integration


def test_an_assigned_number_reaches_the_campaign_until_it_is_released(tmp_path: Path) -> None:
    engine = start_engine(tmp_path)
    try:
        api, business = Api(engine), make_key(engine, "demo", "business")
        operator = make_key(engine, "demo", "operator")
        admin = make_key(engine, "ops", "admin")
        reply = api("PUT", "/api/numbers/3839", business, json_body={"campaign_id": "talent-vote"})
        assert reply.status == 403 and "not one of the provider's numbers" in reply.json()["error"]
        demo = next(t["id"] for t in api("GET", "/api/tenants", admin).json() if t["name"] == "demo")
        assert api("POST", "/api/inventory", admin, json_body={"number": "3839", "class": "regular",
                                                               "channels": "both"}).status == 201
        today = datetime.now(BILLING_ZONE).date().isoformat()
        reply = api("POST", "/api/inventory/3839/leases", admin, json_body={"tenant_id": demo, "starts_on": today})
        assert reply.status == 201, reply.body
        reply = api("PUT", "/api/numbers/3839", business, json_body={"campaign_id": "talent-vote"})
        assert reply.status == 200, reply.body
        assert {"number": "3839", "campaign_id": "talent-vote"}.items() <= reply.json().items()
        assert {"number": "3839", "campaign_id": "talent-vote"}.items() <= next(
            n for n in api("GET", "/api/numbers", business).json() if n["number"] == "3839").items()

        vote_call(engine, tmp_path / "assigned", "+15557001", "3", service="3839")
        [call] = wait_for(lambda: api("GET", "/api/calls?caller=%2B15557001&disposition=completed",
                                      operator).json()["calls"])
        assert (call["number"], call["campaign_id"], call["last_node"]) == ("3839", "talent-vote", "thanks")
        detail = api("GET", f"/api/calls/{call['call_id']}", operator).json()
        assert [(o["kind"], o["value"]) for o in detail["outcomes"]] == [("vote", "chloe")]
        assert api("GET", "/api/campaigns/talent-vote/results", business).json()["votes"] == {"talent": {"chloe": 1}}

        reply = api("DELETE", "/api/numbers/3839", business)
        assert (reply.status, reply.body) == (204, b"")
        mine = next(n for n in api("GET", "/api/numbers", business).json() if n["number"] == "3839")
        assert mine["campaign_id"] is None and mine["lease"]["ends_on"] is None       # still leased
        assert api("DELETE", "/api/numbers/3839", business).status == 404

        # now 3839 is a number without a campaign: the not-in-service announcement, then BYE
        released = key_scenario(tmp_path / "released.xml", [], caller="+15557002", bye_timeout_ms=20000)
        assert run_sipp(engine.sip, released, service="3839", timeout=30, workdir=tmp_path).successful == 1
        [call] = wait_for(lambda: api("GET", "/api/calls?caller=%2B15557002&disposition=completed",
                                      admin).json()["calls"])
        assert (call["number"], call["campaign_id"]) == ("3839", "")                   # no campaign's call
        assert api("GET", "/api/calls?caller=%2B15557002", operator).json()["total"] == 0
        assert api("GET", "/api/campaigns/talent-vote/results", business).json()["votes"] == {"talent": {"chloe": 1}}
    finally:
        engine.stop()
    ended = {r["from"]: r for r in engine.call_records() if r["event"] == "call_ended"}
    assert (ended["+15557001"]["campaign"], ended["+15557001"]["path"][-1]) == ("talent-vote", "thanks")
    assert (ended["+15557002"]["number"], ended["+15557002"]["campaign"], ended["+15557002"]["path"]) == (
        "3839", "", ["end"])
