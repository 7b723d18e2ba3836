"""Opening hours (spans past midnight, time zones with daylight saving time, start and end moments)
and branch conditions (every test, on webhook results too)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ivr.flow.conditions import holds
from ivr.flow.interpreter import FlowSession, WebhookResult
from ivr.flow.loader import load_campaign
from ivr.flow.schedule import ScheduleError, is_open


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


# 2025-01-06 is a Monday; Kyiv is UTC+2 in winter and UTC+3 from 2025-03-30 03:00 local.

@pytest.mark.parametrize("moment, expected", [
    ("2025-01-06T08:59", False), ("2025-01-06T09:00", True), ("2025-01-06T11:59", True),
    ("2025-01-06T12:00", False), ("2025-01-06T13:00", True), ("2025-01-06T17:59", True), ("2025-01-06T18:00", False),
    ("2025-01-07T10:00", False),                                   # Tuesday is not listed: closed
])
def test_opening_hours_in_utc(moment: str, expected: bool) -> None:
    schedule = {"hours": {"mon": "09:00-12:00, 13:00-18:00"}}
    assert is_open(schedule, utc(moment)) is expected


@pytest.mark.parametrize("moment, expected", [
    ("2025-01-11T21:59", False), ("2025-01-11T22:00", True), ("2025-01-11T23:59", True),   # Saturday night
    ("2025-01-12T00:00", True), ("2025-01-12T01:59", True),      # Sunday morning (Sunday itself not listed)
    ("2025-01-12T02:00", False),
    ("2025-01-11T01:00", False),                                  # Saturday morning: Friday has no night span
    ("2025-01-10T23:30", True),                                   # Friday until midnight ("24:00")
])
def test_spans_past_midnight_and_the_end_of_the_day(moment: str, expected: bool) -> None:
    schedule = {"hours": {"sat": "22:00-02:00", "fri": "20:00-24:00"}}
    assert is_open(schedule, utc(moment)) is expected


@pytest.mark.parametrize("moment, expected", [
    ("2025-01-06T06:59", False), ("2025-01-06T07:00", True), ("2025-01-06T15:59", True),
    ("2025-01-06T16:00", False),                                  # winter: 09:00-18:00 is 07:00-16:00 UTC
    ("2025-07-07T06:00", True), ("2025-07-07T05:59", False), ("2025-07-07T14:59", True),
    ("2025-07-07T15:00", False),                                  # summer: 06:00-15:00 UTC
])
def test_opening_hours_follow_daylight_saving_time(moment: str, expected: bool) -> None:
    schedule = {"timezone": "Europe/Kyiv", "hours": {"mon": "09:00-18:00"}}
    assert is_open(schedule, utc(moment)) is expected


def test_the_day_of_the_week_is_the_local_one() -> None:
    schedule = {"timezone": "America/New_York", "hours": {"sun": "20:00-22:00"}}
    assert is_open(schedule, utc("2025-01-06T02:00"))              # Monday in UTC, Sunday 21:00 in New York
    assert not is_open(schedule, utc("2025-01-05T21:00"))          # Sunday in UTC, 16:00 in New York


def test_the_night_daylight_saving_time_starts() -> None:
    schedule = {"timezone": "Europe/Kyiv", "hours": {"sun": "02:00-05:00"}}
    assert is_open(schedule, utc("2025-03-30T00:30"))              # 02:30 local (UTC+2)
    assert is_open(schedule, utc("2025-03-30T01:30"))              # 04:30 local (UTC+3 since 03:00)
    assert not is_open(schedule, utc("2025-03-30T02:00"))          # 05:00 local


def test_start_and_end_are_local_unless_they_carry_an_offset() -> None:
    schedule = {"timezone": "Europe/Kyiv", "start": "2025-12-01T09:00:00", "end": "2025-12-24T21:00:00+00:00"}
    assert not is_open(schedule, utc("2025-12-01T06:59"))
    assert is_open(schedule, utc("2025-12-01T07:00"))
    assert is_open(schedule, utc("2025-12-24T20:59"))
    assert not is_open(schedule, utc("2025-12-24T21:00"))          # the end is not included
    assert is_open(None, utc("2000-01-01T00:00")) and is_open({}, utc("2000-01-01T00:00"))


def test_an_unknown_time_zone_is_a_schedule_error() -> None:
    with pytest.raises(ScheduleError, match='unknown time zone "Mars/Olympus"'):
        is_open({"timezone": "Mars/Olympus"}, utc("2025-01-06T10:00"))


def test_a_closed_campaign_says_its_closed_text_in_the_callers_language() -> None:
    campaign = load_campaign("""
id: closed
numbers: {voice: ["1111", {number: "1112", language: uk}]}
languages: [en, uk]
schedule: {timezone: Europe/Kyiv, hours: {mon: "09:00-18:00"}, closed_text: {en: We are closed., uk: Ми зачинені.}}
start: hi
nodes:
  hi: {type: end, text: {en: Hello., uk: Привіт.}}
""")
    monday_night = utc("2025-01-06T20:00")
    assert FlowSession(campaign, "voice", "+1", "1112", now=monday_night).start()[0].parts[0].text == "Ми зачинені."
    assert FlowSession(campaign, "voice", "+1", "1111", now=utc("2025-01-06T10:00")).start()[0].parts[0].text \
        == "Hello."


# -- conditions ------------------------------------------------------------------------------------

VARIABLES = {"result": {"status": "shipped", "days": "9", "count": 3, "note": None, "items": ["a"]},
             "caller": {"number": "+441234"}, "empty": ""}


@pytest.mark.parametrize("condition, expected", [
    ({"var": "result.status", "equals": "shipped"}, True),
    ({"var": "result.count", "equals": 3}, True),
    ({"var": "result.count", "equals": "3"}, True),                 # compared as text
    ({"var": "result.missing", "equals": "shipped"}, False),
    ({"var": "result.status", "not_equals": "shipped"}, False),
    ({"var": "result.status", "not_equals": "packed"}, True),
    ({"var": "result.missing", "not_equals": "packed"}, True),      # a missing value equals nothing
    ({"var": "result.status", "in": ["packed", "shipped"]}, True),
    ({"var": "result.count", "in": [1, 2, 3]}, True),
    ({"var": "result.status", "in": ["packed"]}, False),
    ({"var": "result.missing", "in": ["packed"]}, False),
    ({"var": "result.days", "gt": 7}, True),                         # a numeric string is a number
    ({"var": "result.days", "gt": 9}, False),
    ({"var": "result.count", "lt": 3.5}, True),
    ({"var": "result.count", "lt": 3}, False),
    ({"var": "result.status", "gt": 1}, False),                      # not a number
    ({"var": "result.missing", "lt": 1}, False),
    ({"var": "result.items", "gt": 0}, False),
    ({"var": "result.status", "exists": True}, True),
    ({"var": "result.note", "exists": True}, False),                 # null in the JSON: missing
    ({"var": "result.note", "exists": False}, True),
    ({"var": "result.status.deeper", "exists": False}, True),
    ({"var": "caller.number", "matches": r"\+44.*"}, True),
    ({"var": "caller.number", "matches": r"44"}, False),              # the whole value must match
])
def test_conditions(condition: dict, expected: bool) -> None:
    assert holds(condition, VARIABLES) is expected


ROUTE = """
id: route
numbers: {voice: ["1111"], sms: ["1111"]}
start: look
nodes:
  look: {type: webhook, url: "https://shop.example/orders", next: route, failure: down}
  route:
    type: branch
    cases:
      - {if: {var: result.status, equals: shipped}, next: shipped}
      - {if: {var: result.days_late, gt: 7}, next: late}
      - {if: {var: result.status, in: [packed, picking]}, next: soon}
      - {if: {var: result.eta_days, lt: 2}, next: soon}
      - {if: {var: result.note, exists: true}, next: noted}
      - {if: {var: result.status, not_equals: lost}, next: unknown}
    default: lost
  shipped: {type: end, text: Shipped.}
  late: {type: end, text: Sorry for the delay.}
  soon: {type: end, text: "Soon: {{result.status|on its way}}."}
  noted: {type: end, text: "{{result.note}}"}
  unknown: {type: end, text: We do not know yet.}
  lost: {type: end, text: We are looking for it.}
  down: {type: end, text: Try later.}
"""


@pytest.mark.parametrize("data, node", [
    ({"status": "shipped", "days_late": 10}, "shipped"),                # the first true case wins
    ({"status": "delayed", "days_late": 10}, "late"),
    ({"status": "delayed", "days_late": "3"}, "unknown"),
    ({"status": "picking"}, "soon"),
    ({"eta_days": 1}, "soon"),
    ({"status": "lost", "note": "Call us."}, "noted"),
    ({"status": "lost"}, "lost"),
])
def test_branches_on_webhook_results(data: dict, node: str) -> None:
    for channel in ("voice", "sms"):
        session = FlowSession(load_campaign(ROUTE), channel, "+1555")
        session.start()
        session.feed(WebhookResult(True, 200, data))
        assert session.path[-1] == node and session.finished
