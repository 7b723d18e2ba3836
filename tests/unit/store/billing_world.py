"""A month of money on a store, for SQLite and PostgreSQL alike: numbers, leases, tariffs and the traffic
of March 2025 (Kyiv), and the statement a reader computes from the scenario alone, with Decimal
arithmetic written here (not the store's integer code), line by line.

Tenant acme leases 3838 (golden, both channels), 7777 (SMS) and 5050 (voice, from March 15th); globex
leases 1414. In March acme has: monthly fees; premium SMS to "vote" from kyivstar, vodafone, lifecell and
unknown callers, under two tariffs (the price goes from 10 to 15 UAH on the 20th), and premium calls per
minute to the same campaign on the same number; business-paid SMS to "care"; outbound SMS parts of both;
a business-paid call to "hotline". Around it: a message id delivered twice, an SMS at 00:30 Kyiv on
March 1st (still February in UTC) and one at 00:30 on April 1st, February's traffic and fees, and
globex's traffic.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from sqlalchemy.orm import Session

from ivr.store import Store
from ivr.store import charges, tariffs, traffic
from ivr.store.connect import writing
from ivr.store.money import BILLING_ZONE
from ivr.store.rating import Tariff

UTC = timezone.utc
MONTH = date(2025, 3, 1)
TARIFFS_FROM = datetime(2025, 2, 1, tzinfo=UTC)
PRICE_CHANGE = datetime(2025, 3, 20, 10, 0, tzinfo=UTC)
FEES_RUN = datetime(2025, 3, 20, 12, 0, tzinfo=UTC)
FEES = {"3838": 250000, "7777": 100000, "5050": 80000, "1414": 90000}
OPERATOR_OF = {"+380671110001": "kyivstar", "0971110002": "kyivstar", "380681110003": "kyivstar",
               "+380501110004": "vodafone", "0661110005": "vodafone", "+380631110006": "lifecell",
               "+15550001": "unknown"}
VOTE_SHARES = {"kyivstar": "45", "vodafone": "40", "*": "35"}
QUIZ_SHARES = {"kyivstar": "50", "vodafone": "48.5"}


def kyiv(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=BILLING_ZONE).astimezone(UTC)


# (message id, caller, at) of premium SMS to vote; the first is 00:30 Kyiv on March 1st (Feb 28th UTC)
VOTE_SMS = [("k1", "+380671110001", kyiv(1, 0, 30)), ("k2", "0971110002", kyiv(3, 9)),
            ("k3", "380681110003", kyiv(19, 23, 59)), ("v1", "+380501110004", kyiv(5, 12)),
            ("v2", "0661110005", kyiv(19, 8)), ("u1", "+15550001", kyiv(7, 7)),
            ("k4", "+380671110001", kyiv(21, 10)), ("l1", "+380631110006", kyiv(25, 18))]
VOTE_OUTSIDE = [("feb", "+380671110001", kyiv(10, 10, month=2)), ("apr", "0971110002", kyiv(1, 0, 30, month=4))]
CARE_SMS = [("c1", "+380671110001", kyiv(2, 10)), ("c2", "+380501110004", kyiv(2, 11)),
            ("c3", "+15550001", kyiv(9, 15)), ("c4", "+380631110006", kyiv(28, 20))]
# (message id, campaign, number, recipient, parts, at) of outbound SMS
OUTBOUND = [("o1", "vote", "3838", "+380671110001", 1, kyiv(1, 0, 31)), ("o2", "vote", "3838", "+380501110004", 3,
            kyiv(21, 10, 1)), ("o3", "care", "7777", "+15550001", 2, kyiv(9, 15, 1))]
# (call id, campaign, number, caller, started, answered after (s), talked (s) or None)
CALLS = [("q1", "vote", "3838", "+380671110001", kyiv(4, 20), 2, 61.0),
         ("q2", "vote", "3838", "0661110005", kyiv(6, 20), 1, 59.5),
         ("q3", "vote", "3838", "+380631110006", kyiv(6, 21), None, None),
         ("q4", "vote", "3838", "+15550001", kyiv(30, 22), 3, 125.0),
         ("h1", "hotline", "5050", "0971110002", kyiv(16, 9), 4, 95.0)]
GLOBEX_SMS = [("g1", "+380671110001", kyiv(8, 8)), ("g2", "0661110005", kyiv(9, 9))]


@dataclass(frozen=True)
class World:
    acme: str
    globex: str
    tariff: dict[str, int]           # name → id


@contextmanager
def transaction(store: Store) -> Iterator[Session]:
    """A writing transaction on the store's database, as the writer thread has one."""
    with Session(writing(store.engine)) as session, session.begin():
        yield session


def percent(text: str) -> int:
    whole, _, fraction = text.partition(".")
    return int(whole) * 100 + int(fraction.ljust(2, "0"))


async def build(store: Store) -> World:
    """The numbers, leases, campaigns and tariffs (no traffic yet)."""
    acme, globex = await store.create_tenant("acme"), await store.create_tenant("globex")
    for number, channels in (("3838", "both"), ("7777", "sms"), ("5050", "voice"), ("1414", "both")):
        await store.add_number(number, "golden" if number == "3838" else "regular", channels, FEES[number])
    await store.lease_number("3838", acme.id, date(2025, 1, 10))
    await store.lease_number("7777", acme.id, date(2025, 2, 1))
    await store.lease_number("5050", acme.id, date(2025, 3, 15))
    await store.lease_number("1414", globex.id, date(2025, 3, 1))
    for tenant, campaign, voice, sms in ((acme.id, "vote", ["3838"], ["3838"]), (acme.id, "care", [], ["7777"]),
                                         (acme.id, "hotline", ["5050"], []), (globex.id, "rival", [], ["1414"])):
        await store.save_dialplan_version(tenant, campaign, f"id: {campaign}\n", "yaml",
                                          claim=(*voice, *sms), voice_numbers=tuple(voice),
                                          sms_numbers=tuple(sms))
    shares = {op: percent(p) for op, p in VOTE_SHARES.items()}
    plans = {
        "vote": Tariff(acme.id, "sms", "premium", "message", campaign_id="vote", price=1000, shares=shares,
                       outbound_cost=25),
        "care": Tariff(acme.id, "sms", "business_pays", "message", number="7777", cost=35, outbound_cost=30),
        "calls": Tariff(acme.id, "voice", "premium", "minute", campaign_id="vote", price=500,
                       shares={op: percent(p) for op, p in QUIZ_SHARES.items()}),
        "hotline": Tariff(acme.id, "voice", "business_pays", "minute", number="5050", cost=80, increment=30),
        "rival": Tariff(globex.id, "sms", "premium", "message", number="1414", price=2000, shares={"*": 5000}),
    }
    ids = {}
    with transaction(store) as session:
        for name, plan in plans.items():
            ids[name] = tariffs.set_tariff(session, plan, TARIFFS_FROM).id
    with transaction(store) as session:
        dearer = Tariff(acme.id, "sms", "premium", "message", campaign_id="vote", price=1500, shares=shares,
                        outbound_cost=25)
        ids["vote-15"] = tariffs.set_tariff(session, dearer, PRICE_CHANGE).id
    return World(acme.id, globex.id, ids)


async def traffic_of_the_month(store: Store, world: World) -> None:
    """Every event of the scenario, each through the store function the writer runs for it."""
    with transaction(store) as session:
        for campaign, number, messages in (("vote", "3838", VOTE_SMS + VOTE_OUTSIDE), ("care", "7777", CARE_SMS),
                                           ("rival", "1414", GLOBEX_SMS)):
            for message_id, caller, at in messages:
                traffic.sms_claim(session, message_id=message_id, number=number, caller=caller, text="1", at=at,
                                  campaign_id=campaign)
        again = traffic.sms_claim(session, message_id="k2", number="3838", caller="0971110002", text="1",
                                  at=kyiv(3, 9, 1), campaign_id="vote")
        assert again == (False, None)
        for message_id, campaign, number, recipient, parts, at in OUTBOUND + OUTBOUND[1:2]:
            charges.charge_sms_out(session, message_id=message_id, campaign_id=campaign, number=number,
                                   recipient=recipient, parts=parts, at=at)
        charges.charge_fees(session, datetime(2025, 2, 15, tzinfo=UTC))      # February's, on time
        assert charges.charge_fees(session, FEES_RUN) == 4                      # then March's
        assert charges.charge_fees(session, FEES_RUN) == 0
    for call_id, campaign, number, caller, started, answered, talked in CALLS:
        store.call_started(call_id=call_id, caller=caller, number=number, campaign_id=campaign, channel="voice",
                           at=started)
        end = started + timedelta(seconds=30)
        if answered is not None:
            store.call_answered(call_id, started + timedelta(seconds=answered))
            end = started + timedelta(seconds=answered + talked)
        store.call_ended(call_id=call_id, at=end, disposition="completed", cause="flow_end", path=["end"])
    store.call_ended(call_id="q1", at=kyiv(4, 21), disposition="completed", cause="flow_end", path=["end"])  # again
    await store.flush()


# -- what a reader expects, computed from the scenario with Decimal ------------------------------

def kop(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def started(seconds: float, step: int) -> Decimal:
    """How many steps of `step` seconds a call of `seconds` starts."""
    return (Decimal(str(seconds)) / step).to_integral_value(rounding=ROUND_CEILING)


def share(gross_kop: int, share_percent: str) -> int:
    """The part of a price with VAT that is the tenant's: percent of the price without 20 % VAT."""
    return kop(Decimal(gross_kop) / Decimal("1.2") * Decimal(share_percent) / 100)


def expected_lines(world: World) -> dict[tuple[str, str | None, str, str, int | None], tuple[int, int, int, int, int]]:
    """(number, campaign, item, operator, tariff id) → (events, quantity, amount, revenue, share) of acme's
    March statement."""
    lines: dict[tuple, list[int]] = {}

    def add(key: tuple, quantity: int, amount: int = 0, revenue: int = 0, part: int = 0) -> None:
        line = lines.setdefault(key, [0, 0, 0, 0, 0])
        for i, value in enumerate((1, quantity, amount, revenue, part)):
            line[i] += value

    for number in ("3838", "7777", "5050"):
        add((number, None, "monthly_fee", "", None), 1, amount=FEES[number])
    for _, caller, at in VOTE_SMS:
        operator = OPERATOR_OF[caller]
        dearer = at >= PRICE_CHANGE
        price = 1500 if dearer else 1000
        add(("3838", "vote", "sms_premium", operator, world.tariff["vote-15" if dearer else "vote"]), 1,
            revenue=price, part=share(price, VOTE_SHARES.get(operator, VOTE_SHARES["*"])))
    for _, caller, _ in CARE_SMS:
        add(("7777", "care", "sms_business_paid", OPERATOR_OF[caller], world.tariff["care"]), 1, amount=35)
    for _, campaign, number, recipient, parts, at in OUTBOUND:
        tariff = world.tariff["care"] if campaign == "care" else world.tariff[
            "vote-15" if at >= PRICE_CHANGE else "vote"]
        add((number, campaign, "sms_outbound", OPERATOR_OF[recipient], tariff), parts,
            amount=parts * (30 if campaign == "care" else 25))
    for _, campaign, number, caller, _, answered, talked in CALLS:
        if talked is None:
            continue
        operator = OPERATOR_OF[caller]
        if campaign == "vote":
            minutes = started(talked, 60)
            revenue = kop(minutes * 500)
            part = share(revenue, QUIZ_SHARES[operator]) if operator in QUIZ_SHARES else 0
            add((number, campaign, "call_premium", operator, world.tariff["calls"]), int(minutes * 60),
                revenue=revenue, part=part)
        else:
            steps = started(talked, 30)
            add((number, campaign, "call_business_paid", operator, world.tariff["hotline"]), int(steps * 30),
                amount=kop(steps * 30 * Decimal(80) / 60))
    return {key: tuple(value) for key, value in lines.items()}


def statement_lines(statement) -> dict[tuple, tuple[int, int, int, int, int]]:
    return {(l.number, l.campaign_id, l.item, l.operator, l.tariff_id): (l.events, l.quantity, l.amount, l.revenue,
                                                                         l.share) for l in statement.lines}


async def check_month(store: Store, world: World) -> None:
    """acme's March statement: every line and total as computed here; globex's apart."""
    statement = await store.statement(world.acme, MONTH)
    expected = expected_lines(world)
    assert statement_lines(statement) == expected
    amount = sum(v[2] for v in expected.values())
    fees = sum(v[2] for k, v in expected.items() if k[2] == "monthly_fee")
    revenue, part = sum(v[3] for v in expected.values()), sum(v[4] for v in expected.values())
    totals = statement.totals
    assert (totals.fees, totals.usage, totals.charges, totals.revenue, totals.share) == (
        fees, amount - fees, amount, revenue, part)
    assert totals.vat == kop(Decimal(amount) * Decimal("0.2"))
    assert totals.charges_with_vat == amount + totals.vat and totals.balance == amount - part
    everyone = await store.month_totals(MONTH)
    assert everyone[world.acme] == totals
    assert (everyone[world.globex].fees, everyone[world.globex].revenue, everyone[world.globex].share) == (
        90000, 4000, 2 * share(2000, "50"))
    days = {d.day: d for d in await store.campaign_days(world.acme, "vote", MONTH, date(2025, 4, 1))}
    assert len(days) == 31
    first = days[date(2025, 3, 1)]                          # k1 (00:30 Kyiv, Feb 28th in UTC) and o1
    assert (first.events, first.revenue, first.share, first.cost) == (2, 1000, share(1000, "45"), 25)
    assert sum(d.revenue for d in days.values()) == sum(v[3] for k, v in expected.items() if k[1] == "vote")
    assert sum(d.share for d in days.values()) == sum(v[4] for k, v in expected.items() if k[1] == "vote")
    assert sum(d.cost for d in days.values()) == 25 * 4


async def concurrent_traffic(nodes: list[Store], messages: int, calls: int) -> None:
    """On a world without traffic yet: every message and every call end delivered to every node at once (a
    gateway retrying, nodes racing), and every node running the monthly fees three times meanwhile."""
    async def sms(node: Store, n: int) -> None:
        caller = f"+38067{n:07d}" if n % 2 else f"+38050{n:07d}"
        await node.sms_claim(message_id=f"race-{n}", number="3838", caller=caller, text="1", campaign_id="vote")

    async def fees(node: Store) -> int:
        return await node.charge_fees(FEES_RUN)

    for n in range(calls):
        started = datetime.now(UTC) - timedelta(minutes=5)
        nodes[0].call_started(call_id=f"race-call-{n}", caller=f"+38050{n:07d}", number="3838", campaign_id="vote",
                              channel="voice", at=started)
        nodes[0].call_answered(f"race-call-{n}", started + timedelta(seconds=1))
    await nodes[0].flush()
    for node in nodes:
        for n in range(calls):
            node.call_ended(call_id=f"race-call-{n}", at=datetime.now(UTC) - timedelta(minutes=3),
                            disposition="completed", cause="flow_end", path=["end"])
    results = await asyncio.gather(*(sms(node, n) for n in range(messages) for node in nodes),
                                   *(fees(node) for node in nodes for _ in range(3)))
    assert sum(results[len(nodes) * messages:]) == 7           # each lease's fee once a month, whoever ran it
    for node in nodes:
        await node.flush()


async def check_concurrent(store: Store, world: World, messages: int, calls: int) -> None:
    """Each message, call and fee charged exactly once, at the price in force now."""
    statement = await store.statement(world.acme, date.fromisoformat(datetime.now(BILLING_ZONE).strftime("%Y-%m-01")))
    lines = statement_lines(statement)
    sms = {op: v for (n, c, item, op, t), v in lines.items() if item == "sms_premium"}
    assert sms == {"kyivstar": (messages // 2, messages // 2, 0, 1500 * (messages // 2),
                                messages // 2 * share(1500, "45")),
                   "vodafone": (messages // 2, messages // 2, 0, 1500 * (messages // 2),
                                messages // 2 * share(1500, "40"))}
    [quiz] = [v for k, v in lines.items() if k[2] == "call_premium"]
    assert quiz[:4] == (calls, calls * 120, 0, calls * 1000)               # 2 started minutes each
