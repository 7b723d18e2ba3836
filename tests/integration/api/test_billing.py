"""Money over HTTP on a real engine: the admin's number inventory and leases, tariffs set by admins and read
by their tenant, premium SMS through the SMS gateway's webhook and a premium SIPp call charged as they
happen, the tenant's statement (JSON and CSV), every tenant's month for admins, a campaign's money by
day; a lease that ends stops the number answering. Amounts are strings; floats are refused."""

from __future__ import annotations

import csv
import io
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from ivr.channels.smpp.encoding import encode
from ivr.store.money import BILLING_ZONE, format_amount, next_month

from ..conftest import ROOT, SMS_TOKEN, start_engine
from .conftest import Api, make_key, vote_call, wait_for

pytestmark = pytest.mark.integration

KYIVSTAR, VODAFONE = "+380671234567", "0501234567"


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("billing")
    engine = start_engine(tmp)
    api = Api(engine)
    keys = {name: make_key(engine, tenant, role) for name, tenant, role in (
        ("demo", "demo", "business"), ("other", "other", "business"), ("admin", "ops", "admin"),
        ("operator", "demo", "operator"))}
    tenants = {t["name"]: t["id"] for t in api("GET", "/api/tenants", keys["admin"]).json()}
    try:
        yield SimpleNamespace(engine=engine, api=api, keys=keys, tenants=tenants, tmp=tmp,
                              today=datetime.now(BILLING_ZONE).date())
    finally:
        engine.stop()


def sms(shop, message_id: str, sender: str, to: str = "3838", text: str = "3"):
    return shop.api("POST", "/api/sms/inbound", json_body={"from": sender, "to": to, "text": text,
                                                           "message_id": message_id},
                    headers={"Authorization": f"Bearer {SMS_TOKEN}"})


def test_the_demo_numbers_are_leased_to_the_demo_tenant_out_of_the_box(shop) -> None:
    mine = {n["number"]: n for n in shop.api("GET", "/api/numbers", shop.keys["demo"]).json()}
    assert sorted(mine) == ["1414", "2525", "3838", "5050", "7777"]
    assert mine["3838"]["campaign_id"] == "talent-vote" and mine["3838"]["lease"]["channels"] == "both"
    assert mine["3838"]["monthly_fee_without_vat"] == "0.00"
    leased = shop.api("GET", "/api/inventory?state=leased", shop.keys["admin"]).json()
    assert {n["number"]: n["lease"]["tenant_id"] for n in leased} == {n: shop.tenants["demo"] for n in mine}
    assert shop.api("GET", "/api/inventory?state=free", shop.keys["admin"]).json() == []


def test_admins_run_the_inventory_and_businesses_claim_only_what_they_lease(shop) -> None:
    api, admin, other = shop.api, shop.keys["admin"], shop.keys["other"]
    reply = api("POST", "/api/inventory", admin, json_body={"number": "38", "class": "regular"})
    assert reply.status == 400 and reply.json()["error"] == "'38' is not a short number of 3 or 4 digits"
    reply = api("POST", "/api/inventory", admin, json_body={"number": "4545", "monthly_fee_without_vat": 1000.5})
    assert reply.status == 400 and "no floats" in reply.json()["error"]
    reply = api("POST", "/api/inventory", admin, json_body={"number": "4545", "class": "golden",
                                                           "channels": "sms", "monthly_fee_without_vat": "2500"})
    assert reply.status == 201 and reply.json()["monthly_fee_without_vat"] == "2500.00"
    assert api("POST", "/api/inventory", admin, json_body={"number": "4545"}).status == 409
    assert [n["number"] for n in api("GET", "/api/inventory?state=free", admin).json()] == ["4545"]
    reply = api("PATCH", "/api/inventory/4545", admin, json_body={"channels": "both"})
    assert reply.status == 200 and reply.json()["channels"] == "both"

    for number, status, error in (("38", 403, "number 38 is not one of the provider's numbers"),
                                  ("4545", 403, "number 4545 is not leased to you"),
                                  ("3838", 409, "number 3838 is leased to another tenant")):
        reply = api("PUT", f"/api/numbers/{number}", other, json_body={"campaign_id": None})
        assert (reply.status, reply.json()["error"].split(":")[0]) == (status, error), reply.body

    start = (shop.today - timedelta(days=3)).isoformat()
    reply = api("POST", "/api/inventory/4545/leases", admin, json_body={
        "tenant_id": shop.tenants["other"], "starts_on": start, "channels": "sms"})
    assert reply.status == 201, reply.body
    lease = reply.json()
    reply = api("POST", "/api/inventory/4545/leases", admin, json_body={
        "tenant_id": shop.tenants["demo"], "starts_on": shop.today.isoformat()})
    assert reply.status == 409 and "leased from" in reply.json()["error"]
    assert [n["number"] for n in api("GET", "/api/numbers", other).json()] == ["4545"]
    assert [x["id"] for x in api("GET", "/api/leases", other).json()] == [lease["id"]]

    # a campaign of "other" on 4545: voice is refused (leased for SMS only), SMS is served
    text = ("id: shop-line\nname: Shop line\nnumbers: {voice: [\"4545\"], sms: [\"4545\"]}\nstart: hi\n"
            "nodes:\n  hi: {type: end, text: Thanks for your message.}\n")
    reply = api("POST", "/api/campaigns/shop-line/versions?activate=1", other, text=text,
                content_type="application/yaml")
    assert reply.status == 403 and reply.json()["error"] == (
        "number 4545 is leased to you for SMS only, not for voice calls"), reply.body
    reply = api("POST", "/api/campaigns/shop-line/versions?activate=1", other,
                text=text.replace('voice: ["4545"], ', ""), content_type="application/yaml")
    assert reply.status == 201, reply.body
    reply = sms(shop, "shop-1", KYIVSTAR, to="4545")
    assert reply.status == 200 and reply.json()["replies"] == ["Thanks for your message."]

    # the lease ends yesterday: the number stops answering
    reply = api("POST", f"/api/leases/{lease['id']}/end", admin,
                json_body={"ends_on": (shop.today - timedelta(days=1)).isoformat()})
    assert reply.status == 200 and reply.json()["ends_on"] == (shop.today - timedelta(days=1)).isoformat()
    assert sms(shop, "shop-2", KYIVSTAR, to="4545").status == 404
    assert api("GET", "/api/numbers", other).json() == []
    assert api("DELETE", "/api/inventory/4545", admin).status == 409               # it has a history


def test_premium_sms_and_calls_are_charged_as_they_happen_and_stated(shop) -> None:
    api, admin, demo = shop.api, shop.keys["admin"], shop.keys["demo"]
    tariff = {"tenant_id": shop.tenants["demo"], "campaign_id": "talent-vote", "channel": "sms", "kind": "premium",
              "price_with_vat": "10.00", "shares": {"kyivstar": "45", "vodafone": "40"},
              "outbound_cost_without_vat": "0.25"}
    for change, error in (({"price_with_vat": "0.50"}, "a premium price is 1 to 50 UAH per message, VAT included"),
                          ({"price_with_vat": 10}, 'price_with_vat must be a string such as "12.50"'),
                          ({"shares": {"kyivstar": "145"}}, "shares.kyivstar cannot be more than 100 %"),
                          ({"kind": "free"}, "kind must be one of subscriber_pays, business_pays, premium"),
                          ({"campaign_id": "no-such"}, "no campaign 'no-such'"),
                          ({"valid_from": "2025-01-01T00:00:00Z"}, "a tariff takes effect at the earliest 10 s"),
                          ({"valid_from": "soon"}, "valid_from must be an ISO 8601 time")):
        reply = api("POST", "/api/tariffs", admin, json_body={**tariff, **change})
        assert reply.status in (400, 404) and reply.json()["error"].startswith(error), (change, reply.body)
    reply = api("POST", "/api/tariffs", admin, json_body=tariff)
    assert reply.status == 201, reply.body
    sms_tariff = reply.json()
    assert (sms_tariff["price_with_vat"], sms_tariff["unit"], sms_tariff["shares"], sms_tariff["vat_percent"]) == (
        "10.00", "message", {"kyivstar": "45", "vodafone": "40"}, "20")
    reply = api("POST", "/api/tariffs", admin, json_body={
        "tenant_id": shop.tenants["demo"], "campaign_id": "talent-vote", "channel": "voice", "kind": "premium",
        "unit": "call", "price_with_vat": "15.00", "shares": {"*": "50"}})
    assert reply.status == 201, reply.body
    call_tariff = reply.json()
    assert [t["id"] for t in api("GET", "/api/tariffs", demo).json()] == [sms_tariff["id"], call_tariff["id"]]
    assert api("GET", "/api/tariffs", shop.keys["other"]).json() == []

    # a tariff takes effect 10 s after it is set: a message before that is not charged by it
    starts = datetime.fromisoformat(call_tariff["valid_from"])
    assert timedelta(seconds=9) < starts - datetime.now(timezone.utc) <= timedelta(seconds=10)
    assert sms(shop, "p0", KYIVSTAR, text="hello").status == 200
    time.sleep(max(0.0, (starts - datetime.now(timezone.utc)).total_seconds()) + 0.2)
    parts = {}                              # the replies' SMS parts by recipient operator: 0.25 UAH each
    for message_id, sender, operator in (("p1", KYIVSTAR, "kyivstar"), ("p2", VODAFONE, "vodafone"),
                                         ("p1", KYIVSTAR, "kyivstar")):              # p1 delivered twice
        reply = sms(shop, message_id, sender, text="hello")
        assert reply.status == 200
        parts[operator] = parts.get(operator, 0) + sum(encode(t, 0).count for t in reply.json()["replies"])
    assert parts["kyivstar"] > 0 and parts["vodafone"] > 0
    vote_call(shop.engine, shop.tmp / "premium", "+380971112233", "3")
    month = shop.today.strftime("%Y-%m")

    def campaign_lines() -> list[dict]:
        lines = api("GET", f"/api/statement?month={month}", demo).json()["lines"]
        return [l for l in lines if l["campaign_id"] == "talent-vote"]
    lines = wait_for(lambda: len(campaign_lines()) == 5 and campaign_lines())
    by_item = {(l["item"], l["operator"]): (l["events"], l["quantity"], l["amount_without_vat"],
                                            l["revenue_with_vat"], l["share_without_vat"]) for l in lines}
    usage = 25 * (parts["kyivstar"] + parts["vodafone"])
    assert by_item == {("sms_premium", "kyivstar"): (1, 1, "0.00", "10.00", "3.75"),   # 45 % of 8.333
                       ("sms_premium", "vodafone"): (1, 1, "0.00", "10.00", "3.33"),   # 40 % of 8.333
                       ("call_premium", "kyivstar"): (1, 1, "0.00", "15.00", "6.25"),  # 50 % of 12.50
                       ("sms_outbound", "kyivstar"): (by_item[("sms_outbound", "kyivstar")][0], parts["kyivstar"],
                                                      format_amount(25 * parts["kyivstar"]), "0.00", "0.00"),
                       ("sms_outbound", "vodafone"): (by_item[("sms_outbound", "vodafone")][0], parts["vodafone"],
                                                      format_amount(25 * parts["vodafone"]), "0.00", "0.00")}
    replies = by_item[("sms_outbound", "kyivstar")][0] + by_item[("sms_outbound", "vodafone")][0]
    statement = api("GET", f"/api/statement?month={month}", demo).json()
    vat = (usage * 20 + 50) // 100
    assert statement["totals"] == {"fees_without_vat": "0.00", "usage_without_vat": format_amount(usage),
                                   "charges_without_vat": format_amount(usage), "vat": format_amount(vat),
                                   "charges_with_vat": format_amount(usage + vat), "revenue_with_vat": "35.00",
                                   "share_without_vat": "13.33", "balance_without_vat": format_amount(usage - 1333)}
    reply = api("GET", f"/api/statement.csv?month={month}", demo)
    assert reply.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(reply.body.decode())))
    assert [(r["item"], r["revenue_with_vat"], r["share_without_vat"]) for r in rows if r["campaign_id"]
            and r["item"] != "sms_outbound"] == [("call_premium", "15.00", "6.25"), ("sms_premium", "10.00", "3.75"),
                                                 ("sms_premium", "10.00", "3.33")]
    assert [(r["item"], r["amount_without_vat"]) for r in rows if not r["campaign_id"]][-1] == (
        "balance (total - share)", format_amount(usage - 1333))

    money = api("GET", "/api/campaigns/talent-vote/money", demo).json()
    assert money["totals"] == {"events": 3 + replies, "revenue_with_vat": "35.00",
                               "cost_without_vat": format_amount(usage), "share_without_vat": "13.33"}
    assert [d["revenue_with_vat"] for d in money["days"] if d["events"]] == ["35.00"]
    rows = list(csv.DictReader(io.StringIO(api("GET", "/api/campaigns/talent-vote/money.csv", demo).body.decode())))
    assert len(rows) == len(money["days"]) and sum(int(r["events"]) for r in rows) == 3 + replies

    overview = api("GET", f"/api/statements?month={month}", admin).json()
    [row] = [t for t in overview["tenants"] if t["tenant"] == "demo"]
    assert row["share_without_vat"] == "13.33"
    assert api("GET", f"/api/statement?month={month}", admin).status == 400         # which tenant?
    assert api("GET", f"/api/statement?month={month}&tenant={shop.tenants['demo']}", admin).json() == statement
    assert api("GET", "/api/statement?month=2025-13", demo).status == 400

    # the tariff taken out of force (in 10 s): messages after that cost nothing
    ends = datetime.fromisoformat(api("DELETE", f"/api/tariffs/{sms_tariff['id']}", admin).json()["valid_until"])
    time.sleep(max(0.0, (ends - datetime.now(timezone.utc)).total_seconds()) + 0.2)
    assert sms(shop, "p3", KYIVSTAR, text="hello").status == 200
    assert api("GET", "/api/campaigns/talent-vote/money", demo).json()["totals"]["events"] == 3 + replies


def test_a_node_charges_each_monthly_fee_once(tmp_path) -> None:
    """Fees are charged by a job every node runs (at start, then every 10 minutes): a lease begun two months
    ago pays three months, once, however many times the nodes start."""
    db = f"sqlite:///{tmp_path / 'ivr.db'}"
    first = (datetime.now(BILLING_ZONE).date().replace(day=1) - timedelta(days=40)).replace(day=15)
    for argv in (["keys", "create", "--tenant", "acme", "--role", "business"],
                 ["numbers", "add", "4040", "--fee", "1000.00"],
                 ["numbers", "lease", "4040", "--tenant", "acme", "--from", first.isoformat()]):
        subprocess.run([sys.executable, "-m", "ivr.cli", *argv, "--db", db], cwd=ROOT, check=True,
                       capture_output=True)
    for run in ("first", "second"):
        (tmp_path / run).mkdir()
        engine = start_engine(tmp_path / run, db_url=db)
        try:
            key = make_key(engine, "acme", "business")
            api = Api(engine)
            month = datetime.now(BILLING_ZONE).strftime("%Y-%m")
            statement = wait_for(lambda: api("GET", f"/api/statement?month={month}", key).json()["lines"] and
                                 api("GET", f"/api/statement?month={month}", key).json())
        finally:
            engine.stop()
        assert [(l["number"], l["item"], l["quantity"], l["amount_without_vat"]) for l in statement["lines"]] == [
            ("4040", "monthly_fee", 1, "1000.00")]
        assert statement["totals"]["charges_with_vat"] == "1200.00"
    with sqlite3.connect(tmp_path / "ivr.db") as conn:
        fees = conn.execute("SELECT event_key FROM charges WHERE item = 'monthly_fee' ORDER BY at").fetchall()
    months = [first.replace(day=1)]
    while len(months) < 3:
        months.append(next_month(months[-1]))
    assert [key.split(":")[2] for key, in fees] == [f"{m:%Y-%m}" for m in months]
    assert f"{months[-1]:%Y-%m}" == month
