"""The issue node (a code of a pool handed to the caller, read out a character at a time on calls, sent as is
by SMS, the same code again for the same caller, an exit when the pool is dry), codes redeemed from a named
pool, paused and ended campaigns answering with their closed text, and what validation says of them."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from ivr.channels.dry_run import dry_run
from ivr.channels.effects import InMemoryServices
from ivr.flow.interpreter import (
    CodeResult, End, FlowSession, IssueCode, IssuedSms, IssueResult, RedeemCode, Say, Text,
)
from ivr.flow.loader import load_campaign
from ivr.flow.validate import DialplanError

DISCOUNT = """id: discount
name: Discount
numbers: {voice: ["7200"], sms: ["7200"]}
languages: [en, uk]
schedule: {closed_text: {en: We are closed., uk: Ми зачинені.}}
start: give
nodes:
  give:
    type: issue
    pool: discounts
    name: discount
    text: {en: "Your code is {{issued.discount}}.", uk: "Ваш код {{issued.discount}}."}
    next: bye
    exhausted: none_left
  bye: {type: end, text: {en: "Show {{issued.discount}} at the till.", uk: "Покажіть {{issued.discount}} на касі."}}
  none_left: {type: end, text: {en: None left., uk: Закінчились.}}
"""
NOW = datetime(2026, 5, 4, 12, tzinfo=timezone.utc)


def said(actions: list) -> list[str | None]:
    return [part.text for action in actions if isinstance(action, Say) for part in action.parts]


def test_the_code_is_read_out_on_calls_and_sent_as_is_by_sms() -> None:
    campaign = load_campaign(DISCOUNT)
    voice = FlowSession(campaign, "voice", "+380501", "7200", now=NOW)
    assert voice.start()[-1] == IssueCode("discounts")
    actions = voice.feed(IssueResult("issued", "A7K2"))
    assert said(actions) == ["Your code is A, 7, K, 2.", "Show A7K2 at the till."]
    assert isinstance(actions[-1], End) and voice.variables["issued"] == {"discount": "A7K2"}
    sms = FlowSession(campaign, "sms", "+380501", "7200", language="uk", now=NOW)
    sms.start()
    assert said(sms.feed(IssueResult("again", "A7K2"))) == ["Ваш код A7K2.", "Покажіть A7K2 на касі."]
    assert sms.variables["issue_result"] == "again"


def test_a_dry_pool_takes_its_exit_and_a_store_that_is_down_ends_the_session() -> None:
    campaign = load_campaign(DISCOUNT)
    dry = FlowSession(campaign, "voice", "+380501", "7200", now=NOW)
    dry.start()
    assert said(dry.feed(IssueResult("exhausted"))) == ["None left."] and dry.path[-1] == "none_left"
    down = FlowSession(campaign, "voice", "+380501", "7200", now=NOW)
    down.start()
    assert down.feed(IssueResult("unavailable"))[-1] == End("store_unavailable")


def test_the_simulator_hands_out_sample_codes_once_per_caller() -> None:
    campaign = load_campaign(DISCOUNT)
    services = InMemoryServices()
    first = asyncio.run(dry_run(campaign, "sms", ["hi"], services=services))
    again = asyncio.run(dry_run(campaign, "sms", ["hi"], services=services))
    other = asyncio.run(dry_run(campaign, "sms", ["hi"], caller="+15550002", services=services))
    assert first.entries[2]["text"] == again.entries[2]["text"] == "Your code is SAMPLE0001."
    assert other.entries[2]["text"] == "Your code is SAMPLE0002."
    services.pools[("discount", "discounts")] = {"ONLY-ONE": None}
    fresh = InMemoryServices(pools=services.pools)
    assert asyncio.run(dry_run(campaign, "sms", ["hi"], services=fresh)).entries[2]["text"] == "Your code is ONLY-ONE."
    dry = asyncio.run(dry_run(campaign, "sms", ["hi"], caller="+15550003", services=fresh))
    assert dry.path == ["give", "none_left"]


@pytest.mark.parametrize("change, reason", [({"paused": True}, "paused"),
                                            ({"ends_at": NOW - timedelta(seconds=1)}, "ended")])
def test_paused_and_ended_campaigns_answer_with_their_closed_text(change: dict, reason: str) -> None:
    campaign = load_campaign(DISCOUNT)
    for name, value in change.items():
        setattr(campaign, name, value)
    session = FlowSession(campaign, "sms", "+380501", "7200", language="uk", now=NOW)
    actions = session.start()
    assert said(actions) == ["Ми зачинені."] and actions[-1] == End(reason)
    assert [e.data for e in session.events if e.kind == "closed"] == [{"node": None, "reason": reason}]
    campaign.paused, campaign.ends_at = False, NOW + timedelta(minutes=1)           # ending later: still open
    assert FlowSession(campaign, "sms", "+380501", "7200", now=NOW).start()[-1] == IssueCode("discounts")


def test_a_code_node_redeems_from_a_named_pool_unless_the_file_lists_it() -> None:
    source = """id: r
start: ask
code_pools: {inline: ["1"]}
nodes:
  ask: {type: ask, prompt: "Code?", save_as: c, next: a}
  a: {type: code, pool: inline, value: "{{c}}", next: b, used: z, invalid: z}
  b: {type: code, pool: receipts-2026, value: "{{c}}", next: z, used: z, invalid: z}
  z: {type: end}
"""
    session = FlowSession(load_campaign(source), "sms", "+1", now=NOW)
    session.start()
    assert session.feed(Text("1"))[-1] == RedeemCode("inline", "1", named=False)
    session.feed(CodeResult("redeemed"))
    assert session.awaiting == "RedeemCode" and session.current == "b"


@pytest.mark.parametrize("edit, path, message", [
    ("pool: discounts", "nodes.give.pool", "codes are handed out from an imported pool"),
    ("report", "report.every", "at least 10m between reports"),
    ("first", "report.first_after", "within a day"),
    ("bad pool", "nodes.give.pool", "does not match"),
    ("unnamed", "nodes.give.pool", "give the node a name"),
])
def test_validation_explains_what_is_wrong(edit: str, path: str, message: str) -> None:
    source = DISCOUNT
    if edit == "pool: discounts":
        source += 'code_pools: {discounts: ["X1"]}\n'
    elif edit == "report":
        source += "report: {email: [a@b.test], every: 5m}\n"
    elif edit == "first":
        source += "report: {email: [a@b.test], first_after: 25h}\n"
    elif edit == "unnamed":
        source = source.replace("pool: discounts", "pool: discounts-2026").replace("    name: discount\n", "")
    else:
        source = source.replace("pool: discounts", "pool: dis counts")
    with pytest.raises(DialplanError) as error:
        load_campaign(source)
    assert any(issue.path == path and message in issue.message for issue in error.value.issues), error.value.issues


def test_draw_and_report_headers_are_read() -> None:
    campaign = load_campaign(DISCOUNT + "draw: {entries: {vote: talent, choice: anna}, prizes_per_caller: 2}\n"
                             "report: {email: [a@b.test], first_after: 10m, every: 30m}\n")
    assert campaign.draw == {"entries": {"vote": "talent", "choice": "anna"}, "prizes_per_caller": 2}
    assert campaign.report == {"email": ["a@b.test"], "first_after": "10m", "every": "30m"}
    with pytest.raises(DialplanError):
        load_campaign(DISCOUNT + "draw: {entries: {vote: talent, answer: q}}\n")


def test_on_calls_the_issue_node_sends_the_code_by_sms_in_the_callers_language() -> None:
    """`sms:` on an issue node: on a call the code also goes by SMS from the campaign's number, rendered around
    the code (known only once issued); on SMS the reply already carries it, so no second message."""
    campaign = load_campaign(DISCOUNT.replace("    next: bye\n", "    sms: {en: \"Code {{issued.discount}} for "
                                              "{{caller.number}}\", uk: \"Код {{issued.discount}}\"}\n"
                                              "    next: bye\n", 1))
    voice = FlowSession(campaign, "voice", "+380501", "7200", language="uk", now=NOW)
    issue = voice.start()[-1]
    assert isinstance(issue, IssueCode) and issue.sms == IssuedSms("7200", ("Код ", ""))
    assert issue.sms.text("A7K2") == "Код A7K2"
    english = FlowSession(campaign, "voice", "+380501", "7200", now=NOW).start()[-1]
    assert english.sms.text("B1") == "Code B1 for +380501"
    assert FlowSession(campaign, "sms", "+380501", "7200", now=NOW).start()[-1] == IssueCode("discounts")
    services = InMemoryServices()
    asyncio.run(dry_run(campaign, "voice", [], caller="+380509", services=services))
    assert services.sms == [{"from": "7200", "to": "+380509", "text": "Code SAMPLE0001 for +380509"}]
