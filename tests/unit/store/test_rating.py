"""Pricing one event by its tariff: premium shares by operator, business-paid costs, outbound parts,
calls per call or per started step of a minute, and tariffs refused field by field."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from ivr.store.rating import (Priced, Tariff, TariffError, billed_seconds, check_tariff, price_call, price_sms_in,
                              price_sms_out)

PREMIUM_SMS = Tariff("t", "sms", "premium", "message", campaign_id="vote", price=1000,
                     shares={"kyivstar": 4500, "*": 4000}, outbound_cost=25)
PAID_SMS = Tariff("t", "sms", "business_pays", "message", number="7777", cost=35, outbound_cost=30)
PREMIUM_MINUTE = Tariff("t", "voice", "premium", "minute", number="3838", price=500, shares={"kyivstar": 5000})


def test_a_premium_sms_credits_the_share_of_its_operator() -> None:
    assert price_sms_in(PREMIUM_SMS, "kyivstar") == Priced("sms_premium", 1, "message", 0, 1000, 375)
    assert price_sms_in(PREMIUM_SMS, "vodafone") == Priced("sms_premium", 1, "message", 0, 1000, 333)  # the "*" share
    assert price_sms_in(replace(PREMIUM_SMS, shares={}), "vodafone").share == 0


def test_business_paid_and_outbound_sms_cost_the_business() -> None:
    assert price_sms_in(PAID_SMS, "lifecell") == Priced("sms_business_paid", 1, "message", amount=35)
    assert price_sms_out(PAID_SMS, 3) == Priced("sms_outbound", 3, "part", amount=90)
    assert price_sms_out(replace(PAID_SMS, outbound_cost=0), 3) is None
    assert price_sms_in(replace(PAID_SMS, kind="subscriber_pays", cost=0), "kyivstar") is None


@pytest.mark.parametrize(("talked", "increment", "seconds"), [
    (timedelta(seconds=61), 60, 120), (timedelta(seconds=60), 60, 60), (timedelta(microseconds=1), 60, 60),
    (timedelta(0), 60, 0), (timedelta(seconds=61), 30, 90), (timedelta(seconds=61.2), 1, 62),
    (timedelta(seconds=-3), 60, 0)])
def test_calls_are_billed_in_started_steps(talked: timedelta, increment: int, seconds: int) -> None:
    assert billed_seconds(talked, increment) == seconds


def test_premium_and_free_calls_per_minute_and_per_call() -> None:
    assert price_call(PREMIUM_MINUTE, "kyivstar", timedelta(seconds=61)) == Priced(
        "call_premium", 120, "second", 0, 1000, 417)                       # 2 min × 5.00; 50 % of 8.333
    per_second = replace(PREMIUM_MINUTE, increment=1)
    assert price_call(per_second, "vodafone", timedelta(seconds=61)).revenue == 508   # 61 × 5.00 / 60 = 5.083
    assert price_call(PREMIUM_MINUTE, "kyivstar", None) is None            # never answered
    assert price_call(PREMIUM_MINUTE, "kyivstar", timedelta(0)) is None
    per_call = replace(PREMIUM_MINUTE, unit="call", price=1500)
    assert price_call(per_call, "kyivstar", timedelta(0)) == Priced("call_premium", 1, "call", 0, 1500, 625)
    free = Tariff("t", "voice", "business_pays", "minute", number="5050", cost=80, increment=30)
    assert price_call(free, "unknown", timedelta(seconds=95)) == Priced("call_business_paid", 120, "second", 160)


@pytest.mark.parametrize(("change", "message"), [
    ({"price": 99}, "premium price is 1 to 50 UAH"), ({"price": 5001}, "premium price is 1 to 50"),
    ({"kind": "free"}, "kind must be one of"), ({"unit": "minute"}, "unit of a sms tariff"),
    ({"campaign_id": None}, "one number or for one campaign"), ({"number": "3838"}, "one number or"),
    ({"increment": 0}, "increment must be 1 to 60"), ({"shares": {"kyivstar": 10001}}, "0 to 100 %"),
    ({"currency": "USD"}, "unknown currency"), ({"cost": 10}, "only a business_pays tariff has a cost"),
])
def test_tariffs_that_cannot_be_used_are_refused_with_the_field(change: dict, message: str) -> None:
    check_tariff(PREMIUM_SMS)
    with pytest.raises(TariffError, match=message):
        check_tariff(replace(PREMIUM_SMS, **change))
    with pytest.raises(TariffError, match="only a premium tariff has a price"):
        check_tariff(replace(PAID_SMS, price=100))
    with pytest.raises(TariffError, match="SMS tariffs only"):
        check_tariff(replace(PREMIUM_MINUTE, outbound_cost=10))
